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

/** Digits and a separator an address's local part allows, before a name that starts with no digit. */
const NUMBER_BEFORE_NAME = /^[0-9]{1,19}(?:[-.][0-9]{1,19}){0,7}[/+=-](?=[^0-9])/;

/** A domain's last label (its TLD when the domain is one). */
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
  for (const f of detectSpelledEmails(text, false)) out.push(f);
  return out;
}

/**
 * The addresses detectEmails() reads, and also those with both "at" and a dot spelled as words ("jane
 * at gmail dot com"): for the privacy guard's free text (a summary), which must carry no address in
 * any spelling. Preflight does not mask that form in a user's text (it is how people write an address
 * to be read by people, and the corpus keeps it unmasked); a record's summary names finding types
 * only, so an address there is refused however it is written.
 */
export function detectEmailsSpelledInProse(text: string): Finding[] {
  return [...detectEmails(text), ...detectSpelledEmails(text, true)];
}

/**
 * Addresses whose "@" or dots are set in brackets, spelled as words or spaced, so that no mail client
 * links them and no filter reads them: "jane {at} gmail {dot} com", "jane [ at ] gmail [ dot ] com",
 * "alice <@> example.com", "jane@gmail dot com", "jane@gmail . com", "jane at gmail dot com". (Square
 * brackets and parentheses glued to the words, "jane[at]example[dot]com", arrive as "@" and "." from
 * the normalizer, and fullwidth brackets as ASCII ones.) The same address, and personal data all the
 * same.
 *
 * Each mark is the word or character of AT_MARKS or DOT_MARKS:
 * - bracketed: in a pair of SPELLED_MARK_BRACKETS, with up to MAX_MARK_SPACES spaces inside and
 *   outside the pair;
 * - spelled: a word of letters ("at", "dot") with a space on each side;
 * - spaced: "@" or "." with spaces around it; a "." with a space after it only is a sentence's end
 *   ("jane@example.com. Net total"), never a mark;
 * - plain: "@" or "." as an address writes it.
 * Prose says "at" and "dot" and spaces its dots, so only an unambiguous shape is an address: a
 * bracketed "@"; a "@" (plain or spaced) with a dot that is not plain; a spelled "at" with a
 * bracketed dot, or (`spelledWords`: the guard's free text, see detectEmailsSpelledInProse) a spelled
 * one ("Blocked upload at docs.google.com", "meeting at 10 dot points" are prose either way). And
 * the last label is one of COMMON_TLDS, as for a spaced "@": "log {at} host {dot} local" is a
 * template, "Scan at edge dot node" a sentence.
 *
 * Each "@" or "at" costs a bounded look (a local part of at most MAX_LOCAL characters, at most
 * MAX_SPELLED_LABELS labels of at most 63): linear.
 */
const SPELLED_MARK_BRACKETS: ReadonlyArray<readonly [string, string]> = [
  ['[', ']'],
  ['(', ')'],
  ['{', '}'],
  ['<', '>'],
  // CJK brackets without a compatibility form (NFKC leaves them): "alice【at】example【dot】com".
  ['\u3010', '\u3011'],
  ['\u3014', '\u3015'],
  ['\u3008', '\u3009'],
  ['\u300A', '\u300B'],
];
const CLOSING_BRACKET: ReadonlyMap<string, string> = new Map(SPELLED_MARK_BRACKETS);
const OPENING_BRACKETS: ReadonlySet<string> = new Set(SPELLED_MARK_BRACKETS.map(([open]) => open));
const AT_MARKS: readonly string[] = ['@', 'at'];
const DOT_MARKS: readonly string[] = ['.', 'dot'];
const MAX_MARK_SPACES = 2;
const MAX_SPELLED_LABELS = 8;
const MAX_LABEL = 63;
/** Where an "@" mark may stand: an "@", or "at" as a word of its own (any case). */
const AT_MARK_RE = /@|(?<![\p{L}\p{N}\p{M}])at(?![\p{L}\p{N}\p{M}])/giu;

type MarkKind = 'plain' | 'spaced' | 'spelled' | 'bracketed';

/** The spaces (at most MAX_MARK_SPACES) starting at p: where they end. */
function spacesFrom(text: string, p: number): number {
  let k = p;
  while (k - p < MAX_MARK_SPACES && text[k] === ' ') k++;
  return k;
}

/** The mark of `words` starting right at k (any case), or null. A word of letters ends there. */
function markWordAt(text: string, k: number, words: readonly string[]): string | null {
  for (const w of words) {
    if (text.slice(k, k + w.length).toLowerCase() !== w) continue;
    if (isAsciiLetter(w[0]) && UNICODE_WORD.test(codePointAt(text, k + w.length))) continue;
    return w;
  }
  return null;
}

/** The mark of `words` right after a label ending at p (see detectSpelledEmails): its end and kind, or null. */
function markAfter(text: string, p: number, words: readonly string[]): { end: number; kind: MarkKind } | null {
  const k = spacesFrom(text, p);
  const close = CLOSING_BRACKET.get(text[k] ?? '');
  if (close !== undefined) {
    const inner = spacesFrom(text, k + 1);
    const word = markWordAt(text, inner, words);
    if (word === null) return null;
    const j = spacesFrom(text, inner + word.length);
    if (text[j] !== close) return null;
    return { end: spacesFrom(text, j + 1), kind: 'bracketed' };
  }
  const word = markWordAt(text, k, words);
  if (word === null) return null;
  const end = spacesFrom(text, k + word.length);
  const before = k > p;
  const after = end > k + word.length;
  if (isAsciiLetter(word[0])) return before && after ? { end, kind: 'spelled' } : null;
  // ". " alone is a sentence's end, not a spaced dot.
  if (word === '.' && after && !before) return null;
  return { end, kind: before || after ? 'spaced' : 'plain' };
}

