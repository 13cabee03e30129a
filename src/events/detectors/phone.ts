/**
 * Phone numbers: international E.164 numbers written with a leading "+" (8 to 15 digits, optionally
 * grouped with spaces, dashes, dots or parentheses) and North American (NANP) numbers in the common
 * separated forms: 415-555-2671, 415.555.2671, 415 555 2671, (415) 555-2671, 1-415-555-2671; "+" counts
 * as a space in both, as a form's query string writes one ("?tel=%2B44+20+7946+0958", "415+555+2671").
 * Between two groups stands a gap as common.ts measures it, of the phone's own separators: a run of
 * at most MAX_GAP spaces, dashes and dots ("+44  20  7946  0958" aligned, "415 - 555 - 2671" padded,
 * "415 555\n  2671" wrapped onto an indented line), or of "+" alone ("250 + 15 + 1200" is a sum).
 * German and Austrian numbers also in DIN 5008's older style, a "/" after the area code:
 * "+49 30/1234567", "+43 1/58801-0" (one "/" in an international number), and "030/1234567",
 * "0221/98765-43" (a national one: see NATIONAL_SLASH_RE).
 *
 * Bare digit runs are not phone numbers here (too many order numbers and ids look like them), and a
 * NANP number needs a valid area code and exchange (both start with 2-9). Neither SSNs (3-2-4) nor
 * ISO dates (4-2-2) have the 3-3-4 shape, and a match glued to more digits is dropped, so card numbers
 * and longer runs are not split into phone numbers.
 */
import type { Finding } from '../findings.js';
import { FORM_SPACE, MAX_GAP, gapAfter, gapBefore, isDigit, isWordChar, regexFindings } from './common.js';

// The gap as a regex: a run of dashes, dots and spaces, or of FORM_SPACE alone (a form's space:
// "phone=415+555+0100"), at most MAX_GAP long (the digits after it must follow, as in common.ts).
const GAP = `(?:[-. ]{1,${MAX_GAP}}|\\${FORM_SPACE}{1,${MAX_GAP}})`;
const NANP_RE = new RegExp(`(?:1${GAP})?(?:\\(\\d{3}\\) {0,${MAX_GAP}}|\\d{3}${GAP})\\d{3}${GAP}\\d{4}`, 'g');
/** Two or more separators in a row: a gap longer than one character, which only a padded number has. */
const PADDED_RE = /[-. +]{2}/;

const PHONE_SEPARATORS = `-. ${FORM_SPACE}`;

/**
 * A national German or Austrian number, DIN 5008's older style: the trunk "0" and an area code of two
 * to five more digits (never "00", the international prefix), "/", a subscriber number (never
 * starting with 0) and maybe an extension after a dash ("0221/98765-43"). Not after a word character
 * or a path's, a version's or a number's separator ("/api/030/1234567", "1.030/..."); what may follow
 * it is checked in nationalSlashEnds. The area code is at least "0" and two digits so that a month
 * ("01/2024", "05/11/2024") never starts one.
 */
const NATIONAL_SLASH_RE = /(?<![\w/\\.,+-])0[1-9]\d{1,4}\/[1-9]\d{2,7}(?:-\d{1,5})?/g;
/**
 * The fewest digits of a national slash number before its extension, the trunk "0" counted: 9, a
 * national number of 8 (with Germany's "49", the 10 digits most numbers have). Without a "+", a
 * shorter pair of digit runs around a slash is more often a page, file or case reference
 * ("page 030/1234", "Az. 0221/1234") than a phone number.
 */
const NATIONAL_SLASH_MIN_DIGITS = 9;
/**
 * A NANP number with its country code has exactly 11 digits ("+1" and ten): whatever digits follow
 * it across a gap are not its own ("+1 415 555 2671  123" in a table, "+1 415 555 2671\n2 attempts").
 */
const NANP_E164_DIGITS = 11;
/**
 * Across a gap longer than one character, after single gaps or none, digits may continue the number
 * (wrapped onto an indented line: "+44 20 7946\n  0958") or be a column of their own
 * ("+44 20 7946 0958  42"). Read as far as this many digits (a NANP number and its country code;
 * most numbers have 11 to 13), the number is whole and the padded gap ends it.
 */
