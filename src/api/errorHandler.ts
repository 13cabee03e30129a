import { StatementCutOff, TurnWaitedOut } from '../db/statementWatch.js';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, validationFailed, type ErrorCode } from '../errors.js';
import type { Violation } from '../events/violation.js';
import { requestViolations } from './requestViolations.js';
import { isDatabaseRefusing, isDatabaseUnavailable } from '../db/unavailable.js';
import { safeSegment } from '../events/privacyGuard.js';
import { LineThrottle } from '../lineThrottle.js';
import { monotonicNow } from '../monotonicClock.js';

function decodeSegment(seg: string): string {
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg; // malformed escapes: judged as written
  }
}

/**
 * A request's path as it may be echoed or logged: the path comes from the client, and each segment
 * is kept only if it carries nothing detectable (the rule for property names in refusals, safeSegment),
 * so a value typed into a URL is neither sent back nor written to the service's log. The query string
 * is dropped (a sign-in link carries its token there). `ownIds`, identifiers the service itself made
 * and the request was shown to hold (requestLogIds), are kept as they are: the detectors would
 * otherwise take one for a value now and then (a random id holding nine digits in a row, about one in
 * 28,000), leaving an operator a log line without the tenant or destination it was about.
 */
export function safePath(url: string, ownIds: readonly string[] = []): string {
  const segments = (url.split('?')[0] ?? '').split('/');
  // Each segment costs the detectors some µs, and a request line of 16 KiB holds thousands of them: an
  // attacker's review sent 404s of 7,400 one-letter segments, each 50-150 ms of the only thread,
  // twice (answer and log line), with no credentials. No route has more than nine segments (the
  // leading empty one included), so past a few more the rest are counted, not read.
  const shown = segments.slice(0, SAFE_PATH_MAX_SEGMENTS).map((seg) => {
    if (seg === '') return seg;
    const decoded = decodeSegment(seg);
    return ownIds.includes(decoded) ? decoded : safeSegment(decoded);
  });
  const rest = segments.length - shown.length;
  return rest > 0 ? `${shown.join('/')}/…(${rest} more segments)` : shown.join('/');
}

/** The segments of a path safePath reads (the leading empty one included); the rest are counted. */
export const SAFE_PATH_MAX_SEGMENTS = 16;

/**
 * The service's own identifiers in a request's path, as far as the request proved them real: the
 * organization it was authenticated for and, when the route answered below 400 (it found them in
 * that organization), the destination and replay it named.
 */
export function requestLogIds(req: FastifyRequest, status: number): string[] {
  if (req.authOrgId === undefined) return [];
  const ids = [req.authOrgId];
  if (status < 400) {
    const params = req.params as Record<string, unknown> | undefined;
    for (const name of ['destination_id', 'replay_id']) {
      const value = params?.[name];
      if (typeof value === 'string') ids.push(value);
    }
  }
  return ids;
}

/**
 * SQLSTATEs of a statement the server stopped for waiting too long: query_canceled (the API's pool
 * cancels a statement past AEGIS_DB_API_STATEMENT_TIMEOUT_MS, db/pg.ts; or a statement_timeout or
 * pg_cancel_backend set outside the service) and lock_not_available
 * (a lock_timeout or NOWAIT a role or statement set). The server rolled back the statement and the
 * transaction around it, and the request ends there: its change is not made, but for what it had
 * committed before (a dead-letter replay's earlier batches, a test probe's delivery log entry).
 */
const DATABASE_TIMEOUT_CODES = new Set(['57014', '55P03']);

/** Says the client what happened without the statement, its tables or its parameters. */
const DATABASE_TIMEOUT_MESSAGE =
  'The database did not answer in time and the request was stopped; what it had not yet committed was rolled back. Retry shortly.';

/**
 * The database's failures a retry may cure, each answered 503 with Retry-After and a message true to
 * what happened (never the statement, its tables or its parameters); null for any other error.
 */
function databaseRefusal(fe: FastifyError | Error): { message: string; level: 'warn' | 'debug'; log: string; fields: Record<string, unknown> } | null {
  const code = (fe as { code?: unknown }).code;
  if (fe instanceof StatementCutOff) {
    // Not "nothing was written": the server may still finish the statement whose connection closed.
    return {
      level: 'warn',
      fields: {},
      log: 'a database statement did not end on its cancel request and its connection was closed (AEGIS_DB_API_STATEMENT_TIMEOUT_MS); answered 503',
      message:
        'The database did not answer in time and the request was stopped, but the database may still complete it: check the result before retrying a change.',
    };
  }
  if (fe instanceof TurnWaitedOut) {
    return {
      level: 'warn',
      fields: {},
      log: 'a long change (a migration) waited its whole limit behind others (AEGIS_DB_API_STATEMENT_TIMEOUT_MS); answered 503',
      message: 'Other long changes are still running, so this one was not started; nothing was changed. Retry shortly.',
    };
  }
  // Connection-level failures: the client did nothing wrong and a retry will work, so 503, not 500.
  // The pool logs the outage once (src/db/pg.ts); one line per refused request would bury it. A
  // server out of disk, memory or connections loses no connection, so nothing else says so: warn,
  // with the SQLSTATE only (a statement's text may name tables), once per REFUSAL_LOG_PERIOD_MS.
  if (isDatabaseUnavailable(fe)) {
    return {
      level: isDatabaseRefusing(fe) ? 'warn' : 'debug',
      fields: { code },
      // 53100 (disk_full) is the one an operator fixes by hand: said in words (an operator's review
      // read only "database unavailable" while the embedded data directory's disk was full).
      log: code === DISK_FULL ? "database unavailable: the database's disk is full (SQLSTATE 53100); free space for it" : 'database unavailable',
      message: 'The database is unavailable right now; retry shortly. Nothing was written.',
    };
  }
  // Not an internal error, and no stack: the cause is outside this request (a lock held by another
  // session, an overloaded server). The SQLSTATE only; the message and the statement may name tables.
  if (typeof code === 'string' && DATABASE_TIMEOUT_CODES.has(code)) {
    return {
      level: 'warn',
      fields: { sqlstate: code },
      log: 'a database statement did not answer in time and was cancelled (AEGIS_DB_API_STATEMENT_TIMEOUT_MS); answered 503. If this repeats, look for a session holding a lock (pg_stat_activity, pg_locks)',
      message: DATABASE_TIMEOUT_MESSAGE,
    };
  }
  return null;
}