/** Whether an address with this "@" mark and these dot marks is one unambiguously (see above). */
function unambiguous(at: MarkKind, dots: readonly MarkKind[], spelledWords: boolean): boolean {
  if (at === 'bracketed') return true;
  if (at === 'spelled') return dots.some((d) => d === 'bracketed' || (spelledWords && d === 'spelled'));
  return dots.some((d) => d !== 'plain');
}

/**
 * Words that make a spelled "at" prose, standing as the first label after it: "look at the dot com
 * era", "aimed at a dot net audience". No address's domain is named so.
 */
const PROSE_LABELS: ReadonlySet<string> = new Set(['the', 'a', 'an', 'this', 'that', 'these', 'those', 'my', 'your', 'our', 'their', 'its', 'his', 'her']);

function isLabelChar(c: string): boolean {
  return c !== '.' && isDomainChar(c);
}

/** The word of ASCII letters starting at p, lower-cased (bounded: a label's length). */
function firstWord(text: string, p: number): string {
  let q = p;
  while (q - p <= MAX_LABEL && isAsciiLetter(text[q])) q++;
  return text.slice(p, q).toLowerCase();
}

/**
 * What every spelled address holds besides its "@" or "at": a space or a bracket (the marks' shapes,
 * above). A plain search first: most texts with an "@" are a plain address ("alice@example.com", an
 * actor_id in every record), which this detector cannot find more in.
 */
const SPACE_OR_BRACKET = new RegExp(`[ ${[...OPENING_BRACKETS].map((b) => `\\${b}`).join('')}]`);

function detectSpelledEmails(text: string, spelledWords: boolean): Finding[] {
  if (!SPACE_OR_BRACKET.test(text)) return [];
  const out: Finding[] = [];
  let lastEnd = 0;
  AT_MARK_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = AT_MARK_RE.exec(text)) !== null) {
    // Where the mark starts: at an opening bracket before it (spaces inside allowed), else at it.
    let markStart = m.index;
    let k = m.index;
    while (m.index - k < MAX_MARK_SPACES && text[k - 1] === ' ') k--;
    if (OPENING_BRACKETS.has(text[k - 1] ?? '')) markStart = k - 1;
    let localEnd = markStart;
    while (markStart - localEnd < MAX_MARK_SPACES && text[localEnd - 1] === ' ') localEnd--;
    if (localEnd <= lastEnd) continue;
    const at = markAfter(text, localEnd, AT_MARKS);
    if (at === null || at.end <= m.index) continue;
    let s = localEnd;
    while (s > lastEnd && localEnd - s < MAX_LOCAL) {
      const c = codePointBefore(text, s);
      if (s - c.length < lastEnd || !isLocalChar(c)) break;
      s -= c.length;
    }
    while (s < localEnd && text[s] === '.') s++;
    if (s === localEnd || text[localEnd - 1] === '.') continue;
    // The labels and the dot marks between them; the address ends after the last label that is a
    // common TLD with an unambiguous shape before it.
    const dots: MarkKind[] = [];
    let p = at.end;
    if (at.kind === 'spelled' && PROSE_LABELS.has(firstWord(text, p))) continue;
    let end = -1;
    for (let n = 0; n < MAX_SPELLED_LABELS; n++) {
      let q = p;
      while (q - p <= MAX_LABEL) {
        const c = codePointAt(text, q);
        if (!isLabelChar(c)) break;
        q += c.length;
      }
      if (q === p || q - p > MAX_LABEL || text[p] === '-' || text[q - 1] === '-') break;
      if (n > 0 && COMMON_TLDS.has(text.slice(p, q).toLowerCase()) && unambiguous(at.kind, dots, spelledWords)) end = q;
      const dot = markAfter(text, q, DOT_MARKS);
      if (dot === null) break;
      dots.push(dot.kind);
      p = dot.end;
    }
    if (end === -1) continue;
    if (at.kind === 'spelled' && dots.every((d) => d === 'spelled') && proseGoesOn(text, end)) continue;
    out.push({ type: 'EMAIL', start: s, end });
    lastEnd = end;
    AT_MARK_RE.lastIndex = end;
  }
  return out;
}

/**
 * Words that may follow an address written out in words: function words, as a sentence goes on after
 * a name ("mail jane at gmail dot com for access", "... dot com today", "... dot com was blocked").
 * A noun there makes "dot com" part of a phrase ("Devs at Acme dot com era", "Blocked at runtime dot
 * net apps", "Meet at HQ dot com launch party": a review's summaries refused as addresses).
 */
const AFTER_SPELLED_ADDRESS: ReadonlySet<string> = new Set(
  (
    'for to and or but nor with without if about please thanks instead now asap today yesterday tomorrow again once twice ' +
    'earlier later at on in from by via was were is are has had have will would can could should may might did does do not ' +
    'who which that when after before since until because as so then than also too only'
  ).split(' '),
);

/** Whether a sentence goes on after `end` with a word no address is followed by (AFTER_SPELLED_ADDRESS). */
function proseGoesOn(text: string, end: number): boolean {
  const p = spacesFrom(text, end);
  if (p === end || !isAsciiLetter(text[p])) return false;
  return !AFTER_SPELLED_ADDRESS.has(firstWord(text, p));
}
