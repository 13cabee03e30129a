// Helpers the SIEM forms' format hints share, and the generic hints every form gets first.
//
// BROWSER-SAFE: the dashboard bundles this file. No node: imports, no Node-only globals; base64
// goes through atob/btoa, which Node 20 and every browser provide.

import { headerNameProblem } from '../destinations/headerRules.js';
import type { FormatHint, FormatHintInput, SiemForm } from './form.js';

export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw.trim());
  } catch {
    return undefined;
  }
}

export function withPath(u: URL, path: string): string {
  const copy = new URL(u.toString());
  copy.pathname = path;
  copy.search = '';
  copy.hash = '';
  return copy.toString();
}

/** Decode standard or URL-safe base64 (padding optional); undefined when it is not base64 text. */
export function decodeBase64(value: string): string | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value) || value.length < 4) return undefined;
  let s = value.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (s.length % 4 === 1) return undefined;
  while (s.length % 4 !== 0) s += '=';
  try {
    const binary = atob(s);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    // Printable ASCII only: an API key decodes to plain text.
    return /^[\x20-\x7e]+$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

export function encodeBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Split "Scheme rest" when the first word is the given scheme (case-insensitive). */
export function stripScheme(value: string, scheme: string): { had: number; rest: string } {
  let had = 0;
  let rest = value.trim();
  for (;;) {
    const m = /^(\S+)\s+(.*)$/s.exec(rest);
    if (!m || m[1]!.toLowerCase() !== scheme.toLowerCase()) break;
    had++;
    rest = m[2]!.trim();
  }
  return { had, rest };
}

/**
 * The hints for a credential sent as "<scheme> <value>" ("Splunk <token>", "ApiKey <encoded>"): the
 * prefix missing (a warning; `missing` says what the SIEM answers then) or written more than once (an
 * error), each with its fix. `stripped` is stripScheme's answer for the value; `placeholder` names
 * the value in the example ("<token>").
 */
export function schemePrefixHints(
  scheme: string,
  stripped: { had: number; rest: string },
  text: { placeholder: string; missing: string },
  hints: FormatHint[],
): void {
  const { had, rest } = stripped;
  if (had === 0) {
    hints.push({
      field: 'auth_header_value',
      severity: 'warning',
      message: text.missing,
      fix: { label: `Add the ${scheme} prefix`, value: `${scheme} ${rest}` },
    });
  } else if (had > 1) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: `The ${scheme} prefix appears twice; send it once ("${scheme} ${text.placeholder}").`,
      fix: { label: 'Keep one prefix', value: `${scheme} ${rest}` },
    });
  }
}

/** The hints every SIEM's form gets before its own: URL shape, header name and header value. */
export function genericHints(form: Pick<SiemForm, 'urlLabel' | 'urlPlaceholder'>, input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void {
  if (input.url.trim() === '') {
    hints.push({ field: 'url', severity: 'error', message: `Paste your ${form.urlLabel}, for example ${form.urlPlaceholder}.` });
    return;
  }
  if (!u) {
    hints.push({
      field: 'url',
      severity: 'error',
      message: `This is not a complete URL. Paste the full address, starting with https://, for example ${form.urlPlaceholder}.`,
    });
    return;
  }
  if (u.protocol === 'http:') {
    const fixed = new URL(u.toString());
    fixed.protocol = 'https:';
    hints.push({
      field: 'url',
      severity: 'error',
      message: 'Use https://: audit events and your credential must not travel unencrypted.',
      fix: { label: 'Switch to https://', value: fixed.toString() },
    });
  } else if (u.protocol !== 'https:') {
    hints.push({ field: 'url', severity: 'error', message: 'The URL must start with https://.' });
  }
  if (u.username !== '' || u.password !== '') {
    hints.push({
      field: 'url',
      severity: 'error',
      message: 'Remove the user name and password from the URL; put the credential in the auth header instead.',
    });
  }
  const name = input.authHeaderName?.trim() ?? '';
  const value = input.authHeaderValue ?? '';
  // The same rule (and sentence) as the API's 400, so the form never accepts what the server refuses.
  const nameProblem = name === '' ? null : headerNameProblem(name);
  if (nameProblem !== null) hints.push({ field: 'auth_header_name', severity: 'error', message: nameProblem });
  if (/[\r\n\0]/.test(value)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'The header value contains a line break; paste the credential on a single line.',
      fix: { label: 'Remove line breaks', value: value.replace(/[\r\n\0]+/g, '').trim() },
    });
  } else if (value !== value.trim() && value.trim() !== '') {
    hints.push({
      field: 'auth_header_value',
      severity: 'info',
      message: 'Leading or trailing spaces will be removed.',
      fix: { label: 'Trim', value: value.trim() },
    });
  }
}

/** An error hint when the header name is set and is none of the ones this SIEM reads. */
export function expectHeaderName(input: FormatHintInput, allowed: readonly string[], hints: FormatHint[]): void {
  const name = input.authHeaderName?.trim() ?? '';
  if (name === '' || allowed.some((a) => a.toLowerCase() === name.toLowerCase())) return;
  hints.push({
    field: 'auth_header_name',
    severity: 'error',
    message: `This SIEM reads the credential from the ${allowed.join(' or ')} header, not ${name}.`,
    fix: { label: `Use ${allowed[0]!}`, value: allowed[0]! },
  });
}
