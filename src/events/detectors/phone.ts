/**
 * Phone numbers: international E.164 numbers written with a leading "+" (8 to 15 digits, optionally
 * grouped with spaces, dashes, dots or parentheses) and North American (NANP) numbers in the common
 * separated forms: 415-555-2671, 415.555.2671, 415 555 2671, (415) 555-2671, 1-415-555-2671; "+" counts
 * as a space in both, as a form's query string writes one ("?tel=%2B44+20+7946+0958", "415+555+2671").
 * Between two groups stands a gap as common.ts measures it, of the phone's own separators: a run of
 * at most MAX_GAP spaces, dashes and dots ("+44  20  7946  0958" aligned, "415 - 555 - 2671" padded,
 * "415 555\n  2671" wrapped onto an indented line), or of "+" alone ("250 + 15 + 1200" is a sum). An
 * international number may also have one "/" between digits, DIN 5008's older style of a German or
 * Austrian number ("+49 30/1234567"); a second one makes it a path or a date.
 *
 * The international call prefix may stand for the "+": "00" (ITU's, dialled from most of the world) or
 * "011" (from North America), then a valid country code as a group of its own, then the number read
 * as after a "+" ("0049 30 12345678", "011 44 20 7946 0958"); see detectCallPrefixed. "001" before a
 * NANP number is NANP_RE's.
 *
 * Bare digit runs are not phone numbers here (too many order numbers and ids look like them), and a
 * NANP number needs a valid area code and exchange (both start with 2-9). Neither SSNs (3-2-4) nor
 * ISO dates (4-2-2) have the 3-3-4 shape, and a match glued to more digits is dropped, so card numbers
 * and longer runs are not split into phone numbers.
 */
import type { Finding } from '../findings.js';
import { FORM_SPACE, MAX_GAP, gapAfter, gapBefore, isDigit, regexFindings, wordAfter, wordBefore } from './common.js';

// The gap as a regex: a run of dashes, dots and spaces, or of FORM_SPACE alone (a form's space:
// "phone=415+555+0100"), at most MAX_GAP long (the digits after it must follow, as in common.ts).
const GAP = `(?:[-. ]{1,${MAX_GAP}}|\\${FORM_SPACE}{1,${MAX_GAP}})`;
// The area code in parentheses may be followed by a gap of any of the separators ("(415)-555-2671"),
// and the country code glued to it ("1(415)555-2671"), as forms and CRMs write them. Before the
// country code, the international call prefix dialled from the US ("001-415-555-2671", one of
// Faker's formats, so common in test data).
const NANP_RE = new RegExp(`(?:(?:001${GAP})?1${GAP}|001${GAP}|1(?=\\())?(?:\\(\\d{3}\\)${GAP}?|\\d{3}${GAP})\\d{3}${GAP}\\d{4}`, 'g');
/**
 * A number in a tel: link ("<a href=\"tel:4155552671\">", "tel:+1-415-555-2671"): the scheme says what
 * it is, so the bare digits count too, 7 to 15 of them (E.164's most), grouped or not.
 */
const TEL_LINK_RE = /(?<![A-Za-z0-9])tel:(?:\/\/)?(\+?[0-9](?:[-. ()]?[0-9]){6,14})(?![0-9A-Za-z])/dgi;
/** Two or more separators in a row: a gap longer than one character, which only a padded number has. */
const PADDED_RE = /[-. +]{2}/;

const PHONE_SEPARATORS = `-. ${FORM_SPACE}`;

/** Country codes whose numbers were written with a "/" after the area code (DIN 5008's older style). */
const SLASH_COUNTRIES = ['49', '43', '41'];

function onlyPhoneSeparators(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (!PHONE_SEPARATORS.includes(text[k] as string)) return false;
  return true;
}

/**
 * The gap at p (common.ts gapAfter: at most MAX_GAP long, "+" never mixed) if it holds only the
 * phone's own separators, else 0: "/", ":", "_" and the comma do not group a phone number
 * ("415-555-2671,415-555-2672" is a list of two).
 */
function phoneGapAfter(text: string, p: number): number {
  const gap = gapAfter(text, p);
  return onlyPhoneSeparators(text, p, p + gap) ? gap : 0;
}

function phoneGapBefore(text: string, p: number): number {
  const gap = gapBefore(text, p);
  return onlyPhoneSeparators(text, p - gap, p) ? gap : 0;
}

/**
 * Length of what separates two digit groups of an international number at p, 0 if no digit follows:
 * a gap, a parenthesis, or a parenthesis with a gap on either side ("+1 (415) 555", "+1  (415)  555").
 * `padded` is set when a gap is longer than one character.
 */
function separatorLength(text: string, p: number): { length: number; padded: boolean } {
  const before = phoneGapAfter(text, p);
  let q = p + before;
  let after = 0;
  if (text[q] === '(' || text[q] === ')') {
    q++;
    after = phoneGapAfter(text, q);
    q += after;
  }
  return isDigit(text[q]) && q > p ? { length: q - p, padded: before > 1 || after > 1 } : { length: 0, padded: false };
}

