import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText, getSession, logout, type Session } from './api.js';
import { SignedOut } from './components/SignedOut.js';
import { ActivityPage } from './pages/ActivityPage.js';
import { NotificationsPage } from './pages/NotificationsPage.js';
import { SiemForwardingPage } from './pages/SiemForwardingPage.js';
import { ACTIVITY, NOTIFICATIONS, PAGE, pageOf, signedOutTitle, titleOf, usePath } from './router.js';
import { focusPageHeading } from './components/SettingsHeader.js';

type SessionState =
  { kind: 'loading' } | { kind: 'signed-out'; reason: 'none' | 'logout' } | { kind: 'error'; text: string } | { kind: 'ok'; session: Session };

export function App() {
  const [path, navigate] = usePath();
  const [state, setState] = useState<SessionState>({ kind: 'loading' });
  // Stable across renders: the destinations hook refreshes when it changes, and every navigation
  // re-renders App (it owns the path), which refetched the list and stats on opening any dialog.
  const signedOut = useCallback(() => setState({ kind: 'signed-out', reason: 'none' }), []);
  useEffect(() => {
    getSession()
      .then((s) => setState(s ? { kind: 'ok', session: s } : { kind: 'signed-out', reason: 'none' }))
      .catch((e: unknown) => setState({ kind: 'error', text: errorText(e) }));
    if (window.location.pathname === '/' || window.location.pathname === '/settings') window.history.replaceState(null, '', PAGE);
  }, []);

  const signedOutReason = state.kind === 'signed-out' ? state.reason : null;
  useEffect(() => {
    document.title = signedOutReason ? signedOutTitle(signedOutReason) : titleOf(path);
  }, [path, signedOutReason]);

  // Another Settings page replaced the one in view (its sub-navigation, Back): focus its heading, which
  // a screen reader announces, as a page load would. The link pressed is gone with the old page, and
  // focus fell to <body>, back at the top of the document. Not on the first page shown, nor for a
  // dialog with its own address (Edit, the delivery log), which moves focus itself.
  const page = pageOf(path);
  const shownPage = useRef(page);
  useEffect(() => {
    if (shownPage.current === page) return;
    shownPage.current = page;
    focusPageHeading();
  }, [page]);

  const signOut = async () => {
    try {
      await logout();
      setState({ kind: 'signed-out', reason: 'logout' });
    } catch (e) {
      setState({ kind: 'error', text: errorText(e) });
    }
  };

  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <span className="brand">
            <svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
              <path d="M12 2 4 5v6c0 5 3.4 9.4 8 11 4.6-1.6 8-6 8-11V5l-8-3Z" fill="currentColor" />
            </svg>
            Aegis
          </span>
          {state.kind === 'ok' ? (
            <div className="topbar-right">
              <span className="org" title={state.session.org_id}>
                {state.session.org_name}
              </span>
              <button type="button" className="button-ghost small on-dark" onClick={() => void signOut()}>
                Sign out
              </button>
            </div>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {state.kind === 'loading' ? <p className="busy page-pad">Loading…</p> : null}
        {state.kind === 'error' ? (
          <div className="page-pad">
            <div className="result result-failed" role="alert">
              {state.text}
            </div>
          </div>
        ) : null}
        {state.kind === 'signed-out' ? <SignedOut reason={state.reason} /> : null}
        {state.kind === 'ok' && path === NOTIFICATIONS ? <NotificationsPage orgId={state.session.org_id} navigate={navigate} /> : null}
        {state.kind === 'ok' && path === ACTIVITY ? <ActivityPage orgId={state.session.org_id} navigate={navigate} /> : null}
        {state.kind === 'ok' && path !== NOTIFICATIONS && path !== ACTIVITY ? (
          <SiemForwardingPage session={state.session} path={path} navigate={navigate} onSignedOut={signedOut} />
        ) : null}
      </main>
    </>
  );
}
