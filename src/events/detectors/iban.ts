/**
 * International Bank Account Numbers: country code, two check digits, then the country's BBAN, with
 * the exact total length from the IBAN registry and a valid ISO 7064 mod-97 checksum. Written compact
 * (DE89370400440532013000) or in groups of four separated by spaces (the print form), dashes or dots
 * (DE89-3704-0044-0532-0130-00), or a form's "+" for a space (DE89+3704+..., a query string or a POST
 * body), one kind of separator per number. Between two groups stands a gap as
 * common.ts measures it (at most MAX_GAP characters) of that one kind: "DE89  3704  0044" aligned in
 * columns, "DE89 3704 0044\n  0532 0130 00" wrapped onto an indented line (the line break is a space
 * once normalized), "DE89--3704". Upper or lower case
 * (de89370400440532013000 in a URL or typed carelessly), but one case per number: random ids are
 * mixed-case, and an all-one-case run keeps their chance of passing the checksum negligible.
 */
import type { Finding } from '../findings.js';
import { FORM_SPACE, gapAfter, isAsciiLetter, isDigit } from './common.js';

/** Total IBAN length per country (SWIFT IBAN registry). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BI: 27,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SO: 23,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  YE: 30,
};

/**
 * Separators between the groups: a space, "-", "." or a form's "+" (see above), and "/" and ","
 * ("DE89/3704/0044/0532/0130/00", "DE89,3704,..."), as a form field or a CSV row may write them.
 */
const SEPARATORS = new Set([' ', '-', '.', '/', ',', FORM_SPACE]);
/** Separators of the print form: a space, or a form's "+" for it (`iban=DE89+3704+...` in a query string or a POST body). */
const isSpaceLike = (sep: string | undefined) => sep === ' ' || sep === FORM_SPACE;
/**
 * The start: a country code and the check digits, glued ("DE89") or, upper case only, with one
 * separator between them as the groups have ("DE 89 3704 ..."). A lower-case pair set apart is a word
 * ("no 93 ...").
 */
const START_RE = /(?<![A-Za-z0-9])(?:([A-Z]{2})([ ./,+-]?)|([a-z]{2}))\d{2}/g;

/**
 * Groupings a country prints its IBAN in besides groups of four: the national account number's parts
 * after the country code and check digits (France and Monaco: bank 5, branch 5, account 11, key 2,
 * "FR14 20041 01005 0500013M026 06"; Belgium: 3, 7, 2, "BE68-539-0075470-34"). Lengths of every group,
 * the first being the country code and check digits.
 */
const NATIONAL_GROUPINGS: Readonly<Record<string, readonly (readonly number[])[]>> = {
  FR: [[4, 5, 5, 11, 2]],
  MC: [[4, 5, 5, 11, 2]],
  BE: [[4, 3, 7, 2]],
};

/**
 * A digit, or a letter of the case the number started in; in a grouped number (`anyCase`), a letter
 * of either case ("GB82 West 1234 ...": a bank code typed as a word). Random ids are compact, and an
 * all-one-case run keeps their chance of passing the checksum negligible; a grouped one is written for
 * people to read.
 */
function isIbanChar(c: string | undefined, lower = false, anyCase = false): boolean {
  if (c === undefined) return false;
  if (isDigit(c)) return true;
  if (anyCase) return isAsciiLetter(c);
  return lower ? c >= 'a' && c <= 'z' : c >= 'A' && c <= 'Z';
}

/**
 * Length of the gap at p (common.ts gapAfter) if it is made of the number's one separator alone, else
 * 0: one kind of separator per number, so "DE89-3704 0044-..." and "DE89  3704 - 0044" are no IBANs.
 */
function separatorGap(text: string, p: number, sep: string): number {
  const gap = gapAfter(text, p);
  for (let k = p; k < p + gap; k++) if (text[k] !== sep) return 0;
  return gap;
}

