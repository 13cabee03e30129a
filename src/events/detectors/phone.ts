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

function detectInternational(text: string): Finding[] {
  const out: Finding[] = [];
  let plus = text.indexOf('+');
  while (plus !== -1) {
    let p = plus + 1;
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
    const slashStyle = SLASH_COUNTRIES.includes(text.slice(plus + 1, plus + 3));
    if (!wordBefore(text, plus) && isDigit(text[p]) && text[p] !== '0') {
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
      if (end !== -1 && whole(digits, end)) {
        out.push({ type: 'PHONE', start: plus, end });
        plus = text.indexOf('+', end);
        continue;
      }
    }
    plus = text.indexOf('+', plus + 1);
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
  return [...detectInternational(text), ...detectNanp(text), ...regexFindings(text, TEL_LINK_RE, 'PHONE')];
}
