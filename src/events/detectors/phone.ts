/**
 * Phone numbers: international E.164 numbers written with a leading "+" (8 to 15 digits, optionally
 * grouped with spaces, dashes, dots or parentheses) and North American (NANP) numbers in the common
 * separated forms: 415-555-2671, 415.555.2671, 415 555 2671, (415) 555-2671, 1-415-555-2671; "+" counts
 * as a space in both, as a form's query string writes one ("?tel=%2B44+20+7946+0958", "415+555+2671").
 *
 * Bare digit runs are not phone numbers here (too many order numbers and ids look like them), and a
 * NANP number needs a valid area code and exchange (both start with 2-9). Neither SSNs (3-2-4) nor
 * ISO dates (4-2-2) have the 3-3-4 shape, and a match glued to more digits is dropped, so card numbers
 * and longer runs are not split into phone numbers.
 */
import type { Finding } from '../findings.js';
import { FORM_SPACE, isDigit, isWordChar, regexFindings } from './common.js';

// A separator: a dash, a dot, a space, or FORM_SPACE (a form's space: "phone=415+555+0100").
const SEPARATOR = `[-. ${FORM_SPACE}]`;
const NANP_RE = new RegExp(`(?:1${SEPARATOR})?(?:\\(\\d{3}\\) ?|\\d{3}${SEPARATOR})\\d{3}${SEPARATOR}\\d{4}`, 'g');

const TWO_CHAR_SEPARATORS = [' (', ') ', ')-', ').'];
const ONE_CHAR_SEPARATORS = [' ', FORM_SPACE, '-', '.', '(', ')'];

function separatorLength(text: string, p: number): number {
  const two = text.slice(p, p + 2);
  if (TWO_CHAR_SEPARATORS.includes(two) && isDigit(text[p + 2])) return 2;
  const one = text[p];
  if (one !== undefined && ONE_CHAR_SEPARATORS.includes(one) && isDigit(text[p + 1])) return 1;
  return 0;
}

function gluedToNumber(text: string, start: number, end: number): boolean {
  const prev = text[start - 1];
  if (isWordChar(prev) || prev === '+') return true;
  if ((prev === '-' || prev === '.') && isDigit(text[start - 2])) return true;
  const next = text[end];
  if (isWordChar(next)) return true;
  if ((next === '-' || next === '.' || next === ' ' || next === FORM_SPACE) && isDigit(text[end + 1])) return true;
  return false;
}

function detectInternational(text: string): Finding[] {
  const out: Finding[] = [];
  let plus = text.indexOf('+');
  while (plus !== -1) {
    let p = plus + 1;
    let digits = 0;
    let end = -1;
    const prev = text[plus - 1];
    if (!isWordChar(prev) && isDigit(text[p]) && text[p] !== '0') {
      while (p < text.length && digits <= 15) {
        if (isDigit(text[p])) {
          digits++;
          p++;
          end = p;
          continue;
        }
        const sep = separatorLength(text, p);
        if (sep === 0) break;
        p += sep;
      }
      if (digits >= 8 && digits <= 15 && !isWordChar(text[end])) {
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
    if (gluedToNumber(text, start, end)) return false;
    let d = m[0].replace(/\D/g, '');
    if (d.length === 11) d = d.slice(1);
    const area = d[0] ?? '0';
    const exchange = d[3] ?? '0';
    return area >= '2' && exchange >= '2';
  });
}

export function detectPhones(text: string): Finding[] {
  return [...detectInternational(text), ...detectNanp(text)];
}
