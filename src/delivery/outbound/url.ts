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

const PRIVATE_HINT = 'local destinations are refused unless AEGIS_ALLOW_PRIVATE_DESTINATIONS=1 (development only)';

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
  if (url.href.length > MAX_URL_LENGTH) {
    return { ok: false, code: 'invalid_url', message: `The URL is longer than ${MAX_URL_LENGTH} characters.` };
  }
  const scheme = url.protocol;
  if (scheme !== 'https:' && !(allowPrivate && scheme === 'http:')) {
    if (scheme === 'http:') {
      return { ok: false, code: 'https_required', message: `The URL must use https:// (${PRIVATE_HINT}).` };
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
  if (!allowPrivate) {
    if (isIP(host) !== 0) {
      const reason = isForbiddenAddress(host);
      if (reason !== null) {
        return {
          ok: false,
          code: 'forbidden_address',
          message: `The URL points at a ${reason} address (${host}); ${PRIVATE_HINT}.`,
        };
      }
    } else if (isLocalhostName(host)) {
      return {
        ok: false,
        code: 'forbidden_address',
        message: `The URL points at localhost; ${PRIVATE_HINT}.`,
      };
    }
  }
  return { ok: true, url };
}