const COMPLETE_BEFORE_PADDED_GAP = 11;

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
 * one-character gap: a dash or dot glues ("12-415-555-2671", "415-555-2671-1234"), and a "+" after
 * it (a form's space, "415+555+2671+1234"), but a space does not, before ("order 12 415 555 2671")
 * nor after it: the normalizer reads a line break with no indentation as one space, and a number at
 * the end of a line is whole whatever the next line starts with ("415-555-2671\n2 attempts",
 * "415 555 2671\r\n2024-05-01T10:33:01Z"). A longer gap glues
 * only a padded number: its own gaps are as long, so "100  200  300  4000" is a row of columns, while
 * a number with single separators next to a padded gap is a cell of its own ("Jane  415-555-2671  42",
 * "415-555-2671 - 3 attempts").
 */
function gluedToNumber(text: string, start: number, end: number, padded: boolean): boolean {
  const prev = text[start - 1];
  if (isWordChar(prev) || prev === '+') return true;
  const before = phoneGapBefore(text, start);
  if (before > 0 && isDigit(text[start - before - 1]) && (before > 1 ? padded : prev === '-' || prev === '.')) return true;
  if (isWordChar(text[end])) return true;
  const after = phoneGapAfter(text, end);
  return after > 0 && isDigit(text[end + after]) && (after === 1 ? text[end] !== ' ' : padded);
}

/** Whether a digit is on both sides of p: a "/" there stands between two digit groups. */
function betweenDigits(text: string, p: number): boolean {
  return isDigit(text[p - 1]) && isDigit(text[p + 1]);
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
    // The longest number (8 to 15 digits) as read up to a gap with a space in it, to fall back on.
    let spacedEnd = -1;
    let spacedDigits = 0;
    let slashes = 0;
    // A second "/" between digits: a path or a date ("+49/30/1234567", "+1/2/2024"), no phone number.
    let pathLike = false;
    const nanp = text[p] === '1';
    const prev = text[plus - 1];
    if (!isWordChar(prev) && isDigit(text[p]) && text[p] !== '0') {
      while (p < text.length && digits <= 15) {
        if (isDigit(text[p])) {
          digits++;
          p++;
          end = p;
          continue;
        }
        if (text[p] === '/' && betweenDigits(text, p)) {
          // DIN 5008's slash after the area code ("+49 30/1234567"): one per number.
          if (slashes++ > 0) {
            pathLike = true;
            break;
          }
          p++;
          continue;
        }
        const sep = separatorLength(text, p);
        if (sep.length === 0) break;
        // A space may be a line break or a table's column gap; a form's "+" is neither (a query
        // string holds one value per parameter).
        const spaced = text.slice(p, p + sep.length).includes(' ');
        if (spaced && nanp && digits === NANP_E164_DIGITS) break;
        if (sep.padded && unpaddedEnd === -1) {
          if (spaced && digits >= COMPLETE_BEFORE_PADDED_GAP) break;
          unpaddedEnd = end;
          unpaddedDigits = digits;
        }
        if (spaced && digits >= 8) {
          spacedEnd = end;
          spacedDigits = digits;
        }
        p += sep.length;
      }
      // Read across a longer gap, the digits may be the next column of a table ("+44 20 7946 0958  42
      // 2026") or start a word ("+44 20 7946 0958  2FA enabled"): when what was read is no number
      // (too long, glued to a word), the number is what stood before that gap. Else, across a space,
      // the digits may start the next line (a line break with no indentation is read as one space:
      // "+49 30 901820\n2024-05-01"): the number is the longest that stood before a space.
      const whole = (d: number, e: number) => d >= 8 && d <= 15 && !isWordChar(text[e]);
      if (!whole(digits, end) && unpaddedEnd !== -1 && whole(unpaddedDigits, unpaddedEnd)) {
        end = unpaddedEnd;
        digits = unpaddedDigits;
      } else if (!whole(digits, end) && spacedEnd !== -1) {
        end = spacedEnd;
        digits = spacedDigits;
      }
      if (!pathLike && whole(digits, end)) {
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
    let d = m[0].replace(/\D/g, '');
    if (d.length === 11) d = d.slice(1);
    const area = d[0] ?? '0';
    const exchange = d[3] ?? '0';
    return area >= '2' && exchange >= '2';
  });
}

/**
 * Whether a national slash number ends at `end`: not glued to a word character, nor to another "/"
 * (a path: "030/1234567/89"), nor across a dot, comma, colon or dash to more ("0221/9876543.pdf",
 * "030/1234567,5"). A space or a line break ends it.
 */
function nationalSlashEnds(text: string, end: number): boolean {
  const next = text[end];
  if (isWordChar(next) || next === '/') return false;
  return !(next !== undefined && '.,:-'.includes(next) && isWordChar(text[end + 1]));
}

function detectNationalSlash(text: string): Finding[] {
  return regexFindings(text, NATIONAL_SLASH_RE, 'PHONE', (_start, end, m) => {
    const main = m[0].split('-')[0] ?? '';
    return main.length - 1 >= NATIONAL_SLASH_MIN_DIGITS && nationalSlashEnds(text, end);
  });
}

export function detectPhones(text: string): Finding[] {
  return [...detectInternational(text), ...detectNanp(text), ...detectNationalSlash(text)];
}
