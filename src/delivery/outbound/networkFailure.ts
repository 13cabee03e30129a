// Which NetworkFailure class a thrown network error belongs to. undici wraps the telling error
// (a socket reset inside UND_ERR_SOCKET, each address's error inside happy eyeballs' AggregateError),
// so the innermost coded error is found first, then its code is classified.
import { FORBIDDEN_ERROR_CODE } from './guardedLookup.js';
import type { NetworkFailure } from './types.js';

/**
 * Informational (1xx) answers one request accepts before its final one. A legitimate server sends one
 * or two: a 103 Early Hints from the origin and perhaps one from a CDN in front of it, or a 102
 * Processing (WebDAV's, dropped in RFC 4918) now and then on a slow request; 100 Continue is never
 * asked for (no Expect header). Each one's head is size-capped (undici's header limit, 16 KiB), but
 * nothing else bounded how many arrive: a peer sending them back to back had the worker parse tens to
 * hundreds of MB per request for its whole timeout, stalling every other tenant's requests. 8 leaves
 * room for every such case (a 102 sent as a heartbeat more often than that per request would be
 * refused too), and holds what a request parses before its answer to 9 heads (under 150 KiB).
 */
export const MAX_INFORMATIONAL_ANSWERS = 8;
/** The code of a request ended because its peer sent more than MAX_INFORMATIONAL_ANSWERS of them. */
export const TOO_MANY_INFORMATIONAL_CODE = 'EAEGISTOOMANY1XX';

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
  'EPROTO',
  'HOSTNAME_MISMATCH',
]);

export function failureFor(code: string | undefined, name: string | undefined): NetworkFailure {
  if (code === FORBIDDEN_ERROR_CODE) return 'forbidden_address';
  // A peer that broke HTTP's rules (as undici's "bad response"): no network class fits, and calling it
  // a timeout or a reset would send the user looking at the wrong thing.
  if (code === TOO_MANY_INFORMATIONAL_CODE) return 'other';
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  if (!code) return 'other';
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
    case 'EAI_NONAME':
    case 'ENODATA':
    case 'ESERVFAIL':
    case 'ECONNREFUSED_DNS':
      return 'dns';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ABORT_ERR':
      return 'timeout';
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'ECONNABORTED':
      return 'reset';
    default:
      break;
  }
  if (TLS_CODES.has(code) || code.startsWith('CERT_') || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return 'tls';
  }
  return 'other';
}

export interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The most telling error: the cause of a wrapper, the first of an AggregateError (happy eyeballs). */
export function innermost(err: unknown): ErrorLike {
  let current = (err ?? {}) as ErrorLike;
  for (let depth = 0; depth < 5; depth++) {
    if (Array.isArray(current.errors) && current.errors.length > 0 && typeof current.code !== 'string') {
      current = current.errors[0] as ErrorLike;
      continue;
    }
    const cause = current.cause as ErrorLike | undefined;
    if (cause && typeof cause === 'object' && (typeof cause.code === 'string' || typeof current.code !== 'string')) {
      // Prefer a coded cause (e.g. UND_ERR_SOCKET caused by ECONNRESET keeps the socket code).
      if (typeof current.code === 'string' && current.code.startsWith('UND_ERR_SOCKET') && typeof cause.code === 'string') {
        current = cause;
        continue;
      }
      if (typeof current.code !== 'string') {
        current = cause;
        continue;
      }
    }
    break;
  }
  return current;
}
