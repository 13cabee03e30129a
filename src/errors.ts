/**
 * The one error catalogue. Code that refuses something throws an AppError with a stable machine
 * code; the API's single error handler maps it to HTTP as `{"error": {"code", "message"}}`.
 */
import { MAX_REPORTED_VIOLATIONS, describePath, type Violation } from './events/violation.js';

export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  invalid_json: 400,
  unauthorized: 401,
  // The session cookie sent twice (auth.ts sessionCookie): not signed in, and a new link alone will
  // not help, so the dashboard shows the message instead of its sign-in page.
  session_conflict: 401,
  forbidden: 403,
  csrf_failed: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  limit_reached: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  headers_too_large: 431,
  rate_limited: 429,
  service_unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: { field?: string; retryAfterS?: number; violations?: readonly Violation[] },
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
/**
 * A refusal of one field. `field` is named as the message names it: a body field ("url",
 * "auth.token_url", "events[3].summary"), a query parameter ("cursor"), "body" for the whole
 * document, or a JSON Pointer ("/filter/aegis.actor_id/$in/1"). `details` carries the same problem
 * with the field's JSON Pointer, as a schema refusal does, so a client maps every validation_failed
 * to its field one way (an API client's review found a third of them without `details`). A caller
 * naming a key the client chose (which may hold "." or "[") passes the pointer itself.
 */
export const invalid = (field: string, message: string, pointer = fieldPointer(field)) =>
  new AppError('validation_failed', `${field}: ${message}`, { field, violations: [{ path: pointer, message }] });

/** "auth.token_url" -> "/auth/token_url", "events[3].summary" -> "/events/3/summary", "body" -> "". */
export function fieldPointer(field: string): string {
  if (field === 'body' || field === '') return '';
  if (field.startsWith('/')) return field;
  const segments = field
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((s, i) => !(i === 0 && s === 'body'));
  return segments.map(pointerSegment).join('');
}

/** One segment of a JSON Pointer, "/" included, with RFC 6901's escapes for "~" and "/". */
export const pointerSegment = (segment: string): string => `/${segment.replace(/~/g, '~0').replace(/\//g, '~1')}`;

/**
 * A refusal that lists every problem found (up to MAX_REPORTED_VIOLATIONS), each with its path, so a
 * client fixes a record in one round trip. The message names the first problem, as every
 * validation_failed message always has; the API answers the list as `error.details`.
 */
export function validationFailed(violations: readonly Violation[], whole = 'body'): AppError {
  const [first] = violations;
  if (!first) return invalid(whole, 'is not valid');
  const field = describePath(first.path, whole);
  const more = violations.length - 1;
  const suffix =
    violations.length > MAX_REPORTED_VIOLATIONS
      ? ` (more problems follow; the first ${MAX_REPORTED_VIOLATIONS} are listed in error.details)`
      : more > 0
        ? ` (${more} more problem${more === 1 ? '' : 's'} listed in error.details)`
        : '';
  return new AppError('validation_failed', `${field}: ${first.message}${suffix}`, {
    field,
    violations: violations.slice(0, MAX_REPORTED_VIOLATIONS),
  });
}