/**
 * Whether a NANP match is part of a longer number. Right after a word character or "+", yes. Across a
 * one-character gap: a dash or dot before it glues ("12-415-555-2671"), a space does not (prose:
 * "order 12 415 555 2671"); every separator after it glues ("415 555 2671 1234"). A longer gap glues
 * only a padded number: its own gaps are as long, so "100  200  300  4000" is a row of columns, while
 * a number with single separators next to a padded gap is a cell of its own ("Jane  415-555-2671  42",
 * "415-555-2671 - 3 attempts").
 */
function gluedToNumber(text: string, start: number, end: number, padded: boolean): boolean {
  const prev = text[start - 1];
  if (wordBefore(text, start) || prev === '+') return true;
  const before = phoneGapBefore(text, start);
  if (before > 0 && isDigit(text[start - before - 1]) && (before > 1 ? padded : prev === '-' || prev === '.')) return true;
  if (wordAfter(text, end) && !extensionAt(text, end)) return true;
  const after = phoneGapAfter(text, end);
  return after > 0 && isDigit(text[end + after]) && (after === 1 || padded);
}

/**
 * An extension glued on with "x" ("415-555-2671x123"): how Faker's phone formats, and so much test
 * data and many CRMs, write one. It ends the number like a space would; other letters glue.
 */
const EXTENSION = /[xX][0-9]{1,6}(?![0-9A-Za-z_])/y;

function extensionAt(text: string, p: number): boolean {
  EXTENSION.lastIndex = p;
  return EXTENSION.test(text);
}

/**
 * Where an international number that starts at `from` (its country code's first digit, right after
 * the "+" or the call prefix) ends, or -1 when what follows is no number: 8 to 15 digits (E.164)
 * grouped as separatorLength allows, not glued to a word. `slashStyle`: the country writes one "/"
 * after the area code (SLASH_COUNTRIES).
 */
function readInternational(text: string, from: number, slashStyle: boolean): number {
  let p = from;
  let digits = 0;
  let end = -1;
  // The number as read up to its first gap longer than one character, to fall back on.
  let unpaddedEnd = -1;
  let unpaddedDigits = 0;
  // The number as read up to a "/" between digits (DIN 5008's older "+49 30/1234567": German,
  // Austrian and Swiss numbers only, where the style is), to fall back on when what follows the
  // slash makes it no number: an extension list or a date ("+49 30 1234567/2024-05-01").
  let slashEnd = -1;
  let slashDigits = 0;
  while (p < text.length && digits <= 15) {
    if (isDigit(text[p])) {
      digits++;
      p++;
      end = p;
      continue;
    }
    if (text[p] === '/' && slashStyle && slashEnd === -1 && isDigit(text[p + 1])) {
      slashEnd = end;
      slashDigits = digits;
      p++;
      continue;
    }
    const sep = separatorLength(text, p);
    if (sep.length === 0) break;
    if (sep.padded && unpaddedEnd === -1) {
      unpaddedEnd = end;
      unpaddedDigits = digits;
    }
    p += sep.length;
  }
  // Read across a longer gap, the digits may be the next column of a table ("+44 20 7946 0958  42
  // 2026") or start a word ("+44 20 7946 0958  2FA enabled"): when what was read is no number
  // (too long, glued to a word), the number is what stood before that gap.
  // Across the slash the same: the number is what stood before it. Of the two, the longer reading
  // (a padded number then a date: "+49 89 1234  5678/2024-05-01"). A second "/" glued on makes
  // the whole a path or a date ("+49/30/1234567"): only what stood before the first is a number.
  const whole = (d: number, e: number) => d >= 8 && d <= 15 && (!wordAfter(text, e) || extensionAt(text, e));
  if (!whole(digits, end) || (slashEnd !== -1 && text[end] === '/')) {
    const read = end;
    end = -1;
    for (const [e, d] of [
      [unpaddedEnd, unpaddedDigits],
      [slashEnd, slashDigits],
    ] as const) {
      if (e !== -1 && e !== read && e > end && whole(d, e)) {
        end = e;
        digits = d;
      }
    }
  }
  return end !== -1 && whole(digits, end) ? end : -1;
}

function detectInternational(text: string): Finding[] {
  const out: Finding[] = [];
  let plus = text.indexOf('+');
  while (plus !== -1) {
    const p = plus + 1;
    if (!wordBefore(text, plus) && isDigit(text[p]) && text[p] !== '0') {
      const end = readInternational(text, p, SLASH_COUNTRIES.includes(text.slice(p, p + 2)));
      if (end !== -1) {
        out.push({ type: 'PHONE', start: plus, end });
        plus = text.indexOf('+', end);
        continue;
      }
    }
    plus = text.indexOf('+', plus + 1);
  }
  return out;
}

/**
 * E.164 country codes in use (ITU-T E.164 assigned codes, the shared and global-service codes
 * included), but "1": after "00" or "011" a NANP number is NANP_RE's, which checks its area code and
 * exchange. A code is what makes "0049" a call prefix and "0099" or "0012" a zero-padded number.
 */
