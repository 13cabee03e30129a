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
 * What may stand between the digit groups of a number as people write it (SSN, card): the normalized
 * dash, dot and space, plus "/" and ":" ("123/45/6789"; "cc:4111:1111:1111:1111" in a policy id,
 * whose alphabet allows ":"). The groups of one number may mix them ("123-45 6789"): a careless or
 * deliberate separator does not make a value any less a value. One list for every such detector.
 */
export const GROUP_SEPARATORS = ' -./:';
/** GROUP_SEPARATORS as a regex character class. */
export const GROUP_SEPARATOR_CLASS = `[${GROUP_SEPARATORS.replace(/[-\]\\^]/g, '\\$&')}]`;

export function isGroupSeparator(c: string | undefined): boolean {
  return c !== undefined && c.length === 1 && GROUP_SEPARATORS.includes(c);
}

/**
 * Runs a global regex over text and turns each match into a finding (only group 1 of it when the
 * regex has the `d` flag, e.g. a secret value after its name).
 * `accept` may veto a match; scanning then resumes one code unit after the match start, so a vetoed
 * long match cannot hide a valid shorter one that starts later.
 */
export function regexFindings(
  text: string,
  re: RegExp,
  type: FindingType,
  accept?: (start: number, end: number, m: RegExpExecArray) => boolean,
): Finding[] {
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
