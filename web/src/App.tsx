import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { destinationsApi, errorText, getSession, logout, type CardStats, type Destination, type Session } from './api.js';
import { DestinationCard } from './components/DestinationCard.js';
import { AddDestination } from './components/AddDestination.js';
import { EditDestination } from './components/EditDestination.js';
import { FailedEvents } from './components/FailedEvents.js';
import { DeleteDestination } from './components/DeleteDestination.js';
import { ReplayRange } from './components/ReplayRange.js';
import { NotificationSettings } from './components/NotificationSettings.js';
import { Activity } from './components/Activity.js';
import { DeliveryLog } from './components/DeliveryLog.js';
import { filtersFromSearch, LOG_PATH, logHref } from './deliveryLog.js';
import { plural } from './format.js';

const PAGE = '/settings/siem-forwarding';
const NOTIFICATIONS = '/settings/notifications';
const ACTIVITY = '/settings/activity';
const editPath = (id: string) => `${PAGE}/${encodeURIComponent(id)}/edit`;

/**
 * The tiny router: the only client routes are the page, a destination's Edit modal and its delivery
 * log (whose filters ride in the query string, so the failing hint can link to them).
 */
function usePath(): [string, (p: string) => void] {
  const [path, setPath] = useState(() => window.location.pathname + window.location.search);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname + window.location.search);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((p: string) => {
    if (p !== window.location.pathname + window.location.search) window.history.pushState(null, '', p);
    setPath(p);
  }, []);
  return [path, navigate];
}

type SessionState =
  { kind: 'loading' } | { kind: 'signed-out'; reason: 'none' | 'logout' } | { kind: 'error'; text: string } | { kind: 'ok'; session: Session };

export function App() {
  const [path, navigate] = usePath();
  const [state, setState] = useState<SessionState>({ kind: 'loading' });
  useEffect(() => {
    getSession()
      .then((s) => setState(s ? { kind: 'ok', session: s } : { kind: 'signed-out', reason: 'none' }))
      .catch((e: unknown) => setState({ kind: 'error', text: errorText(e) }));
    if (window.location.pathname === '/' || window.location.pathname === '/settings') window.history.replaceState(null, '', PAGE);
  }, []);

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
        {state.kind === 'ok' && path === NOTIFICATIONS ? <Notifications orgId={state.session.org_id} navigate={navigate} /> : null}
        {state.kind === 'ok' && path === ACTIVITY ? <ActivityPage orgId={state.session.org_id} navigate={navigate} /> : null}
        {state.kind === 'ok' && path !== NOTIFICATIONS && path !== ACTIVITY ? (
          <SiemForwarding session={state.session} path={path} navigate={navigate} onSignedOut={() => setState({ kind: 'signed-out', reason: 'none' })} />
        ) : null}
      </main>
    </>
  );
}

function SignedOut({ reason }: { reason: 'none' | 'logout' }) {
  return (
    <section className="signed-out page-pad" aria-labelledby="signed-out-title">
      <h1 id="signed-out-title">{reason === 'logout' ? 'You are signed out' : 'Sign in to Aegis'}</h1>
      <p>
        Open the one-time sign-in link that <code>npm start</code> printed, or ask for a new one with <code>aegis-stream login-link --org &lt;org id&gt;</code>.
        Each link works once, for 15 minutes.
      </p>
    </section>
  );
}

type Dialog = { kind: 'add' } | { kind: 'failed'; id: string } | { kind: 'delete'; id: string } | { kind: 'replay'; id: string } | null;

/** The Settings pages, in the order the sub-navigation lists them. */
const SETTINGS_PAGES: ReadonlyArray<{ href: string; title: string }> = [
  { href: PAGE, title: 'SIEM Forwarding' },
  { href: NOTIFICATIONS, title: 'Notifications' },
  { href: ACTIVITY, title: 'Activity' },
];

/** Every Settings page's head: the breadcrumb, the title and the sub-navigation, the current page marked. */
function SettingsHeader({ current, navigate }: { current: string; navigate: (p: string) => void }) {
  const title = SETTINGS_PAGES.find((p) => p.href === current)?.title ?? '';
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <ol>
          <li>Settings</li>
          <li>
            <a
              href={current}
              aria-current="page"
              onClick={(e) => {
                e.preventDefault();
                navigate(current);
              }}
            >
              {title}
            </a>
          </li>
        </ol>
      </nav>
      <div className="page-head">
        <div>
          <h1>Settings</h1>
          <SettingsNav current={current} navigate={navigate} />
        </div>
      </div>
    </>
  );
}

/** The Settings sub-navigation: one link per page, the current one marked. */
function SettingsNav({ current, navigate }: { current: string; navigate: (p: string) => void }) {
  const link = (href: string, text: string) => (
    <a
      key={href}
      href={href}
      aria-current={current === href ? 'page' : undefined}
      onClick={(e) => {
        e.preventDefault();
        navigate(href);
      }}
    >
      {text}
    </a>
  );
  return (
    <nav aria-label="Settings sections" className="subnav">
      {SETTINGS_PAGES.map((p) => link(p.href, p.title))}
    </nav>
  );
}

