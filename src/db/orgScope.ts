import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The organization a piece of work is for, carried through its awaits, timers and callbacks: the API
 * runs each route handler of an authenticated request inside it (api/orgAdmission.ts), and the API's
 * pool reads it to share its connections fairly between organizations (db/pg.ts, db/fairSlots.ts).
 * Here in src/db, the lowest layer that reads it, so that the database seam needs nothing above it.
 * Work outside any scope (authentication, health, sign-in, start-up) has none.
 */
const scope = new AsyncLocalStorage<string>();

/** Runs `fn` (and everything it starts) as work for `orgId`. */
export function inOrgScope<T>(orgId: string, fn: () => T): T {
  return scope.run(orgId, fn);
}

/** The organization the current work is for, if any. */
export function currentOrgScope(): string | undefined {
  return scope.getStore();
}
