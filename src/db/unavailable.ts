/**
 * Whether an error means "the database cannot be reached right now" (server restarting or shutting
 * down, connection cut or refused, pool timed out waiting for a connection) rather than a problem
 * with the statement. Callers wait and retry these; the API answers 503 + Retry-After. The one list
 * of such errors, for the API's error handler and the worker alike.
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
]);

// node-postgres reports some of these as plain Errors without a code.
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed|the database system is (?:starting up|shutting down|in recovery mode)/i;

export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
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
  const deadline = Date.now() + forMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await fn();
    } catch (err) {
      if (!isDatabaseUnavailable(err) || stopping() || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
