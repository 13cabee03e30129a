/**
 * Email addresses in the dot-atom form: a local part of letters, digits and the RFC 5322 specials
 * ! # $ % & ' * + / = ? ^ _ ` { | } ~ - (at most 64 characters; not starting with a dot, and not
 * after an ellipsis), "@", and
 * a domain of at least two labels whose last label (the TLD) is alphabetic and at least two letters
 * long, or a punycode TLD ("xn--p1ai"). Letters, digits and combining marks of any script count in
 * both parts, and pictographs (emoji) in the local part (internationalized addresses, RFC 6531); the
 * scan reads code points, not UTF-16 units, so a letter outside the Basic Multilingual Plane counts
 * too. Fullwidth forms ("＠") arrive normalized.
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

// Internationalized addresses (RFC 6531): letters, digits and combining marks of any script, in both
// parts. The marks matter: the vowel signs of Indic scripts are spacing marks (Mc, which normalization
// keeps; the non-spacing ones it drops), so without them "अनिल@example.com" ends at its first vowel
// sign and the rest of the name stays unmasked. Pictographs may stand in a local part too
// ("a😀b@example.com"; the joiners and variation selectors between them are dropped by then).
// The replacement character counts as a letter: it is what a decoder made of one it could not read
// ("jos\uFFFD@example.com" from a Latin-1 "é"), and the rest of the address is no less personal.
const UNICODE_WORD = /^[\p{L}\p{N}\p{M}\uFFFD]$/u;
const UNICODE_LOCAL = /^[\p{L}\p{N}\p{M}\p{Extended_Pictographic}\p{Emoji_Modifier}\uFFFD]$/u;

/** The code point ending just before `i`, as text: two units for a surrogate pair. */
function codePointBefore(text: string, i: number): string {
  if (isLowSurrogate(text.charCodeAt(i - 1)) && i >= 2) {
    const high = text.charCodeAt(i - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.slice(i - 2, i);
  }
  return text.slice(i - 1, i);
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** The code point starting at `i`, as text. */
function codePointAt(text: string, i: number): string {
  const cp = text.codePointAt(i);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

function isLocalChar(c: string): boolean {
  if (c.length === 1 && c.charCodeAt(0) < 0x80) return isDigit(c) || isAsciiLetter(c) || LOCAL_SPECIALS.has(c);
  return UNICODE_LOCAL.test(c);
}

function isDomainChar(c: string): boolean {
  if (c.length === 1 && c.charCodeAt(0) < 0x80) return isDigit(c) || isAsciiLetter(c) || c === '.' || c === '-';
  return UNICODE_WORD.test(c);
}

// The TLD: letters (any script, with their marks: "भारत"), or its ASCII (punycode) form "xn--...".
const TLD_RE = /^(?:\p{L}[\p{L}\p{M}]{1,62}|xn--[a-z0-9-]{1,59})$/iu;

/**
 * The start of a last label glued to the text after it: its ASCII letters, or its letters and marks
 * of another script. Text written without spaces (Chinese, Japanese, Thai) runs on from an address
 * ("jane@example.com电话...", "...comまたは090-..."), and so may a number ("jane@example.com2024").
 */
const GLUED_TLD = /^(?:[a-z]{2,63}|\p{L}[\p{L}\p{M}]{1,62})/iu;

const ASCII_ONLY = /^[ -~]*$/;

/** Where the domain starting at `start` and ending before `end` ends once a glued tail is cut, or -1. */
function gluedDomainEnd(text: string, start: number, end: number): number {
  // Within the domain only (as above: not the text before it, once per "@").
  const inDomain = text.slice(start, end).lastIndexOf('.');
  if (inDomain === -1) return -1;
  const dot = start + inDomain;
  const m = GLUED_TLD.exec(text.slice(dot + 1, end));
  return m === null || dot + 1 + m[0].length === end ? -1 : dot + 1 + m[0].length;
}

/** A domain's last label (its TLD when the domain is one). */
/** Digits and a separator an address's local part allows, before a name that starts with no digit. */
const NUMBER_BEFORE_NAME = /^[0-9]{1,19}(?:[-.][0-9]{1,19}){0,7}[/+=-](?=[^0-9])/;

function lastLabel(domain: string): string {
  return domain.slice(domain.lastIndexOf('.') + 1);
}

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
    while (s > lastEnd && localEnd - s < MAX_LOCAL + 1) {
      const c = codePointBefore(text, s);
      if (s - c.length < lastEnd || !isLocalChar(c)) break;
      s -= c.length;
    }
    // A local part is at most 64 characters, but a longer run before "@" does not make the address
    // go away: its last 64 characters are reported, so a prefix glued on ("ref " + 60 letters +
    // "/jane.doe@example.com", "owner=team-...-jane.doe@example.com") never hides one. Never half a
    // surrogate pair: the cut moves right past one.
    if (localEnd - s > MAX_LOCAL) {
      s = localEnd - MAX_LOCAL;
      if (isLowSurrogate(text.charCodeAt(s))) s++;
    }
    // An ellipsis is prose ("Sending...jane@example.com"): the address starts after it.
    // Searched within the local part's run only: a search of the whole text before each "@" made
    // a text of many "@" quadratic.
    const ellipsis = text.slice(s, localEnd).lastIndexOf('...');
    if (ellipsis !== -1) s += ellipsis + 3;
    while (s < localEnd && text[s] === '.') s++;
    let e = domainStart;
    while (e < text.length && e - domainStart < MAX_DOMAIN) {
      const c = codePointAt(text, e);
      if (!isDomainChar(c)) break;
      e += c.length;
    }
    // Trailing sentence punctuation is not part of the domain.
    while (e > domainStart && (text[e - 1] === '.' || text[e - 1] === '-')) e--;
    const local = text.slice(s, localEnd);
    let domain = text.slice(domainStart, e);
    // Cut when the domain is no domain as it stands, or when its last label runs from ASCII letters on
    // into another script: no top-level domain mixes the two ("comまたは電話で").
    // Looked for only then: most addresses are plain ASCII and valid as they stand.
    if (!validDomain(domain) || !ASCII_ONLY.test(lastLabel(domain))) {
      const cut = gluedDomainEnd(text, domainStart, e);
      if (cut !== -1) domain = text.slice(domainStart, (e = cut));
    }
    const tldOk = !spaced || COMMON_TLDS.has(lastLabel(domain).toLowerCase());
    // Dots a dot-atom forbids (two in a row, one before "@") are taken when the "@" is written plainly:
    // Japanese carriers gave out such addresses ("taro..yamada@docomo.ne.jp", "taro.@docomo.ne.jp").
    // Around a spaced "@" they are prose ("Thanks. @ example.com").
    const dotsOk = !spaced || (!local.endsWith('.') && !local.includes('..'));
    if (local.length > 0 && dotsOk && validDomain(domain) && tldOk) {
      out.push({ type: 'EMAIL', start: s, end: e });
      // A number glued on before the name by "/", "-", "+" or "=" (a contact cell's "phone/address",
      // "0937-john_smith@..."): the address as read from after each of the number's separators too,
      // so that detect() can keep whole whatever number another finding covers beside it (an IBAN
      // ending in "00-822-62-6809/jane@...": read from after "00-"), instead of an address that
      // swallowed its last group or a cut that leaves the middle of the chain bare.
      const glued = NUMBER_BEFORE_NAME.exec(local);
      if (glued) {
        for (let k = 0; k < glued[0].length; k++) if (!isDigit(glued[0][k])) out.push({ type: 'EMAIL', start: s + k + 1, end: e });
      }
      lastEnd = e;
      at = text.indexOf('@', e);
      continue;
    }
    at = text.indexOf('@', at + 1);
  }
  return out;
}
