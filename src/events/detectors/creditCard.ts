/**
 * Payment card numbers: 13 to 19 digits, written together or in groups separated by group gaps
 * (common.ts: space, dash, dot, "/", ":" or "_", mixed, doubled or padded, or a lone comma,
 * semicolon or pipe, never fields of a row it separates), with a known issuer prefix (IIN) whose length rule fits, and a valid
 * Luhn check digit.
 *
 * The scanner walks each maximal run of digit groups once; inside a run it tries candidate cards that
 * start at each group boundary (so "Order 12 4111 1111 1111 1111" still finds the card) and reports
 * every valid length per start (at most seven, so the scan stays linear); overlapping candidates are
 * settled by detect(). A run without separators must be the card itself (13-19 digits), which keeps
 * long numeric identifiers from yielding false positives.
 *
 * A padded or doubled "|" separates a table's cells ("| 4096 | 2048 |", "||"), never a card's groups:
 * a card in a pipe-delimited record is one cell, and about 4% of rows of four 4-digit numbers pass
 * an issuer prefix and Luhn. Only a lone "|" between two digits is a gap (common.ts LONE_DELIMITERS),
 * as a lone comma is. A masked card ("4111 **** **** 1111") keeps too few digits to be one, and must
 * stay so.
 */
import type { Finding } from '../findings.js';
import { escapeRegex } from '../../escapeRegex.js';
import {
  delimiterGrouped,
  fieldsOfDelimitedRow,
  gapAfter,
  gapGlues,
  isDigit,
  luhnValid,
  paddedMark,
  regexFindings,
  roundNumbers,
  wordAfter,
  wordBefore,
} from './common.js';

interface Group {
  start: number;
  end: number;
}

/**
 * Issuer ranges: [first prefix, last prefix, shortest length, longest length]. The prefixes of one
 * row have the same number of digits. Sources: the networks' published IIN ranges, as listed by the
 * established open-source card validators.
 */
const IIN_RANGES: ReadonlyArray<readonly [string, string, number, number]> = [
  ['4', '4', 13, 19], // Visa (13, 16, 19; see VISA_LENGTHS)
  ['51', '55', 16, 16], // Mastercard
  ['2221', '2720', 16, 16], // Mastercard 2-series
  ['34', '34', 15, 15], // American Express
  ['37', '37', 15, 15],
  ['6011', '6011', 16, 19], // Discover
  ['65', '65', 16, 19],
  ['644', '649', 16, 19],
  ['622126', '622925', 16, 19],
  ['3528', '3589', 16, 19], // JCB
  ['300', '305', 14, 19], // Diners Club
  ['36', '36', 14, 19],
  ['38', '39', 14, 19],
  ['62', '62', 16, 19], // UnionPay
  ['5018', '5018', 13, 19], // Maestro
  ['5020', '5020', 13, 19],
  ['5038', '5038', 13, 19],
  ['5893', '5893', 13, 19],
  ['6304', '6304', 13, 19],
  ['6759', '6759', 13, 19],
  ['6761', '6763', 13, 19],
  ['1', '1', 15, 15], // UATP
  ['5019', '5019', 16, 16], // Dankort
  ['2200', '2204', 16, 19], // Mir
  ['9792', '9792', 16, 16], // Troy
  ['60', '60', 16, 16], // RuPay
  ['81', '82', 16, 16],
  ['508', '508', 16, 16],
  ['353', '353', 16, 16],
  ['356', '356', 16, 16],
  ['506099', '506198', 16, 19], // Verve
  ['650002', '650027', 16, 19],
  ['636', '636', 16, 19], // InterPayment
  ['637', '639', 16, 16], // InstaPayment
];
const VISA_LENGTHS = new Set([13, 16, 19]);

/** True when the digits carry a known issuer prefix and a length that issuer uses. */
export function hasKnownIin(d: string): boolean {
  const len = d.length;
  for (const [lo, hi, min, max] of IIN_RANGES) {
    const p = d.slice(0, lo.length);
    if (p.length === lo.length && p >= lo && p <= hi && len >= min && len <= max) {
      if (lo === '4' && !VISA_LENGTHS.has(len)) continue;
      return true;
    }
  }
  return false;
}

