// Static checks on a destination URL, before any DNS: scheme, credentials, fragment, IP literals.
// Hostnames are checked again at connect time, on every address DNS returns (see client.ts).
import { isIP } from 'node:net';
import { isForbiddenAddress } from './addresses.js';

export const MAX_URL_LENGTH = 2048;

export type UrlCheckCode = 'invalid_url' | 'https_required' | 'credentials_in_url' | 'forbidden_address' | 'fragment_not_allowed';

export type UrlCheckResult = { ok: true; url: URL } | { ok: false; code: UrlCheckCode; message: string };

export interface UrlCheckOptions {
  allowPrivate: boolean;
}

// Said to tenants: the setting's name is the operator's (and not one to turn on for a tenant's sake).
const PRIVATE_HINT = "private and local addresses are refused (a setting of the service's operator, for development only)";

/** A scheme, "//", then the host's first character: no third slash or backslash. */
const AUTHORITY_FIRST = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/\\]/;

/** The URL's host without IPv6 brackets or a trailing dot, lower-cased. */
export function bareHostname(url: URL): string {
  let host = url.hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  while (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

export function isLocalhostName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

export function checkDestinationUrl(raw: string, { allowPrivate }: UrlCheckOptions): UrlCheckResult {
  if (typeof raw !== 'string' || raw.trim() === '') {
    return { ok: false, code: 'invalid_url', message: 'The URL is empty.' };
  }
  if (raw.length > MAX_URL_LENGTH) {
    return { ok: false, code: 'invalid_url', message: `The URL is longer than ${MAX_URL_LENGTH} characters.` };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, code: 'invalid_url', message: 'The URL could not be parsed; use a full https:// URL.' };
  }
  // The URL standard reads "https:///x", "https:/x", "https:x" and backslashes as "https://x/" for
  // http and https: a typo would quietly become a host of its own.
  if ((url.protocol === 'https:' || url.protocol === 'http:') && !AUTHORITY_FIRST.test(raw.trim())) {
    return { ok: false, code: 'invalid_url', message: `The URL needs a host right after ${url.protocol}// (https://siem.example.com/path).` };
  }
  if (url.href.length > MAX_URL_LENGTH) {
    return { ok: false, code: 'invalid_url', message: `The URL is longer than ${MAX_URL_LENGTH} characters.` };
  }
  const scheme = url.protocol;
  if (scheme !== 'https:' && !(allowPrivate && scheme === 'http:')) {
    if (scheme === 'http:') {
      // The development setting is news only to someone pointing at a local receiver: to a user who
      // typed http:// for their SIEM it would read as a setting to turn on.
      const local = localReason(bareHostname(url)) !== null;
      return {
        ok: false,
        code: 'https_required',
        message: local ? `The URL must use https:// (${PRIVATE_HINT}).` : 'Use https://: audit events and your credential must not travel unencrypted.',
      };
    }
    return { ok: false, code: 'https_required', message: 'The URL must use https://.' };
  }
  if (url.username !== '' || url.password !== '') {
    return {
      ok: false,
      code: 'credentials_in_url',
      message: 'The URL must not contain a user name or password; put the credential in the auth header instead.',
    };
  }
  if (url.href.includes('#')) {
    return { ok: false, code: 'fragment_not_allowed', message: 'The URL must not contain a #fragment.' };
  }
  const host = bareHostname(url);
  if (host === '') {
    return { ok: false, code: 'invalid_url', message: 'The URL has no host.' };
  }
  // WHATWG URL keeps ":0" (it drops only the scheme's default port): no server listens there, so the
  // destination could never deliver; said now rather than as a connection error on every attempt.
  if (url.port === '0') {
    return { ok: false, code: 'invalid_url', message: 'The URL names port 0; use the port the SIEM listens on (1-65535), or none for 443.' };
  }
  const reason = allowPrivate ? null : localReason(host);
  if (reason !== null) {
    const what = reason === 'localhost' ? 'localhost' : `${/^[aeiou]/.test(reason) ? 'an' : 'a'} ${reason} address (${host})`;
    return { ok: false, code: 'forbidden_address', message: `The URL points at ${what}; ${PRIVATE_HINT}.` };
  }
  return { ok: true, url };
}

/** Why a URL's host (bareHostname) is local, without resolving it: an address literal's reason, or 'localhost'. */
function localReason(host: string): string | null {
  if (isIP(host) !== 0) return isForbiddenAddress(host);
  return isLocalhostName(host) ? 'localhost' : null;
}

/** A URL that passed checkDestinationUrl, in the forms a request is sent with. */
export interface CheckedTarget {
  /** bareHostname of the URL (for failure hints). */
  readonly host: string;
  /** scheme://host[:port], what undici picks (or opens) an origin's connections by. */
  readonly origin: string;
  /** The path and query of the request line. */
  readonly path: string;
}

export type TargetCheckResult = { ok: true; target: CheckedTarget } | { ok: false; code: UrlCheckCode; message: string; host?: string };

/** URLs a checker keeps the answer for: above the destinations a worker sends to at once (1,000). */
export const CHECKED_URLS_KEPT = 4096;

/**
 * checkDestinationUrl for one setting of allowPrivate, remembering the URLs that passed: every request
 * of a destination is sent to the same URL, and parsing and checking it again (three parses, its
 * host, origin and path) cost about 3 µs per request. The check depends on nothing but the text and
 * allowPrivate, so a remembered answer is the answer. Refused URLs are checked every time (rare, and
 * their text is unbounded). At most `keep` are remembered; past that the oldest goes first.
 */
export function urlChecker(allowPrivate: boolean, keep = CHECKED_URLS_KEPT): (raw: string) => TargetCheckResult {
  const passed = new Map<string, TargetCheckResult & { ok: true }>();
  return (raw) => {
    const known = passed.get(raw);
    if (known) return known;
    const checked = checkDestinationUrl(raw, { allowPrivate });
    if (!checked.ok) {
      const refused: TargetCheckResult = { ok: false, code: checked.code, message: checked.message };
      if (URL.canParse(raw)) refused.host = bareHostname(new URL(raw));
      return refused;
    }
    const url = checked.url;
    // Frozen: one answer is handed to every request to this URL.
    const result = Object.freeze({
      ok: true as const,
      target: Object.freeze({ host: bareHostname(url), origin: url.origin, path: url.search ? `${url.pathname}${url.search}` : url.pathname }),
    });
    if (passed.size >= Math.max(1, keep)) passed.delete(passed.keys().next().value!);
    passed.set(raw, result);
    return result;
  };
}