/** ISO 7064 mod 97-10 over a compact, upper-case IBAN. */
export function ibanChecksumValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const c of rearranged) {
    const v = isDigit(c) ? c.charCodeAt(0) - 48 : c.charCodeAt(0) - 55;
    if (v < 0 || v > 35) return false;
    rem = v > 9 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

export function isValidIban(compact: string): boolean {
  const len = IBAN_LENGTHS[compact.slice(0, 2)];
  return len !== undefined && compact.length === len && /^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(compact) && ibanChecksumValid(compact);
}

/** Whether the number ending at p runs on: a letter or digit, or its own gap and more of it. */
function runsOn(text: string, p: number, sep: string | undefined, lastGap: number, lower: boolean, anyCase: boolean): boolean {
  const next = text[p];
  if (isDigit(next) || isAsciiLetter(next)) return true;
  // The number's own gap of dashes or dots then more characters: part of a longer reference
  // ("DE89--...--00--17"), not an IBAN. Another run of them ends it ("DE89.3704...00...Thanks").
  const after = !isSpaceLike(sep) && sep !== undefined ? separatorGap(text, p, sep) : 0;
  return after > 0 && after === lastGap && isIbanChar(text[p + after], lower, anyCase);
}

/**
 * Where the IBAN of `len` characters whose check digits end at p ends, read in groups of four (or
 * compact), or -1. `compact` holds its first four characters; `startSep` is the separator between the
 * country code and the check digits, if any.
 */
function groupedEnd(text: string, p: number, compact: string, len: number, lower: boolean, startSep: string | undefined): number {
  const sep = SEPARATORS.has(text[p] ?? '') ? text[p] : undefined;
  if (startSep !== undefined && sep !== startSep) return -1;
  const anyCase = sep !== undefined;
  let lastGap = 0;
  while (compact.length < len) {
    // Grouped: the separator is allowed only on a four-character boundary. A dashed or dotted
    // number is grouped throughout: "AD90-5077-9A5A-118F00000011", the tail of a UUID, passes
    // Andorra's length and checksum but is not an IBAN.
    if (sep !== undefined && compact.length % 4 === 0) {
      const gap = separatorGap(text, p, sep);
      if (gap > 0 && isIbanChar(text[p + gap], lower, anyCase)) {
        p += gap;
        lastGap = gap;
      } else if (!isSpaceLike(sep)) break;
    }
    const c = text[p];
    if (!isIbanChar(c, lower, anyCase)) break;
    compact += c;
    p++;
  }
  if (compact.length !== len || runsOn(text, p, sep, lastGap, lower, anyCase)) return -1;
  return ibanChecksumValid(compact.toUpperCase()) ? p : -1;
}

/** Where the IBAN starting at `start` ends, read in the national grouping `groups` (NATIONAL_GROUPINGS), or -1. */
function nationalEnd(text: string, start: number, groups: readonly number[], lower: boolean): number {
  let p = start;
  let compact = '';
  let sep: string | undefined;
  let gap = 0;
  for (let g = 0; g < groups.length; g++) {
    if (g > 0) {
      sep ??= SEPARATORS.has(text[p] ?? '') ? text[p] : undefined;
      gap = sep === undefined ? 0 : separatorGap(text, p, sep);
      if (gap === 0) return -1;
      p += gap;
    }
    for (let k = 0; k < (groups[g] as number); k++) {
      if (!isIbanChar(text[p], lower, g > 0)) return -1;
      compact += text[p];
      p++;
    }
  }
  if (runsOn(text, p, sep, gap, lower, true)) return -1;
  return ibanChecksumValid(compact.toUpperCase()) ? p : -1;
}

export function detectIbans(text: string): Finding[] {
  const out: Finding[] = [];
  START_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = START_RE.exec(text)) !== null) {
    const start = m.index;
    const country = (m[1] ?? m[3] ?? '').toUpperCase();
    const lower = m[3] !== undefined;
    const startSep = m[2] === '' ? undefined : m[2];
    const len = IBAN_LENGTHS[country];
    if (len === undefined) continue;
    let end = groupedEnd(text, start + m[0].length, `${country}${m[0].slice(-2)}`, len, lower, startSep);
    if (end === -1 && startSep === undefined) {
      for (const groups of NATIONAL_GROUPINGS[country] ?? []) if ((end = nationalEnd(text, start, groups, lower)) !== -1) break;
    }
    if (end === -1) continue;
    out.push({ type: 'IBAN', start, end });
    START_RE.lastIndex = end;
  }
  return out;
}
