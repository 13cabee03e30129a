import { useCallback, useEffect, useState } from 'react';
import { LOG_PATH } from './deliveryLog.js';

export const PAGE = '/settings/siem-forwarding';
export const NOTIFICATIONS = '/settings/notifications';
export const ACTIVITY = '/settings/activity';
export const editPath = (id: string) => `${PAGE}/${encodeURIComponent(id)}/edit`;
const EDIT_PATH = /^\/settings\/siem-forwarding\/([^/]+)\/edit$/;
/** The destination id of an Edit path (editPath's inverse), or null. */
export const editedId = (pathname: string): string | null => {
  const m = EDIT_PATH.exec(pathname);
  return m ? decodeURIComponent(m[1]!) : null;
};

/**
 * The address in view, without a trailing slash: "/settings/notifications/" (typed, or a link that
 * joined parts; the server answers it with the dashboard too) showed SIEM Forwarding, as no page's path
 * matched it (an attacker's review). The address bar is corrected to match.
 */
function currentPath(): string {
  const { pathname, search } = window.location;
  const canonical = pathname.length > 1 ? pathname.replace(/\/+$/, '') || '/' : pathname;
  if (canonical !== pathname) window.history.replaceState(window.history.state, '', canonical + search);
  return canonical + search;
}

/**
 * The tiny router: the only client routes are the page, a destination's Edit modal and its delivery
 * log (whose filters ride in the query string, so the failing hint can link to them).
 */
export function usePath(): [string, (p: string) => void] {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const onPop = () => setPath(currentPath());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((p: string) => {
    if (p !== window.location.pathname + window.location.search) window.history.pushState(null, '', p);
    setPath(p);
  }, []);
  return [path, navigate];
}

/** The Settings page a path belongs to: a destination's Edit and delivery log open over SIEM Forwarding. */
export function pageOf(path: string): string {
  const pathname = path.split('?')[0] ?? path;
  return pathname === NOTIFICATIONS ? NOTIFICATIONS : pathname === ACTIVITY ? ACTIVITY : PAGE;
}

/**
 * The browser tab's title for a path: the view's name first, so tabs and history tell pages apart, and
 * the dialogs that have their own address (Edit, the delivery log) too, as a screen reader reads it.
 */
export function titleOf(path: string): string {
  const pathname = path.split('?')[0] ?? path;
  const page = pageOf(path);
  const name = page === NOTIFICATIONS ? 'Notifications' : page === ACTIVITY ? 'Activity' : 'SIEM Forwarding';
  const view = editedId(pathname) !== null ? 'Edit destination — ' : LOG_PATH.test(pathname) ? 'Delivery log — ' : '';
  return `${view}${name} — Aegis`;
}

/** The title while no one is signed in: the page then says "You are signed out" or "Sign in", not the path's page. */
export const signedOutTitle = (reason: 'none' | 'logout') => (reason === 'logout' ? 'Signed out — Aegis' : 'Sign in — Aegis');
