/**
 * US Social Security numbers: 123-45-6789, 123 45 6789, 123.45.6789, with any group gap (common.ts:
 * also "/", ":" and "_", mixed, doubled or padded as in "123 - 45 - 6789", or a lone comma,
 * semicolon or pipe as in "123,45,6789" and "123|45|6789", never fields of a row it separates; the text is normalized first, so
 * en dashes, NBSPs and the like arrive as "-" and " ") and the bare nine digits 123456789.
 *
 * Validity (SSA rules): the area (first three digits) is never 000, 666 or 900-999; the group (middle
 * two) is never 00; the serial (last four) is never 0000. The number must stand alone: a digit, or a
 * gap that glues (common.ts gapGlues) then a digit, right before or after it means it is part of a
 * longer number (an account number, a dashed phone number, a date's fraction of a second,
 * "1/123/45/6789", a CSV or pipe-delimited row of numbers "5,123,45,6789,10") and it is not reported.
 *
 * The bare form holds false positives down further: exactly nine digits, not glued to a letter or
 * "_" either ("id123456789", a hash, a base64 id are not SSNs), nor after "+" (a phone number).
 */
import type { Finding } from '../findings.js';
import { GROUP_GAP_SOURCE, delimiterGrouped, fieldsOfDelimitedRow, gluedAcrossGap, isDigit, regexFindings, wordAfter, wordBefore } from './common.js';

const SSN_RE = new RegExp(`(\\d{3})${GROUP_GAP_SOURCE}(\\d{2})${GROUP_GAP_SOURCE}(\\d{4})`, 'g');
const BARE_SSN_RE = /(?<![0-9])(\d{3})(\d{2})(\d{4})(?![0-9])/g;

export function isValidSsnParts(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  if (a === 0 || a === 666 || a >= 900) return false;
  if (group === '00') return false;
  if (serial === '0000') return false;
  return true;
}

/** A digit right next to it, or a gap that glues (common.ts), makes the match part of a longer number. */
function gluedToNumber(text: string, start: number, end: number, grouped: boolean): boolean {
  return isDigit(text[start - 1]) || isDigit(text[end]) || gluedAcrossGap(text, start, end, grouped);
}

function validParts(m: RegExpExecArray, groups: [number, number, number]): boolean {
  return isValidSsnParts(m[groups[0]] ?? '', m[groups[1]] ?? '', m[groups[2]] ?? '');
}

export function detectSsn(text: string): Finding[] {
  const separated = regexFindings(
    text,
    SSN_RE,
    'SSN',
    (start, end, m) => validParts(m, [1, 2, 3]) && !gluedToNumber(text, start, end, delimiterGrouped(m[0])) && !fieldsOfDelimitedRow(text, start, end),
  );
  const bare = regexFindings(text, BARE_SSN_RE, 'SSN', (start, end, m) => {
    const prev = text[start - 1];
    if (wordBefore(text, start) || prev === '+' || wordAfter(text, end)) return false;
    return validParts(m, [1, 2, 3]) && !gluedToNumber(text, start, end, false);
  });
  return [...separated, ...bare];
}