export function isValidCardNumber(digits: string): boolean {
  return /^\d{13,19}$/.test(digits) && hasKnownIin(digits) && luhnValid(digits);
}

/** Issuer prefixes start with 1-6, 8 or 9; a number starting with 0 or 7 cannot be a card. */
function mayStartCard(c: string | undefined): boolean {
  return c !== undefined && c >= '1' && c <= '9' && c !== '7';
}

/**
 * Printed layouts besides 4-4-...-last(1..4): 4-6-5, 4-6-4 (Amex, Diners), 4-5-6 (UATP). Not two
 * halves of eight (8-8) nor 6-4-6: a review found ordinary text read so, two 8-digit order ids side
 * by side ("Orders 45123445 45123452"), an id range ("Rows 40000003-40000100"), about one pair in ten
 * of those starting like a card passing Luhn.
 */
const CARD_LAYOUTS: readonly (readonly number[])[] = [
  [4, 6, 5],
  [4, 6, 4],
  [4, 5, 6],
];

/** Whether `lens` (at least two groups) is a printed layout. */
function isCardLayout(lens: readonly number[]): boolean {
  if (CARD_LAYOUTS.some((l) => l.length === lens.length && l.every((n, k) => n === lens[k]))) return true;
  for (let k = 0; k < lens.length - 1; k++) if (lens[k] !== 4) return false;
  const last = lens[lens.length - 1] ?? 0;
  return last >= 1 && last <= 4;
}

/** Whether more groups after `lens` may still make a printed layout. */
function mayGrowIntoLayout(lens: readonly number[]): boolean {
  if (lens.every((n) => n === 4)) return true;
  return CARD_LAYOUTS.some((l) => l.length > lens.length && lens.every((n, k) => n === l[k]));
}

/**
 * Separators written between a card's groups that are no group gap for other numbers (common.ts):
 * an apostrophe (the Swiss thousands separator, and a typographic one arrives as "'"), "=", " -- ".
 * Each is a card's separator only when it stands between every group of the number alike, the groups
 * are a printed layout, and the number is the whole run: the same separator and more digits before or
 * after it make something else; and so does a number whose every group is round (common.ts
 * roundNumbers). Not ", " nor " + ": a list or a sum of four 4-digit numbers ("Counts 4111, 2222,
 * 3333, 4448", a review's) passes an issuer prefix and Luhn often enough to refuse ordinary records.
 */
const CARD_ONLY_GAPS: readonly string[] = ["'", '=', ' -- '];
const CARD_ONLY_GAP_RES: readonly (readonly [string, RegExp])[] = CARD_ONLY_GAPS.map((gap) => {
  const g = escapeRegex(gap);
  // Bounded quantifiers, and a start only where no digit (nor the gap and a digit) stands before:
  // linear (common.ts).
  return [gap, new RegExp(`(?<![0-9])(?<!\\d${g})\\d{1,8}(?:${g}\\d{1,8}){1,4}(?![0-9])`, 'g')] as const;
});

const DIGIT_BEFORE_GAP: ReadonlyMap<string, RegExp> = new Map(CARD_ONLY_GAPS.map((gap) => [gap, new RegExp(`\\d${escapeRegex(gap)}\\d`)]));

/** Cards whose groups CARD_ONLY_GAPS separate. */
function detectCardsWithOtherGaps(text: string): Finding[] {
  const out: Finding[] = [];
  for (const [gap, re] of CARD_ONLY_GAP_RES) {
    // A plain search for a digit before the gap first: "=" and "'" stand in most texts, numbers
    // between them in few, and each regex is a walk of the text with look-behinds.
    if (!text.includes(gap) || !DIGIT_BEFORE_GAP.get(gap)!.test(text)) continue;
    for (const f of regexFindings(text, re, 'CREDIT_CARD', (start, end) => {
      if (wordBefore(text, start) || wordAfter(text, end)) return false;
      if (text.startsWith(gap, end) && isDigit(text[end + gap.length])) return false;
      const groups = text.slice(start, end).split(gap);
      return isCardLayout(groups.map((g) => g.length)) && !roundNumbers(groups) && isValidCardNumber(groups.join(''));
    }))
      out.push(f);
  }
  return out;
}

