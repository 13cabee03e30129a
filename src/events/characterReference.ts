// Character references as HTML reads them, matched at a given position (sticky): numeric ones
// (`&#45;`, `&#x2D;`, with any number of leading zeros: `&#00000045;` is a hyphen too) and named ones
// (`&quot;`, `&sol;`, `&ndash;`). One grammar and one table for the detectors' reading of a value
// (events/normalize.ts) and the secret scrubber's reading of a SIEM's answer
// (delivery/scrubSecrets.ts): a spelling one of them reads, the other reads too.
//
// A numeric reference's `;` may be missing: browsers decode `jane&#64example.com` all the same (the
// HTML tokenizer's "missing semicolon" error is not fatal). Its digits then run to the first
// character that is not one, as the tokenizer reads them: `&#4545` is U+11C1, not "-" and "45", and
// `&#x40example` is U+040E, the "e" being a hex digit. A reference with more significant digits than
// any code point has (which HTML reads as U+FFFD) matches none of these, and is read as text.

/** `&#x` and up to six significant hex digits, all of them; the code point's digits in group 1. */
export const HEX_REFERENCE = /&#x0*([0-9a-f]{1,6})(?![0-9a-f]);?/iy;
/** `&#` and up to seven significant decimal digits, all of them; the code point's digits in group 1. */
export const DECIMAL_REFERENCE = /&#0*(\d{1,7})(?!\d);?/y;

/**
 * Named references by lower-cased name, as their code points. Every HTML5 name of a printable ASCII
 * character (an HTML error page escapes an echoed header with htmlspecialchars: `&quot;`, `&amp;`;
 * some escape every punctuation mark: `&sol;`, `&plus;`), and the spaces, dashes, dots and invisible
 * characters a value's groups may be written with (`123&ndash;45&ndash;6789`, `4111&shy;1111...`).
 * Read in any letter case and only with the `;`: no two names here differ by case alone.
 * `hyphen` and `dash` are U+2010 in HTML5; read as "-", which is what the detectors make of U+2010.
 */
const NAMED: ReadonlyArray<readonly [number, readonly string[]]> = [
  [0x09, ['tab']],
  [0x0a, ['newline']],
  [0x21, ['excl']],
  [0x22, ['quot']],
  [0x23, ['num']],
  [0x24, ['dollar']],
  [0x25, ['percnt']],
  [0x26, ['amp']],
  [0x27, ['apos']],
  [0x28, ['lpar']],
  [0x29, ['rpar']],
  [0x2a, ['ast', 'midast']],
  [0x2b, ['plus']],
  [0x2c, ['comma']],
  [0x2d, ['hyphen', 'dash']],
  [0x2e, ['period']],
  [0x2f, ['sol']],
  [0x3a, ['colon']],
  [0x3b, ['semi']],
  [0x3c, ['lt']],
  [0x3d, ['equals']],
  [0x3e, ['gt']],
  [0x3f, ['quest']],
  [0x40, ['commat']],
  [0x5b, ['lsqb', 'lbrack']],
  [0x5c, ['bsol']],
  [0x5d, ['rsqb', 'rbrack']],
  [0x5e, ['hat']],
  [0x5f, ['lowbar', 'underbar']],
  [0x60, ['grave', 'diacriticalgrave']],
  [0x7b, ['lcub', 'lbrace']],
  [0x7c, ['verbar', 'vert', 'verticalline']],
  [0x7d, ['rcub', 'rbrace']],
  [0xa0, ['nbsp', 'nonbreakingspace']],
  [0xad, ['shy']],
  [0xb7, ['middot']],
  [0x2002, ['ensp']],
  [0x2003, ['emsp']],
  [0x2007, ['numsp']],
  [0x2008, ['puncsp']],
  [0x2009, ['thinsp']],
  [0x200a, ['hairsp']],
  [0x200b, ['zerowidthspace']],
  [0x200c, ['zwnj']],
  [0x200d, ['zwj']],
  [0x200e, ['lrm']],
  [0x200f, ['rlm']],
  [0x2013, ['ndash']],
  [0x2014, ['mdash']],
  [0x2022, ['bull']],
  [0x2212, ['minus']],
];

// A Map, not an object: `&constructor;` must not read Object.prototype.
const NAMED_CODE_POINTS: ReadonlyMap<string, number> = new Map(NAMED.flatMap(([cp, names]) => names.map((name) => [name, cp] as const)));

/**
 * `&`, a name and `;`; the name in group 1, to be looked up with namedReference. Bounded (no name is
 * longer), so a long run of letters after a `&` costs one bounded look.
 */
export const NAMED_REFERENCE = /&([a-z]{2,16});/iy;

/** The code point of a named reference's name (any letter case), or undefined for a name not known. */
export function namedReference(name: string): number | undefined {
  return NAMED_CODE_POINTS.get(name.toLowerCase());
}

/**
 * A reference after an ampersand itself written as one (`&amp;#64;`, `&amp;commat;`,
 * `&#38;nbsp;`): HTML escaped twice, as a page escaping a value that was already escaped shows it,
 * the hex digits in group 1, the decimal ones in group 2, the name in group 3 (as the three above
 * read them). Two layers only: `&amp;amp;#64;` reads as "&#64;", and that text is what the detectors
 * see of it. Not for the secret scrubber, which reads an answer layer by layer.
 */
export const REFERENCE_AFTER_AMP = /&(?:amp;|#0*38(?!\d);?|#x0*26(?![0-9a-f]);?)(?:#x0*([0-9a-f]{1,6})(?![0-9a-f]);?|#0*(\d{1,7})(?!\d);?|([a-z]{2,16});)/iy;
