/**
 * Payment card numbers: 13 to 19 digits, written together or in groups separated by single spaces or
 * dashes, with a known issuer prefix (IIN) whose length rule fits, and a valid Luhn check digit.
 *
 * The scanner walks each maximal run of digit groups once; inside a run it tries candidate cards that
 * start at each group boundary (so "Order 12 4111 1111 1111 1111" still finds the card) and reports
 * the longest valid one per start; overlapping candidates are settled by detect(). A run without separators must be the card itself (13-19 digits), which keeps long
 * numeric identifiers from yielding false positives.
 */
import type { Finding } from '../findings.js';
import { isDigit, isWordChar, luhnValid } from './common.js';

interface Group {
  start: number;
  end: number;
}

function between(prefix: string, lo: number, hi: number): boolean {
  const n = Number(prefix);
  return n >= lo && n <= hi;
}

/** True when the digits carry a known issuer prefix and a length that issuer uses. */
export function hasKnownIin(d: string): boolean {
  const len = d.length;
  if (d.startsWith('4')) return len === 13 || len === 16 || len === 19; // Visa
  if (between(d.slice(0, 2), 51, 55) || between(d.slice(0, 4), 2221, 2720)) return len === 16; // Mastercard
  if (d.startsWith('34') || d.startsWith('37')) return len === 15; // American Express
  if (d.startsWith('6011') || d.startsWith('65') || between(d.slice(0, 3), 644, 649) || between(d.slice(0, 6), 622126, 622925)) {
    return len >= 16 && len <= 19; // Discover
  }
  if (between(d.slice(0, 4), 3528, 3589)) return len >= 16 && len <= 19; // JCB
  if (between(d.slice(0, 3), 300, 305) || d.startsWith('36') || d.startsWith('38') || d.startsWith('39')) {
    return len >= 14 && len <= 19; // Diners Club
  }
  if (d.startsWith('62')) return len >= 16 && len <= 19; // UnionPay
  if (['5018', '5020', '5038', '5893', '6304', '6759', '6761', '6762', '6763'].includes(d.slice(0, 4))) {
    return len >= 13 && len <= 19; // Maestro
  }
  return false;
}

export function isValidCardNumber(digits: string): boolean {
  return /^\d{13,19}$/.test(digits) && hasKnownIin(digits) && luhnValid(digits);
}

/** Issuer prefixes all start with 2-6; anything else cannot be a card, whatever follows. */
function mayStartCard(c: string | undefined): boolean {
  return c !== undefined && c >= '2' && c <= '6';
}

/** Printed layouts: 4-4-...-last(1..4), 4-6-5, 4-6-4. `lens` has at least two groups. */
function isCardLayout(lens: readonly number[]): boolean {
  const key = lens.join('-');
  if (key === '4-6-5' || key === '4-6-4') return true;
  for (let k = 0; k < lens.length - 1; k++) if (lens[k] !== 4) return false;
  const last = lens[lens.length - 1] ?? 0;
  return last >= 1 && last <= 4;
}

function readRun(text: string, from: number): Group[] {
  const groups: Group[] = [];
  let j = from;
  for (;;) {
    let k = j;
    while (k < text.length && isDigit(text[k])) k++;
    groups.push({ start: j, end: k });
    const sep = text[k];
    if ((sep === ' ' || sep === '-') && isDigit(text[k + 1])) {
      j = k + 1;
      continue;
    }
    return groups;
  }
}

export function detectCreditCards(text: string): Finding[] {
  const out: Finding[] = [];
  let i = 0;
  while (i < text.length) {
    if (!isDigit(text[i])) {
      i++;
      continue;
    }
    const groups = readRun(text, i);
    const last = groups[groups.length - 1] as Group;
    i = last.end;
    const runStart = (groups[0] as Group).start;
    const runEnd = last.end;
    let g = 0;
    while (g < groups.length) {
      const first = groups[g] as Group;
      // A card starts the run, or follows a space: a dash glues it to the number before it.
      const gluedBefore = g === 0 ? isWordChar(text[runStart - 1]) : text[first.start - 1] !== ' ';
      if (gluedBefore || !mayStartCard(text[first.start])) {
        g++;
        continue;
      }
      let digits = '';
      let best = -1;
      const lens: number[] = [];
      const sep = text[(groups[g] as Group).end];
      for (let h = g; h < groups.length; h++) {
        const grp = groups[h] as Group;
        if (digits.length + (grp.end - grp.start) > 19) break;
        if (h > g && text[grp.start - 1] !== sep) break;
        digits += text.slice(grp.start, grp.end);
        lens.push(grp.end - grp.start);
        if (grp.end === runEnd && isWordChar(text[runEnd])) break;
        // Likewise it ends the run or is followed by a space.
        if (grp.end !== runEnd && text[grp.end] !== ' ') continue;
        // No printed layout starts like this: longer candidates from this start cannot be cards either.
        if (lens.length >= 2 && lens[0] !== 4) break;
        const layoutOk = lens.length === 1 || isCardLayout(lens);
        if (digits.length >= 13 && layoutOk && hasKnownIin(digits) && luhnValid(digits)) best = h;
      }
      // Candidates may overlap (a Luhn-valid chance across an SSN and a card): detect() keeps the
      // combination that covers the most text.
      if (best >= 0) out.push({ type: 'CREDIT_CARD', start: first.start, end: (groups[best] as Group).end });
      g++;
    }
  }
  return out;
}
