/**
 * US Social Security numbers in the two written forms, 123-45-6789 and 123 45 6789.
 *
 * Validity (SSA rules): the area (first three digits) is never 000, 666 or 900-999; the group (middle
 * two) is never 00; the serial (last four) is never 0000. The number must stand alone: a digit, or a
 * dash or dot next to a digit, right before or after it means it is part of a longer number (an
 * account number, a dashed phone number) and it is not reported.
 */
import type { Finding } from '../findings.js';
import { isDigit, regexFindings } from './common.js';

const SSN_RE = /(\d{3})([- ])(\d{2})\2(\d{4})/g;

export function isValidSsnParts(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  if (a === 0 || a === 666 || a >= 900) return false;
  if (group === '00') return false;
  if (serial === '0000') return false;
  return true;
}

// Only a digit, or "-"/"." then a digit, glues the match to a longer number. A space does not: in
// "ssn 123 45 6789 4111 1111 1111 1111" both the SSN and the card must be found, and when in doubt
// a finding (masked) is safer than a miss (leaked).
function gluedToNumber(text: string, before: number, after: number): boolean {
  const prev = text[before];
  if (isDigit(prev)) return true;
  if ((prev === '-' || prev === '.') && isDigit(text[before - 1])) return true;
  const next = text[after];
  if (isDigit(next)) return true;
  if ((next === '-' || next === '.') && isDigit(text[after + 1])) return true;
  return false;
}

export function detectSsn(text: string): Finding[] {
  return regexFindings(text, SSN_RE, 'SSN', (start, end, m) => {
    const [, area = '', , group = '', serial = ''] = m;
    return isValidSsnParts(area, group, serial) && !gluedToNumber(text, start - 1, end);
  });
}