function readRun(text: string, from: number): Group[] {
  const groups: Group[] = [];
  let j = from;
  for (;;) {
    let k = j;
    while (k < text.length && isDigit(text[k])) k++;
    groups.push({ start: j, end: k });
    const gap = gapAfter(text, k);
    if (gap > 0 && isDigit(text[k + gap])) {
      j = k + gap;
      continue;
    }
    return groups;
  }
}

/**
 * A card's magnetic stripe as payment terminals and POS software log it: track 1 starts with the
 * sentinel "%" and the format code "B", glued to the number ("%B4111111111111111^DOE/JANE^2612..."),
 * so the "B" is no word the number is part of. (Track 2's ";" glues nothing already.)
 */
function afterTrackOneCode(text: string, runStart: number): boolean {
  return text[runStart - 1] === 'B' && text[runStart - 2] === '%';
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
    const gapAt = (h: number): string => text.slice((groups[h - 1] as Group).end, (groups[h] as Group).start);
    for (let g = 0; g < groups.length; g++) {
      const first = groups[g] as Group;
      // A card starts the run, or follows a gap that does not glue (common.ts gapGlues): spaces, or a
      // lone delimiter when the card itself is not grouped by one (a CSV or pipe-delimited field).
      const before = g === 0 ? '' : gapAt(g);
      // A padded mark before it ("1. 4111 1111 1111 1111", "Card 2: ...") glues only a card padded
      // the same way (common.ts gapGlues): checked once the card's own gaps are known.
      const markBefore = g > 0 && paddedMark(before);
      if (g === 0 ? wordBefore(text, runStart) && !afterTrackOneCode(text, runStart) : gapGlues(before, false) && !markBefore) continue;
      if (!mayStartCard(text[first.start])) continue;
      let digits = '';
      /** Whether the card so far is grouped by a lone delimiter (common.ts LONE_DELIMITERS). */
      let grouped = false;
      const lens: number[] = [];
      /** Whether a gap inside the card so far is longer than one character. */
      let padded = false;
      for (let h = g; h < groups.length; h++) {
        const grp = groups[h] as Group;
        if (h > g && gapAt(h).length > 1) padded = true;
        // Padded after a padded mark: glued, and so is every longer reading from this start.
        if (markBefore && padded) break;
        if (h > g && delimiterGrouped(gapAt(h))) {
          // Grouped by lone delimiters after one: one field of a CSV or pipe-delimited row of
          // numbers, not a card.
          if (gapGlues(before, true)) break;
          grouped = true;
        }
        if (digits.length + (grp.end - grp.start) > 19) break;
        digits += text.slice(grp.start, grp.end);
        lens.push(grp.end - grp.start);
        if (grp.end === runEnd && wordAfter(text, runEnd)) break;
        // Likewise it ends the run or is followed by a gap that does not glue.
        if (grp.end !== runEnd && gapGlues(gapAt(h + 1), grouped, padded)) continue;
        // No printed layout starts like this: longer candidates from this start cannot be cards either.
        const layoutOk = lens.length === 1 || isCardLayout(lens);
        if (!layoutOk && !mayGrowIntoLayout(lens)) break;
        // Every valid length is a candidate, not only the longest: in "4033 5294 5474 9459 457 01 0001"
        // the 19-digit reading swallows the first group of an SSN, and detect() must be able to choose
        // the 16-digit card plus the SSN instead.
        if (digits.length >= 13 && layoutOk && hasKnownIin(digits) && luhnValid(digits) && !(grouped && fieldsOfDelimitedRow(text, first.start, grp.end))) {
          out.push({ type: 'CREDIT_CARD', start: first.start, end: grp.end });
        }
      }
    }
  }
  for (const f of detectCardsWithOtherGaps(text)) out.push(f);
  return out;
}