/** `details` (every problem, each with its path) is present on refusals that come from validation. */
function send(reply: FastifyReply, status: number, code: ErrorCode, message: string, details?: readonly Violation[]) {
  const error = details ? { code, message, details: details.map(({ path, message: m }) => ({ path, message: m })) } : { code, message };
  // RFC 9110 15.5.2: a 401 names the scheme it takes (the API's keys and /metrics' token are both
  // bearer credentials; a session cookie has no scheme of its own to name).
  if (status === 401) void reply.header('WWW-Authenticate', 'Bearer realm="aegis"');
  return reply.status(status).type('application/json').send({ error });
}

/** SQLSTATE disk_full: the server (or PGlite) could not extend a file. */
const DISK_FULL = '53100';

/** How often a kind of refusal is logged at most while it lasts (LineThrottle). */
export const REFUSAL_LOG_PERIOD_MS = 30_000;

/**
 * The single place where errors become HTTP. 5xx bodies say nothing about internals. `now` is the
 * clock the refusal lines are spaced by (a test's own).
 */
export function installErrorHandler(app: FastifyInstance, now: () => number = monotonicNow): void {
  const refusalLines = new LineThrottle(REFUSAL_LOG_PERIOD_MS, now);
  app.setErrorHandler((err: FastifyError | AppError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AppError) {
      if (err.details?.retryAfterS) void reply.header('Retry-After', String(err.details.retryAfterS));
      if (err.status >= 500) req.log.error({ err }, 'request failed');
      return send(reply, err.status, err.code, err.message, err.details?.violations);
    }
    const fe = err;
    if (fe.validation) {
      const refused = validationFailed(requestViolations(req, fe), fe.validationContext ?? 'body');
      return send(reply, 400, refused.code, refused.message, refused.details?.violations);
    }
    switch (fe.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return send(reply, 400, 'invalid_json', 'The request body is not valid JSON.');
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        // The limit is the route's (2 MiB by default, 12 MiB for a batch of records, 4 KiB to sign in).
        return send(reply, 413, 'payload_too_large', `The request body is larger than this endpoint accepts (${sizeText(req.routeOptions.bodyLimit)}).`);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return send(reply, 415, 'unsupported_media_type', 'Send the body as application/json.');
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return send(reply, 400, 'bad_request', 'Content-Length does not match the body.');
    }
    if (fe instanceof SyntaxError) return send(reply, 400, 'invalid_json', 'The request body is not valid JSON.');
    const status = fe.statusCode ?? 500;
    if (status >= 400 && status < 500) return send(reply, status, 'bad_request', fe.message);
    const refusal = databaseRefusal(fe);
    if (refusal) {
      if (refusal.level === 'debug') req.log.debug(refusal.fields, refusal.log);
      else {
        const heldBack = refusalLines.take(`${refusal.log} ${JSON.stringify(refusal.fields)}`);
        if (heldBack !== null) req.log.warn(heldBack > 0 ? { ...refusal.fields, refused_since_last_line: heldBack } : refusal.fields, refusal.log);
      }
      void reply.header('Retry-After', '5');
      return send(reply, 503, 'service_unavailable', refusal.message);
    }
    req.log.error({ err: { message: fe.message, stack: fe.stack, code: fe.code } }, 'unhandled error');
    return send(reply, 500, 'internal', 'Internal error; it has been logged.');
  });
  app.setNotFoundHandler((req, reply) => {
    const allowed = allowedMethods(app, req.url);
    if (allowed.length === 0) return send(reply, 404, 'not_found', `No route for ${req.method} ${safePath(req.url)}`);
    // The path is right and the method is not: say which methods it takes (RFC 9110 requires Allow on
    // a 405), so a client that sent PUT where PATCH is meant is told so instead of "no route".
    void reply.header('Allow', allowed.join(', '));
    return send(reply, 405, 'method_not_allowed', `${safePath(req.url)} does not take ${req.method}; it takes ${allowed.join(', ')}.`);
  });
}

/** The methods the service serves; HEAD comes with every GET (Fastify's exposeHeadRoutes). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The methods some route answers for this URL's path, in METHODS' order; none when the path is unknown. */
function allowedMethods(app: FastifyInstance, url: string): string[] {
  const path = url.split('?')[0] ?? '';
  return METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
}

/** A byte count as a person reads it: "12 MiB", "4 KiB", "1000 bytes". */
export function sizeText(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}
const MiB = 1024 * 1024;
