/**
 * US Social Security numbers: 123-45-6789, 123 45 6789, 123.45.6789, with any of the group separators
 * (common.ts: also "/" and ":", mixed too; the text is normalized first, so en dashes, NBSPs and the
 * like arrive as "-" and " ") and the bare nine digits 123456789.
 *
 * Validity (SSA rules): the area (first three digits) is never 000, 666 or 900-999; the group (middle
 * two) is never 00; the serial (last four) is never 0000. The number must stand alone: a digit, or a
 * dash or dot next to a digit, right before or after it means it is part of a longer number (an
 * account number, a dashed phone number, a date's fraction of a second) and it is not reported. The
 * same holds for "/" and ":" next to a digit ("1/123/45/6789").
 *
 * The bare form holds false positives down further: exactly nine digits, not glued to a letter or
 * "_" either ("id123456789", a hash, a base64 id are not SSNs), nor after "+" (a phone number).
 */
import type { Finding } from '../findings.js';
import { GROUP_SEPARATOR_CLASS, isDigit, isGroupSeparator, isWordChar, regexFindings } from './common.js';

const SSN_RE = new RegExp(`(\\d{3})${GROUP_SEPARATOR_CLASS}(\\d{2})${GROUP_SEPARATOR_CLASS}(\\d{4})`, 'g');
const BARE_SSN_RE = /(?<![0-9])(\d{3})(\d{2})(\d{4})(?![0-9])/g;

export function isValidSsnParts(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  if (a === 0 || a === 666 || a >= 900) return false;
  if (group === '00') return false;
  if (serial === '0000') return false;
  return true;
}

// Only a digit, or a separator other than a space then a digit, glues the match to a longer number
// (see isGlue). A space does not: in
// "ssn 123 45 6789 4111 1111 1111 1111" both the SSN and the card must be found, and when in doubt
// a finding (masked) is safer than a miss (leaked).
function isGlue(c: string | undefined): boolean {
  return c !== ' ' && isGroupSeparator(c);
}

function gluedToNumber(text: string, before: number, after: number): boolean {
  const prev = text[before];
  if (isDigit(prev)) return true;
  if (isGlue(prev) && isDigit(text[before - 1])) return true;
  const next = text[after];
  if (isDigit(next)) return true;
  if (isGlue(next) && isDigit(text[after + 1])) return true;
  return false;
}

function validParts(m: RegExpExecArray, groups: [number, number, number]): boolean {
  return isValidSsnParts(m[groups[0]] ?? '', m[groups[1]] ?? '', m[groups[2]] ?? '');
}

export function detectSsn(text: string): Finding[] {
  const separated = regexFindings(text, SSN_RE, 'SSN', (start, end, m) => validParts(m, [1, 2, 3]) && !gluedToNumber(text, start - 1, end));
  const bare = regexFindings(text, BARE_SSN_RE, 'SSN', (start, end, m) => {
    const prev = text[start - 1];
    if (isWordChar(prev) || prev === '+' || isWordChar(text[end])) return false;
    return validParts(m, [1, 2, 3]) && !gluedToNumber(text, start - 1, end);
  });
  return [...separated, ...bare];
}
