/**
 * Shared helpers for detectors.
 *
 * Linear-time rule for every detector in this folder: regular expressions have only bounded
 * quantifiers (or a single greedy character class with nothing after it that can fail), and every
 * pattern that could start at many overlapping positions is anchored by a look-behind on the previous
 * character, so the work per start position is bounded by a constant and the whole scan is O(n) even
 * on adversarial 1 MiB inputs.
 */
import type { Finding, FindingType } from '../findings.js';

export type Detector = (text: string) => Finding[];

export function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

export function isAsciiLetter(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

export function isWordChar(c: string | undefined): boolean {
  return isDigit(c) || isAsciiLetter(c) || c === '_';
}

/**
 * Whether the character before `start` (or at `end`) is a word character that glues a value to a
 * word, as isWordChar, except an underscore of Markdown's emphasis: "_4111 1111 1111 1111_", the
 * italics turndown and Slack's formatting write ("__...__" for bold, "___...___" for both), stands
 * alone where "id_4111..." does not. One to three underscores are emphasis when no word character
 * stands beyond them.
 */
export function wordBefore(text: string, start: number): boolean {
  let k = start;
  // One underscore, two or three (italics, bold, both).
  while (start - k < 3 && text[k - 1] === '_') k--;
  return k < start ? isWordChar(text[k - 1]) : isWordChar(text[start - 1]);
}

export function wordAfter(text: string, end: number): boolean {
  let k = end;
  while (k - end < 3 && text[k] === '_') k++;
  return k > end ? isWordChar(text[k]) : isWordChar(text[end]);
}

/**
 * The first index in [0, n) at which `reached(i)` holds, or n: a binary search over anything sorted so
 * that `reached` is false up to some index and true from it on (findings by start or end, offsets).
 * One search for every detector, so each spells only its condition.
 */
export function firstIndex(n: number, reached: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (reached(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A space as an HTML form's query string writes it (application/x-www-form-urlencoded). */
export const FORM_SPACE = '+';

/**
 * What may stand between the digit groups of a number as people write it (SSN, card): the gap. One
 * definition for every such detector.
 *
 * - One to MAX_GAP characters of GROUP_SEPARATORS: the normalized dash, dot and space, "/" and ":"
 *   ("123/45/6789"; "cc:4111:1111:1111:1111" in a policy id, whose alphabet allows ":") and "_"
 *   ("123_45_6789" in an identifier), mixed, doubled or padded ("123-45 6789", "4111  1111",
 *   "123 - 45 - 6789"): a careless or deliberate separator does not make a value any less a value.
 * - Or one to MAX_GAP "+" alone, a space as a form's query string writes it
 *   ("?card=4111+1111+1111+1111"). Never mixed with another separator: a form writes no space next to
 *   its "+", and "250 + 15 + 1200" is a sum; a run that mixes them is no gap (it ends the number).
 * - Or one lone delimiter of LONE_DELIMITERS: a comma ("123,45,6789"), a semicolon
 *   ("4111;1111;1111;1111"), a pipe ("4111|1111|1111|1111"), an asterisk ("4111*1111*1111*1111"), a
 *   number sign ("123#45#6789") or a tilde ("123~45~6789"). Each separates values when padded, doubled
 *   or next to another separator: a comma or semicolon with a space separates the items of a list
 *   ("sizes 123, 45, 6789"), a pipe with spaces the cells of a Markdown or psql table
 *   ("| 4096 | 2048 |"), "||" an empty cell, an asterisk with spaces a product ("4111 * 1111") and
 *   in runs a mask ("***-**-6789", "4111 **** **** 1111", "411111******1111"); so each is a gap only
 *   alone, right between two digits ("#12345", "****1234" have none).
 *   And a number whose groups it separates is no value when the same delimiter stands right before or
 *   after it: those are the fields of a delimited row ("GET|200|35|5120", "Widget;450;03;2024",
 *   "SKU*123*45*6789"), see fieldsOfDelimitedRow. A number grouped by lone asterisks whose every
 *   group is a round number (a multiple of 8 or of 10) is a product of sizes, not a value
 *   ("640*48*1024", "128*64*3072", "4096*2048*1024*1088"): see roundProduct. Thousands
 *   ("1,234,567": groups of three) never have a card's or an SSN's
 *   group shape. The price, paid knowingly: a row of exactly four 4-digit numbers written
 *   "4096|2048|1024|3019" (or with commas, as before) that passes an issuer prefix and Luhn, about
 *   4% of such rows, is read as a card, and so is "123*45*6789" written as a product; masked is safer
 *   than leaked. A masked card keeps its "*" in runs and too few digits, so it stays no card.
 *
 * A separator after every digit ("4 1 1 1 ...", "1-2-3-4-5-6-7-8-9") is no grouping any detector
 * reads: no card layout has groups of one digit, and nine single digits are a sudoku row or a count
 * ("1 2 3 4 5 6 7 8 9" passes every SSN rule) as often as a spelled-out SSN.
 *
 * Whether a gap glues a number to the digits beyond it: see gapGlues.
 */
export const GROUP_SEPARATORS = ' -./:_';
export const MAX_GAP = 3;
/** Delimiters that are a gap only alone (see above), and glue only a number grouped by them. */
export const LONE_DELIMITERS = ',;|*#~';
/** A gap as a regex (the digits after it must follow, so a longer run of separators fails). */
export const GROUP_GAP_SOURCE = `(?:[${GROUP_SEPARATORS.replace(/[-\]\\^]/g, '\\$&')}]{1,${MAX_GAP}}|\\${FORM_SPACE}{1,${MAX_GAP}}|[${LONE_DELIMITERS.replace(/[-\]\\^]/g, '\\$&')}])`;

function isGapCharacter(c: string | undefined): boolean {
  return c !== undefined && c.length === 1 && (c === FORM_SPACE || GROUP_SEPARATORS.includes(c));
}

function isLoneDelimiter(c: string | undefined): boolean {
  return c !== undefined && c.length === 1 && LONE_DELIMITERS.includes(c);
}

/**
 * Whether the number at [start, end), grouped by a lone delimiter, is no value but what that delimiter
 * makes of it: fields of a row it separates (the same delimiter right before its first digit or
 * right after its last), or a product of round numbers (roundProduct).
 */
export function fieldsOfDelimitedRow(text: string, start: number, end: number): boolean {
  for (let k = start; k < end; k++) {
    const c = text[k];
    if (isLoneDelimiter(c) && (text[start - 1] === c || text[end] === c)) return true;
  }
  return roundProduct(text.slice(start, end));
}

/**
 * Whether a number as written (digits and gaps) is a product of round numbers: grouped by a lone "*"
 * somewhere, and every digit group a multiple of 8 or of 10 ("640*48*1024", a tensor's or a buffer's
 * sizes). Digit groups of a random value are all round by chance once in a few hundred for an SSN,
 * less often for a card.
 */
export function roundProduct(digitsAndGaps: string): boolean {
  return digitsAndGaps.includes('*') && roundNumbers(digitsAndGaps.split(/[^0-9]+/).filter((g) => g !== ''));
}

/** Whether every digit group is a round number (a multiple of 8 or of 10), as sizes and amounts are. */
export function roundNumbers(groups: readonly string[]): boolean {
  for (const group of groups) {
    const n = Number(group);
    if (n % 8 !== 0 && n % 10 !== 0) return false;
  }
  return true;
}

/** Whether a number as written (digits and gaps) is grouped by a lone delimiter somewhere. */
export function delimiterGrouped(digitsAndGaps: string): boolean {
  for (const c of digitsAndGaps) if (isLoneDelimiter(c)) return true;
  return false;
}

/** A run of gap characters `length` long holding `plus` "+": a gap if short enough and not mixed. */
function gapOfRun(length: number, plus: number): number {
  return length <= MAX_GAP && (plus === 0 || plus === length) ? length : 0;
}

/** Length of the gap starting at p (0 if there is none): the whole run of separators, or a lone delimiter. */
export function gapAfter(text: string, p: number): number {
  let k = p;
  let plus = 0;
  for (; k - p <= MAX_GAP && isGapCharacter(text[k]); k++) if (text[k] === FORM_SPACE) plus++;
  if (k > p) return gapOfRun(k - p, plus);
  return isLoneDelimiter(text[p]) ? 1 : 0;
}

/** Length of the gap ending right before p (0 if there is none). */
export function gapBefore(text: string, p: number): number {
  let k = p;
  let plus = 0;
  for (; p - k <= MAX_GAP && k > 0 && isGapCharacter(text[k - 1]); k--) if (text[k - 1] === FORM_SPACE) plus++;
  if (k < p) return gapOfRun(p - k, plus);
  return isLoneDelimiter(text[p - 1]) ? 1 : 0;
}

/**
 * Whether a gap makes the digits on both sides one longer number. Spaces never do, nor "+" (a form's
 * space): in "ssn 123 45 6789 4111 1111 1111 1111" both the SSN and the card must be found, and when
 * in doubt a finding (masked) is safer than a miss (leaked). A lone delimiter (LONE_DELIMITERS) does
 * only for a number grouped by lone delimiters itself (`grouped`: thousands, a CSV or pipe-delimited
 * row of numbers: "5,123,45,6789,10", "5|123|45|6789|10"); next to any other number it is a field
 * boundary ("42,123-45-6789,jane", "42|4111111111111111|jane"). Any other separator does
 * ("555-123-45-6789", "1/123/45/6789"), except a padded one (paddedMark) beside a number that is not
 * padded itself (`paddedNumber` false).
 */
export function gapGlues(gap: string, grouped: boolean, paddedNumber = true): boolean {
  if (gap.length === 1 && isLoneDelimiter(gap)) return grouped;
  if (!paddedNumber && paddedMark(gap)) return false;
  for (const c of gap) if (c !== ' ' && c !== FORM_SPACE) return true;
  return false;
}

/**
 * A separator with a space beside it ("1. ", "Card 2: ", " - ", " / "): what stands between a list
 * item's number or a label's and its value ("1. 123-45-6789", "SSN #2: 123-45-6789"), or between two
 * cells ("4111111111111111 - 12/26"). A number written without such padding is a value of its own
 * next to it; one padded the same way ("100 - 123 - 45 - 6789") may be part of a longer one. Numbered
 * lists are how people and language models list values, and each one was missed.
 */
export function paddedMark(gap: string): boolean {
  let space = false;
  let mark = false;
  for (const c of gap) {
    if (c === ' ') space = true;
    else if (c !== FORM_SPACE) mark = true;
  }
  return space && mark;
}

/** Whether a number's own gaps (between the digit groups of `digitsAndGaps`) are ever longer than one character. */
export function paddedNumber(digitsAndGaps: string): boolean {
  let run = 0;
  for (const c of digitsAndGaps) {
    run = isDigit(c) ? 0 : run + 1;
    if (run > 1) return true;
  }
  return false;
}

/** Whether the number at [start, end) continues, across a gap that glues, into more digits. */
export function gluedAcrossGap(text: string, start: number, end: number, grouped: boolean): boolean {
  const padded = paddedNumber(text.slice(start, end));
  const b = gapBefore(text, start);
  if (b > 0 && isDigit(text[start - b - 1]) && gapGlues(text.slice(start - b, start), grouped, padded)) return true;
  const a = gapAfter(text, end);
  return a > 0 && isDigit(text[end + a]) && gapGlues(text.slice(end, end + a), grouped, padded);
}

/**
 * Runs a global regex over text and turns each match into a finding (only group 1 of it when the
 * regex has the `d` flag, e.g. a secret value after its name).
 * `accept` may veto a match; scanning then resumes one code unit after the match start, so a vetoed
 * long match cannot hide a valid shorter one that starts later.
 */
export function regexFindings(text: string, re: RegExp, type: FindingType, accept?: (start: number, end: number, m: RegExpExecArray) => boolean): Finding[] {
  if (!re.global) throw new Error('regexFindings needs a global regex');
  const out: Finding[] = [];
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    let start = m.index;
    let end = start + m[0].length;
    const group = m.indices?.[1];
    if (group) [start, end] = group;
    if (m[0].length === 0) {
      re.lastIndex = m.index + 1;
      continue;
    }
    if (accept && !accept(start, end, m)) {
      re.lastIndex = m.index + 1;
      continue;
    }
    out.push({ type, start, end });
  }
  return out;
}

/** Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}