function Notifications({ orgId, navigate }: { orgId: string; navigate: (p: string) => void }) {
  return (
    <div className="page">
      <SettingsHeader current={NOTIFICATIONS} navigate={navigate} />
      <section aria-labelledby="notifications-title" className="section">
        <h2 id="notifications-title">Notifications</h2>
        <NotificationSettings orgId={orgId} />
      </section>
    </div>
  );
}

function ActivityPage({ orgId, navigate }: { orgId: string; navigate: (p: string) => void }) {
  return (
    <div className="page">
      <SettingsHeader current={ACTIVITY} navigate={navigate} />
      <section aria-labelledby="activity-title" className="section">
        <h2 id="activity-title">Activity</h2>
        <p className="muted">
          Every change to forwarding configuration, newest first. Each one is also sent to your SIEM destinations as an audit event
          {' ('}
          <code>event.dataset: aegis.audit_stream</code>). Field names only, never values.
        </p>
        <Activity orgId={orgId} />
      </section>
    </div>
  );
}

function SiemForwarding({ session, path, navigate, onSignedOut }: { session: Session; path: string; navigate: (p: string) => void; onSignedOut: () => void }) {
  const api = useMemo(() => destinationsApi(session.org_id), [session.org_id]);
  const [destinations, setDestinations] = useState<Destination[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  // Background replays started from this page (Send history, Replay a time range): the card follows each.
  const [replays, setReplays] = useState<Record<string, string>>({});
  const followReplay = (destinationId: string, replayId: string) => setReplays((r) => ({ ...r, [destinationId]: replayId }));
  const [stats, setStats] = useState<Map<string, CardStats> | null>(null);

  // Refreshes overlap (the 15 s tick, a dialog's change, a click): only the latest one started may set
  // the cards, or a slow earlier answer would bring back a state from before the change (e.g. Disabled
  // just after Done enabled the destination).
  const refreshGeneration = useRef(0);
  const refresh = useCallback(async () => {
    const generation = ++refreshGeneration.current;
    try {
      // The cards' charts and running replays come in one request per page of destinations, beside the list itself.
      const [list, charts] = await Promise.all([api.list(), api.allStats().catch(() => new Map<string, CardStats>())]);
      if (generation !== refreshGeneration.current) return;
      setDestinations(list);
      setStats(charts);
      // A replay running when the page looked (started from the API, the CLI or another tab) is
      // followed like one started here, until it ends and after (its card shows how it ended); a newer
      // one running takes its place.
      const running = [...charts].filter(([, s]) => s.running_replay_id !== null);
      if (running.length > 0) {
        setReplays((r) => {
          const fresh = running.filter(([id, s]) => r[id] !== s.running_replay_id);
          return fresh.length === 0 ? r : { ...r, ...Object.fromEntries(fresh.map(([id, s]) => [id, s.running_replay_id!])) };
        });
      }
      setLoadError(null);
    } catch (e) {
      if (e instanceof Error && 'status' in e && (e as { status: number }).status === 401) onSignedOut();
      else if (generation === refreshGeneration.current) setLoadError(errorText(e));
    }
  }, [api, onSignedOut]);

  useEffect(() => {
    void refresh();
    const t = window.setInterval(() => {
      if (document.visibilityState === 'visible') void refresh();
    }, 15_000);
    return () => window.clearInterval(t);
  }, [refresh]);

  const [pathname, search = ''] = path.split('?');
  const editMatch = /^\/settings\/siem-forwarding\/([^/]+)\/edit$/.exec(pathname!);
  const editingId = editMatch ? decodeURIComponent(editMatch[1]!) : null;
  const editing = editingId && destinations ? destinations.find((d) => d.destination_id === editingId) : undefined;
  const logMatch = LOG_PATH.exec(pathname!);
  const logId = logMatch ? decodeURIComponent(logMatch[1]!) : null;
  const logDest = logId && destinations ? destinations.find((d) => d.destination_id === logId) : undefined;
  const byId = (id: string) => destinations?.find((d) => d.destination_id === id);

  const toggle = async (d: Destination) => {
    setBusyId(d.destination_id);
    try {
      await api.patch(d.destination_id, { enabled: !d.enabled });
      await refresh();
      setNotice(
        d.enabled ? 'Destination disabled: audit events stop forwarding; re-enable it at any time.' : 'Destination enabled: live events are forwarded.',
      );
    } catch (e) {
      setNotice(errorText(e));
    } finally {
      setBusyId(null);
    }
  };

  /** Resume & replay: lifts the hold limit's pause and queues the dead-lettered events again. */
  const resume = async (d: Destination) => {
    setBusyId(d.destination_id);
    try {
      const res = await api.replay(d.destination_id);
      await refresh();
      setNotice(`Destination resumed: ${plural(res.replayed, 'dead-lettered event')} queued again for delivery.`);
    } catch (e) {
      setNotice(errorText(e));
    } finally {
      setBusyId(null);
    }
  };

  const failedDest = dialog?.kind === 'failed' ? byId(dialog.id) : undefined;
  const deleteDest = dialog?.kind === 'delete' ? byId(dialog.id) : undefined;
  const replayDest = dialog?.kind === 'replay' ? byId(dialog.id) : undefined;

  return (
    <div className="page">
      <SettingsHeader current={PAGE} navigate={navigate} />

      <section aria-labelledby="siem-title" className="section">
        <div className="section-head">
          <div>
            <h2 id="siem-title">SIEM Forwarding</h2>
            <p className="muted">
              Every audit event is forwarded to each enabled destination, at least once, with retries. Credentials are stored encrypted and never shown again.
            </p>
          </div>
          <button type="button" className="button-primary" onClick={() => setDialog({ kind: 'add' })}>
            Add destination
          </button>
        </div>

        <div aria-live="polite" className="live-region">
          {notice ? (
            <div className="notice" data-testid="notice">
              <span>{notice}</span>
              <button type="button" className="icon-button" onClick={() => setNotice(null)} aria-label="Dismiss">
                <span aria-hidden="true">×</span>
              </button>
            </div>
          ) : null}
        </div>
        {loadError ? (
          <div className="result result-failed" role="alert">
            {loadError}
          </div>
        ) : null}

        {destinations === null ? (
          <p className="busy">Loading destinations…</p>
        ) : destinations.length === 0 ? (
          <div className="empty">
            <h3>No destinations yet</h3>
            <p>Add Splunk HEC, Datadog Logs, Sumo Logic, Elastic, New Relic or any HTTPS webhook. Nothing streams until you say so.</p>
          </div>
        ) : (
          <>
            <p className="visually-hidden">{plural(destinations.length, 'destination')}</p>
            <div className="cards">
              {destinations.map((d) => (
                <DestinationCard
                  key={d.destination_id}
                  api={api}
                  destination={d}
                  hours={stats ? (stats.get(d.destination_id)?.hours ?? []) : null}
                  editHref={editPath(d.destination_id)}
                  onEdit={(e) => {
                    e.preventDefault();
                    navigate(editPath(d.destination_id));
                  }}
                  logHref={(f) => logHref(d.destination_id, f)}
                  onOpenLog={(e, href) => {
                    e.preventDefault();
                    navigate(href);
                  }}
                  onResume={() => void resume(d)}
                  onToggle={() => void toggle(d)}
                  onFailedEvents={() => setDialog({ kind: 'failed', id: d.destination_id })}
                  onDelete={() => setDialog({ kind: 'delete', id: d.destination_id })}
                  onReplayRange={() => setDialog({ kind: 'replay', id: d.destination_id })}
                  replayId={replays[d.destination_id] ?? null}
                  onReplayFinished={() => void refresh()}
                  busy={busyId === d.destination_id}
                />
              ))}
            </div>
          </>
        )}
        {(editingId && destinations && !editing) || (logId && destinations && !logDest) ? (
          <div className="result result-failed" role="alert">
            That destination no longer exists.
          </div>
        ) : null}
      </section>

      {dialog?.kind === 'add' ? (
        <AddDestination
          api={api}
          onClose={() => setDialog(null)}
          onChanged={() => void refresh()}
          onHistorySent={(destinationId, res) => {
            if (res.replay_id) followReplay(destinationId, res.replay_id);
            else setNotice(`History sent: ${plural(res.replayed, 'event')} queued for delivery.${res.message ? ` ${res.message}` : ''}`);
          }}
        />
      ) : null}
      {replayDest ? (
        <ReplayRange
          api={api}
          destination={replayDest}
          onClose={() => setDialog(null)}
          onStarted={(replayId) => followReplay(replayDest.destination_id, replayId)}
          onChanged={() => void refresh()}
        />
      ) : null}
      {editing ? (
        <EditDestination key={editing.destination_id} api={api} destination={editing} onClose={() => navigate(PAGE)} onChanged={() => void refresh()} />
      ) : null}
      {logDest ? (
        <DeliveryLog
          key={`${logDest.destination_id}?${search}`}
          api={api}
          destination={logDest}
          initial={filtersFromSearch(search)}
          onClose={() => navigate(PAGE)}
        />
      ) : null}
      {failedDest ? <FailedEvents api={api} destination={failedDest} onClose={() => setDialog(null)} onChanged={() => void refresh()} /> : null}
      {deleteDest ? (
        <DeleteDestination
          api={api}
          destination={deleteDest}
          onClose={() => setDialog(null)}
          onDeleted={(cleared) => {
            setDialog(null);
            // Its card (and the Delete button that opened the dialog) is gone: land on the page itself.
            void refresh().then(() => {
              setNotice(`Destination deleted; ${plural(cleared, 'queued event')} cleared.`);
              document.getElementById('main')?.focus();
            });
          }}
        />
      ) : null}
    </div>
  );
}
