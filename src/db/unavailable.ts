import { monotonicNow } from '../monotonicClock.js';

/**
 * Whether an error means "the database cannot be reached right now" (server restarting or shutting
 * down, connection cut or refused, pool timed out waiting for a connection), or cannot take work right
 * now (out of disk, memory or connections; read-only), rather than a problem with the statement: the
 * server refused it and wrote nothing, and a later retry may succeed. Callers wait and retry these;
 * the API answers 503 + Retry-After "Nothing was written". The one list of such errors, for the API's
 * error handler and the worker alike.
 */
const UNAVAILABLE_CODES = new Set([
  // Node sockets
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTCONN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  // PostgreSQL SQLSTATE: admin_shutdown, crash_shutdown, cannot_connect_now (starting up / shutting
  // down), and the connection_exception class.
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  // The login refused (invalid_authorization_specification, invalid_password: a rotated password, a
  // role set NOLOGIN) and the database gone (invalid_catalog_name: dropped, or not yet restored): the
  // server is there but will not serve this process until an operator acts. No statement ran, so the
  // API's answer is a 503 (never a 500 with a stack per request), and the worker waits as for an outage.
  '28000',
  '28P01',
  '3D000',
]);

/**
 * Refusals with the connection fine (nobody else logs them, and the next try may meet the same):
 * SQLSTATE class 53, insufficient_resources: 53000 (e.g. too many open files), 53100 disk_full (what
 * PostgreSQL and PGlite raise when a table or index cannot grow: "could not extend file ...: No space
 * left on device"), 53200 out_of_memory, 53300 too_many_connections (max_connections, or a role's or
 * database's CONNECTION LIMIT), 53400 configuration_limit_exceeded; and 25006,
 * read_only_sql_transaction: a write sent to a server that is (still, or now) a standby during a
 * failover, or one a managed service put in read-only mode as its disk filled. The statement failed
 * and its transaction rolled back: nothing written, and the cause is the server's state, not the
 * request.
 */
const REFUSAL_CLASS = '53';
const READ_ONLY = '25006';

/**
 * Whether the server refused a write as read-only (25006). A connection that answered so stays on that
 * server, and a server that was demoted in a failover stays read-only: the pools close such a
 * connection rather than keep it (pg.ts), so the next one is opened to wherever the address now leads.
 */
export function isReadOnlyRefusal(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === READ_ONLY;
}

/** Whether the server refused for want of disk, memory, connections or a configured limit, or as read-only. */
export function isDatabaseRefusing(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code } = err as { code?: unknown };
  return typeof code === 'string' && code.length === 5 && (code.startsWith(REFUSAL_CLASS) || code === READ_ONLY);
}

// node-postgres reports some of these as plain Errors without a code.
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed|the database system is (?:starting up|shutting down|in recovery mode)/i;

export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  if (isDatabaseRefusing(err)) return true;
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message);
}

/**
 * Runs a statement, and while the database is unreachable (a restart, a failover) tries it again
 * every second or so for up to `forMs`: the worker settles sent requests this way, since settling
 * their outcome once the server is back saves the SIEM a second copy (the claim id still fences the
 * jobs, so a late settle never touches jobs another worker has claimed meanwhile). Past `forMs`, or
 * once `stopping()`, it gives up and throws: the claim expires into due work, at least once as always.
 */
export async function whileDatabaseAway<T>(forMs: number, stopping: () => boolean, fn: () => Promise<T>): Promise<T> {
  const deadline = monotonicNow() + forMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await fn();
    } catch (err) {
      if (!isDatabaseUnavailable(err) || stopping() || monotonicNow() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