const COUNTRY_CODES = new Set(
  (
    '7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 ' +
    '211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 235 236 237 238 239 240 241 242 243 244 245 246 247 ' +
    '248 249 250 251 252 253 254 255 256 257 258 260 261 262 263 264 265 266 267 268 269 290 291 297 298 299 350 351 352 353 354 355 356 ' +
    '357 358 359 370 371 372 373 374 375 376 377 378 379 380 381 382 383 385 386 387 389 420 421 423 500 501 502 503 504 505 506 507 508 ' +
    '509 590 591 592 593 594 595 596 597 598 599 670 672 673 674 675 676 677 678 679 680 681 682 683 685 686 687 688 689 690 691 692 800 ' +
    '808 850 852 853 855 856 870 878 880 881 882 883 886 888 960 961 962 963 964 965 966 967 968 970 971 972 973 974 975 976 977 979 992 ' +
    '993 994 995 996 998'
  ).split(' '),
);

/**
 * The international call prefix where a "+" would stand: "00", glued to the country code ("0049"), or
 * "011" glued or with one separator ("011 44", as the US dials it). Not after a letter, digit or "+"
 * (an id, a longer number: "10049 ..."); an underscore before it is read by wordBefore, as for "+".
 * "00" with a space ("00 44 20 79 46 09 58") is how hex dumps print bytes, so it is not read.
 */
const CALL_PREFIX_RE = /(?<![0-9A-Za-z+])(?:00|011[-. +]?)(?=[1-9])/g;

/**
 * Whether every digit group of `number` but the last is four digits long and the last at most four,
 * in three groups or more: how reference and order numbers are printed ("0044 2079 4609 58"), and
 * never how a country writes its phone numbers after the country code.
 */
function blocksOfFour(number: string): boolean {
  const groups = number.split(/\D+/).filter((g) => g !== '');
  const last = groups.length - 1;
  return groups.length >= 3 && groups.every((g, k) => (k < last ? g.length === 4 : g.length <= 4));
}

/**
 * Numbers written with the call prefix instead of "+" (CALL_PREFIX_RE), read as after a "+" from
 * the country code on. Stricter than "+", which no id starts with: the country code must be valid
 * and a group of its own ("0049 30 ...", "0044 (0)20 ...": a compact "00493012345678" is as likely a
 * zero-padded id), a dash or dot before the prefix with a digit before it glues it to a longer
 * number ("12-0049-30-12345678"), and blocks of four are a reference number.
 */
/**
 * A date right after the country code ("0044 2024-05-01 12:00:00", "record 0086 2023 11 05"): a
 * zero-padded counter before a log line's time stamp, not a number dialled abroad.
 */
const DATE_AFTER_CODE = /^[ ./-]{1,3}(?:19|20)\d\d[ ./-]\d{1,2}(?!\d)/;

function detectCallPrefixed(text: string): Finding[] {
  const out: Finding[] = [];
  // Both call prefixes start "0": most fields the privacy guard reads hold no "00" or "011" at all.
  if (!text.includes('00') && !text.includes('011')) return out;
  CALL_PREFIX_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = CALL_PREFIX_RE.exec(text)) !== null) {
    const start = m.index;
    const from = start + m[0].length;
    let k = from;
    while (k - from < 3 && isDigit(text[k])) k++;
    const code = text.slice(from, k);
    if (isDigit(text[k]) || !COUNTRY_CODES.has(code) || separatorLength(text, k).length === 0) continue;
    if (DATE_AFTER_CODE.test(text.slice(k, k + 16))) continue;
    if (wordBefore(text, start)) continue;
    const before = phoneGapBefore(text, start);
    if (before > 0 && isDigit(text[start - before - 1]) && (text[start - 1] === '-' || text[start - 1] === '.')) continue;
    const end = readInternational(text, from, SLASH_COUNTRIES.includes(code));
    if (end === -1 || blocksOfFour(text.slice(start, end))) continue;
    out.push({ type: 'PHONE', start, end });
    CALL_PREFIX_RE.lastIndex = end;
  }
  return out;
}

function detectNanp(text: string): Finding[] {
  return regexFindings(text, NANP_RE, 'PHONE', (start, end, m) => {
    if (gluedToNumber(text, start, end, PADDED_RE.test(m[0]))) return false;
    // The subscriber's ten digits, after the call prefix and the country code.
    let d = m[0].replace(/\D/g, '');
    if (d.length > 11) d = d.slice(3);
    if (d.length === 11) d = d.slice(1);
    const area = d[0] ?? '0';
    const exchange = d[3] ?? '0';
    return area >= '2' && exchange >= '2';
  });
}

export function detectPhones(text: string): Finding[] {
  return [...detectInternational(text), ...detectCallPrefixed(text), ...detectNanp(text), ...regexFindings(text, TEL_LINK_RE, 'PHONE')];
}
