/**
 * Email addresses in the dot-atom form: a local part of letters, digits and the RFC 5322 specials
 * ! # $ % & ' * + / = ? ^ _ ` { | } ~ - (at most 64 characters, dots only between atoms), "@", and
 * a domain of at least two labels whose last label (the TLD) is alphabetic and at least two letters
 * long, or a punycode TLD ("xn--p1ai"). Letters and digits of any script count in both parts
 * (internationalized addresses); fullwidth forms ("＠") arrive normalized.
 *
 * Up to two spaces may stand on either side of the "@" ("jane @ example.com", a careless or deliberate
 * spelling; any blank arrives as a space). Spaced, the "@" also stands in code and prose ("x @
 * self.weights", a decorator on the next line, "meet @ cafe.com"), so a spaced address needs a TLD from
 * COMMON_TLDS.
 *
 * Scanning starts at each "@" and looks at most 66 characters left and 255 right, so the cost is
 * bounded per "@" (no regex backtracking over long runs of local-part characters).
 */
import type { Finding } from '../findings.js';
import { isAsciiLetter, isDigit } from './common.js';

const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
const MAX_AT_SPACES = 2;

/**
 * Common top-level domains: where an address is obfuscated (spaces around "@" here, "at" spelled out
 * in an identifier, see privacyGuard.ts) only these count, so "x @ self.weights" and type names such
 * as "DATA_AT_REST_IN" are not addresses. Short on purpose.
 */
export const COMMON_TLDS: ReadonlySet<string> = new Set([
  'com',
  'net',
  'org',
  'edu',
  'gov',
  'mil',
  'int',
  'io',
  'co',
  'info',
  'biz',
  'uk',
  'de',
  'fr',
  'ca',
  'au',
  'nl',
  'eu',
  'ch',
  'es',
  'jp',
  'cn',
  'ru',
  'br',
]);

// RFC 5322 atext plus the dot of a dot-atom.
const LOCAL_SPECIALS = new Set(".!#$%&'*+/=?^_`{|}~-".split(''));

// Internationalized addresses (RFC 6531): letters and digits of any script, in both parts.
const UNICODE_ALNUM = /[\p{L}\p{N}]/u;

function isUnicodeAlnum(c: string | undefined): boolean {
  return c !== undefined && c.charCodeAt(0) >= 0x80 && UNICODE_ALNUM.test(c);
}

function isLocalChar(c: string | undefined): boolean {
  return isDigit(c) || isAsciiLetter(c) || (c !== undefined && LOCAL_SPECIALS.has(c)) || isUnicodeAlnum(c);
}

function isDomainChar(c: string | undefined): boolean {
  return isDigit(c) || isAsciiLetter(c) || c === '.' || c === '-' || isUnicodeAlnum(c);
}

// The TLD: letters (any script), or its ASCII (punycode) form "xn--...".
const TLD_RE = /^(?:\p{L}{2,63}|xn--[a-z0-9-]{1,59})$/iu;

function validDomain(domain: string): boolean {
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  for (const label of labels) {
    if (label.length === 0 || label.length > 63 || label.startsWith('-') || label.endsWith('-')) return false;
  }
  return TLD_RE.test(labels[labels.length - 1] ?? '');
}

export function detectEmails(text: string): Finding[] {
  const out: Finding[] = [];
  let lastEnd = 0;
  let at = text.indexOf('@');
  while (at !== -1) {
    let localEnd = at;
    while (at - localEnd < MAX_AT_SPACES && localEnd > lastEnd && text[localEnd - 1] === ' ') localEnd--;
    let domainStart = at + 1;
    while (domainStart - at - 1 < MAX_AT_SPACES && text[domainStart] === ' ') domainStart++;
    const spaced = localEnd !== at || domainStart !== at + 1;
    let s = localEnd;
    while (s > lastEnd && localEnd - s < MAX_LOCAL + 1 && isLocalChar(text[s - 1])) s--;
    // A local part is at most 64 characters, but a longer run before "@" does not make the address
    // go away: its last 64 characters are reported, so a prefix glued on ("ref " + 60 letters +
    // "/jane.doe@example.com", "owner=team-...-jane.doe@example.com") never hides one.
    if (localEnd - s > MAX_LOCAL) s = localEnd - MAX_LOCAL;
    while (s < localEnd && text[s] === '.') s++;
    let e = domainStart;
    while (e < text.length && e - domainStart < MAX_DOMAIN && isDomainChar(text[e])) e++;
    // Trailing sentence punctuation is not part of the domain.
    while (e > domainStart && (text[e - 1] === '.' || text[e - 1] === '-')) e--;
    const local = text.slice(s, localEnd);
    const domain = text.slice(domainStart, e);
    const tldOk = !spaced || COMMON_TLDS.has((domain.slice(domain.lastIndexOf('.') + 1) || '').toLowerCase());
    if (local.length > 0 && !local.endsWith('.') && !local.includes('..') && validDomain(domain) && tldOk) {
      out.push({ type: 'EMAIL', start: s, end: e });
      lastEnd = e;
      at = text.indexOf('@', e);
      continue;
    }
    at = text.indexOf('@', at + 1);
  }
  return out;
}
