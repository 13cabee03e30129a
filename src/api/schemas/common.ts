import { Type, type TRef } from 'typebox';
import { DESTINATION_ID_PATTERN, ORG_ID_PATTERN } from '../../ids.js';
import { ErrorResponseSchema } from './published.js';
import { patternMeans } from '../../events/violation.js';

/**
 * The one error body (schemas/api-bodies.schema.json#/$defs/ErrorResponse), registered once under
 * this $id; every route's 4xx and 5xx answers refer to it.
 */
export const ErrorBody = { ...ErrorResponseSchema, $id: 'ErrorBody', description: 'Every 4xx and 5xx answer has this shape.' };

export const OrgParams = Type.Object({ org_id: Type.String({ pattern: ORG_ID_PATTERN, maxLength: 64 }) }, { additionalProperties: false });
export const DestinationParams = Type.Object(
  {
    org_id: Type.String({ pattern: ORG_ID_PATTERN, maxLength: 64 }),
    destination_id: Type.String({ pattern: DESTINATION_ID_PATTERN, maxLength: 64 }),
  },
  { additionalProperties: false },
);

/** What each error status means on this API (the code field says which case). */
const ERROR_MEANING = {
  400: 'validation_failed (details lists every problem), invalid_json or bad_request.',
  401: "unauthorized: no credentials, an API key that is not valid, or an expired session; session_conflict: the session cookie sent twice (clear the site's cookies).",
  403: "csrf_failed: a cookie-authenticated write without the session's x-csrf-token header; forbidden: an operation that takes an API key (making sign-in links), called with a dashboard session.",
  404: "not_found: no such resource, or another organization's.",
  409: 'limit_reached or conflict.',
  410: 'The sign-in link is unknown, used or expired.',
  413: 'payload_too_large: the request body (or a part of it) is over its limit.',
  415: 'unsupported_media_type: send the body as application/json.',
  429: 'rate_limited: too many requests: this organization already has AEGIS_API_MAX_CONCURRENT_PER_ORG requests being served and its queue was full or the wait ran out, or the credential is one this server has not accepted before and such credentials are arriving faster than they are checked (AEGIS_API_NEW_CREDENTIALS_PER_SECOND); Retry-After says when to try again.',
  500: 'internal: an unexpected error, logged; the body says nothing more.',
  503: 'service_unavailable: the database is unreachable or did not answer in time (AEGIS_DB_API_STATEMENT_TIMEOUT_MS), or the request raced a change; retry. Retry-After is set.',
} as const;
export type ErrorStatus = keyof typeof ERROR_MEANING;

/**
 * The headers error answers carry (errors.md), declared so that a generated client exposes them (an
 * API client's review found Retry-After sent but in no schema): when to try again, and the scheme a
 * 401 takes (errorHandler.ts).
 */
const RETRY_AFTER = { 'retry-after': { description: 'Seconds to wait before trying again.', type: 'string', pattern: '^[0-9]+$' } } as const;
const ERROR_HEADERS: Partial<Record<ErrorStatus, Record<string, { description: string; type: string; pattern?: string }>>> = {
  401: { 'www-authenticate': { description: 'Bearer realm="aegis": the scheme the API takes.', type: 'string' } },
  429: RETRY_AFTER,
  503: RETRY_AFTER,
};

/** The error answers of a route, each the shared ErrorBody; `overrides` say more for a route. */
export function errors<S extends ErrorStatus>(statuses: readonly S[], overrides: Partial<Record<ErrorStatus, string>> = {}) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      Type.Ref('ErrorBody', { description: overrides[s] ?? ERROR_MEANING[s], ...(ERROR_HEADERS[s] ? { headers: ERROR_HEADERS[s] } : {}) }),
    ]),
  ) as {
    [K in S]: TRef<'ErrorBody'>;
  };
}

/**
 * Every route of the API (onRequest requireOrg, then the organization's admission: api/orgAdmission.ts):
 * a bad path, no or wrong credentials, no such resource, too many of the organization's requests at once.
 */
const READ = [400, 401, 404, 429, 500, 503] as const;
/** A write also parses a body (any method but GET may carry one) and checks the CSRF header of a session. */
const WRITE = [...READ, 403, 413, 415] as const;
export const readErrors = (...more: ErrorStatus[]) => errors([...READ, ...more]);
export const writeErrors = (...more: ErrorStatus[]) => errors([...WRITE, ...more]);

/**
 * Security requirements as /openapi.json states them (schemes declared in app.ts): the API takes a
 * bearer API key or the dashboard's session cookie, whose writes also carry the CSRF header.
 */
type Requirement = Record<string, string[]>;
export const SECURITY: Record<'none' | 'apiKey' | 'apiRead' | 'apiWrite' | 'session' | 'sessionWrite', Requirement[]> = {
  none: [],
  apiKey: [{ apiKey: [] }],
  apiRead: [{ apiKey: [] }, { session: [] }],
  apiWrite: [{ apiKey: [] }, { session: [], csrf: [] }],
  session: [{ session: [] }],
  sessionWrite: [{ session: [], csrf: [] }, { apiKey: [] }],
};

/** Route schema key: the body may be left out (app.ts marks requestBody not required). */
export const OPTIONAL_BODY = 'x-body-optional';

/**
 * A page size in a query string: the digits of a whole number from 1 to `max`, checked by pattern,
 * since query strings are text and the API never coerces them. `max` is a digit followed by zeros
 * (100, 500, 1000), which keeps the pattern a plain range; 0, a leading zero or anything over `max`
 * is refused with 400, as every list answers, rather than quietly clamped. `what` starts the
 * description ("Events per page", or "Replays to list" for a list without pages).
 */
export function pageLimit(max: number, fallback: number, what: string) {
  const digits = String(max);
  if (!/^[1-9]0+$/.test(digits)) throw new Error(`pageLimit: ${max} is not a digit followed by zeros`);
  const lead = Number(digits[0]);
  const zeros = digits.length - 1;
  const shorter = `[1-9][0-9]{0,${zeros - 1}}`;
  const sameLength = lead > 1 ? `|[1-${lead - 1}][0-9]{${zeros}}` : '';
  const pattern = `^(?:${shorter}${sameLength}|${digits})$`;
  // A refusal says the range, not the pattern's generic "characters or a length" message.
  patternMeans(pattern, `must be a whole number from 1 to ${max}`);
  // The default is the schema's (no validator here applies defaults): OpenAPI shows it, and pageSize
  // reads it, so each list states its default once.
  return Type.Optional(Type.String({ pattern, default: String(fallback), description: `${what}, 1 to ${max} (default ${fallback}).` }));
}

/** The page size a request asked for, or its list's default as its pageLimit schema states it. */
export function pageSize(limit: string | undefined, schema: object): number {
  const fallback = (schema as { default?: unknown }).default;
  if (typeof fallback !== 'string') throw new Error('pageSize: the schema is not a pageLimit');
  return Number(limit ?? fallback);
}

/** What an Idempotency-Key may be: 1 to 255 visible ASCII characters (a UUID is usual). */
const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7E]{1,255}$';
patternMeans(IDEMPOTENCY_KEY_PATTERN, 'must be 1 to 255 visible ASCII characters, without spaces (a UUID, for example)');

/**
 * The Idempotency-Key request header (IETF httpapi draft, as payment APIs take it): a client that
 * retries after a timeout sends the same key, and the retry does not act twice. Declared so that the
 * OpenAPI document and generated clients carry it; other headers are let through.
 */
export const IdempotencyKeyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description: 'Optional. A key of your choosing per operation (a UUID): retried with the same key, the request does not act twice.',
    }),
  ),
});
