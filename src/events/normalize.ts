/**
 * The text the detectors see: one canonical spelling of the characters a value can be written with,
 * so each detector needs to know only ASCII digits, letters, "@" and the three separators "-", "." and
 * " ". Without it "123–45–6789" (en dashes), "jane＠example.com" (fullwidth at sign), fullwidth digits
 * or a zero-width space inside a card number would pass unmasked.
 *
 * Per code point: Unicode NFKC (fullwidth and compatibility forms become ASCII), then every dash
 * becomes "-", every dot-like separator ".", every typographic apostrophe "'", every space, tab, line
 * break, other control character and blank-looking symbol (braille blank U+2800) " " (a line break,
 * written or escaped, with the blanks around it and the breaks right before it, is two spaces, one
 * after a separator: see LINE_BREAK), a replacement character between
 * two digits " ",
 * decimal digits of any script their ASCII digit, enclosed digits ("❶", "⓵", "⑴", "⒈") their digits,
 * the Turkish dotted capital "İ" and dotless "ı" the ASCII "I" and "i" (a name upper- or lower-cased
 * in a Turkish locale: "APİ_KEY", "apı_key"; NFKC leaves both, one code unit for one),
 * and invisible characters (format characters such as ZWSP, ZWJ, ZWNJ, BOM, soft hyphen, combining
 * marks, and the other default-ignorable code points such as the Hangul fillers) are dropped.
 *
 * An escape (a percent-encoded ASCII byte or UTF-8 sequence, a character reference, a JSON string's
 * or a programming language's backslash escape: `alice%40example.com`, `jane%EF%BC%A0example.com`,
 * `jane&#64;example.com`, `card:\n4111...`, `\u0438\u0432\u0430\u043d@example.com`, `jane\x40example.com`)
 * is read as the character it spells, so a value copied from a URL, HTML, a JSON log line or source
 * code is found like the value itself; and so is a defanged indicator (`10[.]1[.]2[.]3`,
 * `jane[@]example[.]com`). An escape written in layers is read through them, boundedly: up to three
 * of percent-encoding (`%2540`), two of HTML (`&amp;#64;`).
 *
 * Findings are made in the normalized text but must mask the caller's original text, so the result
 * keeps, for each normalized code unit, the span of the original it came from. Printable ASCII on one
 * line (the common case) has nothing to normalize and returns the text itself with no map.
 */
import { DECIMAL_REFERENCE, HEX_REFERENCE, NAMED_REFERENCE, REFERENCE_AFTER_AMP, namedReference } from './characterReference.js';
import { GROUP_SEPARATORS } from './detectors/common.js';

export interface Normalized {
  text: string;
  /** origStart[i], origEnd[i]: the original span normalized code unit i came from; null = identity. */
  origStart: Int32Array | null;
  origEnd: Int32Array | null;
}

const DASHES = /[\p{Pd}\u2212\u2043\u02D7\u2796\uFE63\uFF0D]/u;
// Dot-like separators, and the full stops of other scripts, which a keyboard of that script types for
// "." (an address written "alice@example۔com" on an Urdu keyboard, an Armenian "։", an Ethiopic "።",
// a Syriac "܁", the word separator middle dot "⸱"): each is the address's dot as much as "．" is.
const DOTS = /[\u00B7\u2022\u2024\u2027\u2219\u22C5\u30FB\u3002\uFF0E\uFF61\uFF65\u06D4\u0589\u1362\u0701\u2E31]/u;
// Typographic apostrophes (a word processor's "o’brien", the modifier letter, Hebrew geresh) are the
// apostrophe a local part may hold.
const APOSTROPHES = /[\u2018\u2019\u201B\u02BC\u05F3]/u;
// Zs, the line and paragraph separators that are not (U+2028, U+2029), the C1 controls (NEL among
// them), and symbols that print as a blank without being spaces to Unicode: the braille blank U+2800
// and the ideographic half fill space U+303F. Each would otherwise split "4111⠀1111⠀1111⠀1111" into
// runs no detector joins.
const SPACES = /[\p{Zs}\p{Cc}\u2028\u2029\u2800\u303F]/u;
// What a line break reads as, written or escaped ("\n", "%0A", "&#10;"), with the blanks on both sides
// of it and the breaks right before it (CR LF, a blank line): two spaces. One gap between the groups
// of a wrapped value, however the lines were padded, but never the single space that glues a number
// at a line's end to a digit starting the next line. After a separator ("4111-1111-\n1111-1111",
// "4111 -\n1111") one space is enough: nothing is glued across it, and the gap stays one.
const LINE_BREAK = '  ';
/** Line breaks: LF, CR, VT, FF, NEL and the Unicode line and paragraph separators. */
function isLineBreak(cp: number): boolean {
  return cp === 0x0a || cp === 0x0d || cp === 0x0b || cp === 0x0c || cp === 0x85 || cp === 0x2028 || cp === 0x2029;
}
/**
 * Where an ANSI control sequence's parameters end, if one starts at k ("[33m" after ESC, as colour
 * codes in terminal logs write it), else -1. Read with its ESC as one blank: left as text, "[33m"
 * glued its letter to the word after it ("\x1b[33maws_secret_key=...").
 */
function csiEnd(text: string, k: number): number {
  if (text.charCodeAt(k) !== 0x5b) return -1;
  let j = k + 1;
  while (j < k + 33 && (isAsciiDigit(text.charCodeAt(j)) || text.charCodeAt(j) === 0x3b)) j++;
  const c = text.charCodeAt(j) | 0x20;
  return c >= 0x61 && c <= 0x7a ? j + 1 : -1;
}
/**
 * The detectors' group separators (detectors/common.ts) but the space: after one of them, one space
 * is gap enough, as a number cannot be glued across it.
 */
function isSeparator(c: number): boolean {
  return c !== 0x20 && GROUP_SEPARATORS.includes(String.fromCharCode(c));
}
// \p{Cs}: a lone surrogate (preflight takes one: a text cut by index) is no character, and
// "ghp_\ud800..." hid the token from every detector (a second review).
const INVISIBLE = /[\p{Cf}\p{Mn}\p{Me}\p{Cs}\p{Default_Ignorable_Code_Point}]/u;

const DECIMAL_DIGIT = /\p{Nd}/u;

/**
 * An escape that spells one character, as URLs and HTML carry text (`alice%40example.com`,
 * `123&#45;45&#x2D;6789`, `jane&commat;example.com`): a percent-encoded byte, a numeric character
 * reference or a named one (events/characterReference.ts: one grammar and one table of names, as the
 * secret scrubber reads them).
 *
 * Up to PERCENT_LAYERS layers of percent-encoding: `%2540` is "@" encoded twice, `%252540` three
 * times. A redirect parameter holding an already-encoded query (`?next=%2Fprofile%3Femail%3Djane
 * %2540example.com`) is a common shape, and `%25` before two hex digits is hardly ever anything but
 * an encoded escape. Where the deeper reading spells nothing (`100%25ab`: a lone byte 0xAB) the
 * shallower one holds ("%" and "ab"). Beyond three layers the text is read as written: each look is
 * bounded, so a run of `%252525...` costs what any text does.
 */
const PERCENT_LAYERS = 3;

/**
 * A JSON string's backslash escapes, after a run of one or more backslashes (JSON inside JSON
 * doubles them, and each layer again): `\n` and the other control escapes, `\/` (PHP
 * writes every slash so), a quote, and `\uXXXX` (how Python's json.dumps and PHP's json_encode write
 * every non-ASCII character). A run longer than MAX_BACKSLASHES is text: each position of a long run
 * is then one bounded look, not a scan of the rest of it.
 */
const MAX_BACKSLASHES = 16;
// JSON's own escapes, and the single quote every language that quotes with it escapes so (SQL's
// 'o\'brien@example.com', Python's and JavaScript's reprs, shells): without it the address began
// after the backslash and "jane.o\" stayed visible. "\0", "\v" and "\U" are none, and read as
// escapes they turned a Windows path's "C:\Temp\0123456789.txt" into an SSN. And Markdown's escapes
// of the characters that stand inside values: `\_` and `\*`, which it would read as emphasis inside a
// word, and `\+` (markdownify's escape_misc): converters from HTML (markdownify, turndown, which
// web-fetch tools use) write "jane\_doe@example.com" and "jane\+news@example.com", and the address
// began after the backslash, leaving "jane\" visible; a key's base64 line lost its run at the "\+".
const BACKSLASH_CONTROLS: Readonly<Record<string, number>> = {
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  f: 0x0c,
  b: 0x08,
  '/': 0x2f,
  '"': 0x22,
  "'": 0x27,
  _: 0x5f,
  '*': 0x2a,
  '+': 0x2b,
};
const UNICODE_ESCAPE = /u([0-9a-fA-F]{4})/y;
// Programming languages' escapes, read as `\uXXXX` is: `\u{40}` (JavaScript, Rust, PHP, Swift: one
// to six hex digits, with the leading zeros JavaScript allows) and `\x40` (C, Python, JavaScript,
// PHP, a shell's $'...'). Above ASCII a `\xHH` is the first byte of a UTF-8 sequence when the
// escapes after it make one (a Python bytes repr: `b'jane\xef\xbc\xa0example.com'`), else that code
// point (Python's and JavaScript's `'\xe9'`). Octal (`\100`), CSS (`\40 `) and quoted-printable
// (`=40`) escapes are not read: digits after a backslash are a Windows path's as often, and read as
// CSS or octal "C:\logs\123-45-6789.txt" would hide its SSN; `=40` is a query string's "limit=40".
const BRACED_UNICODE_ESCAPE = /u\{0*([0-9a-fA-F]{1,6})\}/y;
// Anything but printable ASCII (non-ASCII, and the tabs and line breaks and other C0 controls), or
// an escape that may spell a character: a percent-encoded byte, a character reference, a backslash
// escape (a backslash run, `\u`, `\x`, or one of BACKSLASH_CONTROLS), a defanged character.
const NEEDS_MAP = new RegExp(
  String.raw`[^\x20-\x7e]|%[0-9a-f]{2}|&#|&[a-z]+;|\\[\\ux${Object.keys(BACKSLASH_CONTROLS).join('')}]|[[({](?:[.@:]|at|dot)[\])}]`,
  'i',
);

/**
 * Defanged indicators, as threat reports and tickets write them so that nobody follows them:
 * `10[.]1[.]2[.]3`, `jane[@]example[.]com`, `jane(at)example(dot)com`, `2001:db8[:]:1`,
 * `10{.}1{.}2{.}3`; a bracketed word or character with a space on each side is read with its spaces
 * (`jane [at] example [dot] com`, `10 [.] 1 [.] 2 [.] 3`). The same address, and personal data all
 * the same. Square brackets or parentheses, in pairs, and curly braces around a character only (a
 * word in braces is a template's placeholder as often: "log {at} host {dot} local"; the address
 * detector reads an address spelled so, see email.ts SPELLED_MARK_BRACKETS); and only between two
 * letters or digits. Between two digits only an IPv4 address's dot, "." or "dot", between octets
 * (octetsAround): elsewhere a bracketed dot is punctuation, and read as a dot it would glue a value
 * to the number after it ("123-45-6789 (dot) 1").
 */
const DEFANGED = /\[([.@:]|at|dot)\]|\(([.@:]|at|dot)\)|\{([.@:])\}/iy;
const DEFANGED_WORD = new RegExp(` (?:${DEFANGED.source}) `, 'iy');
const DEFANGED_AS: Readonly<Record<string, number>> = { '.': 0x2e, '@': 0x40, ':': 0x3a, at: 0x40, dot: 0x2e };

function stickyAt(re: RegExp, text: string, i: number): RegExpExecArray | null {
  re.lastIndex = i;
  return re.exec(text);
}

/**
 * The code point of a UTF-8 sequence whose first byte is `lead` (at least 0x80), its further bytes
 * read by `next` (the k-th, from 1; -1 for none), and how many further bytes it took; or null. Only a
 * whole, shortest-form sequence spells a character (as a UTF-8 decoder reads it); a lone byte, a
 * truncated or overlong sequence spells nothing (and, as for every escape, a surrogate or a code
 * point past U+10FFFF: escapeAt).
 */
function utf8Sequence(lead: number, next: (k: number) => number): { cp: number; extra: number } | null {
  const extra = lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : -1;
  if (extra < 0) return null;
  let cp = lead & (0x3f >> extra);
  for (let k = 1; k <= extra; k++) {
    const byte = next(k);
    if (byte < 0 || (byte & 0xc0) !== 0x80) return null;
    cp = (cp << 6) | (byte & 0x3f);
  }
  const shortest = extra === 1 ? 0x80 : extra === 2 ? 0x800 : 0x10000;
  return cp < shortest ? null : { cp, extra };
}

/** The value of the hex digit `code`, or -1. */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/** The byte spelled by the two hex digits at `i`, or -1. */
function hexByteAt(text: string, i: number): number {
  const high = hexValue(text.charCodeAt(i));
  const low = hexValue(text.charCodeAt(i + 1));
  return high < 0 || low < 0 ? -1 : (high << 4) | low;
}

/**
 * The byte the percent escape at `i` spells when read through `depth` layers besides its own
 * (`%40` at depth 0, `%2540` at 1, `%252540` at 2), or -1. Its length is 3 + 2 * depth.
 */
function percentByteAt(text: string, i: number, depth: number): number {
  if (text.charCodeAt(i) !== 0x25) return -1;
  for (let k = 0; k < depth; k++) if (text.charCodeAt(i + 1 + 2 * k) !== 0x32 || text.charCodeAt(i + 2 + 2 * k) !== 0x35) return -1;
  return hexByteAt(text, i + 1 + 2 * depth);
}

/**
 * The code point a percent-encoded byte at `i` spells (with the bytes after it, above ASCII), or
 * null, read through the most layers (up to PERCENT_LAYERS) that spell one. Above ASCII it is a
 * percent-encoded UTF-8 sequence, each byte encoded as often as the first: browsers send a form's
 * non-ASCII characters this way, so a fullwidth at sign typed into a search box reaches a log as
 * `%EF%BC%A0` and a no-break space pasted into a card number as `%C2%A0`.
 */
function percentAt(text: string, i: number): { cp: number; length: number } | null {
  for (let depth = PERCENT_LAYERS - 1; depth >= 0; depth--) {
    const byte = percentByteAt(text, i, depth);
    if (byte < 0) continue;
    const width = 3 + 2 * depth;
    if (byte < 0x80) return { cp: byte, length: width };
    const seq = utf8Sequence(byte, (k) => percentByteAt(text, i + width * k, depth));
    if (seq !== null) return { cp: seq.cp, length: width * (seq.extra + 1) };
  }
  return null;
}

/** Where the run of backslashes at `i` ends, or -1 when it is longer than MAX_BACKSLASHES. */
function afterBackslashes(text: string, i: number): number {
  let j = i;
  while (text.charCodeAt(j) === 0x5c) if (++j - i > MAX_BACKSLASHES) return -1;
  return j;
}

/**
 * The code point a backslash escape at `i` spells, or null. A `\uXXXX` high surrogate followed by the
 * escape of a low one is the pair's code point (`\ud83d\ude00`); a lone surrogate spells nothing.
 */
function backslashAt(text: string, i: number): { cp: number; length: number } | null {
  const j = afterBackslashes(text, i);
  if (j < 0) return null;
  const control = BACKSLASH_CONTROLS[text[j] ?? ''];
  if (control !== undefined) return { cp: control, length: j + 1 - i };
  if (text.charCodeAt(j) === 0x78) return hexEscapeAt(text, i, j);
  const braced = stickyAt(BRACED_UNICODE_ESCAPE, text, j);
  if (braced !== null) return { cp: parseInt(braced[1]!, 16), length: j + braced[0].length - i };
  const u = stickyAt(UNICODE_ESCAPE, text, j);
  if (u === null) return null;
  const cp = parseInt(u[1]!, 16);
  const end = j + u[0].length;
  if (cp >= 0xd800 && cp <= 0xdbff && text.charCodeAt(end) === 0x5c) {
    const k = afterBackslashes(text, end);
    const low = k < 0 ? null : stickyAt(UNICODE_ESCAPE, text, k);
    const lowCp = low === null ? -1 : parseInt(low[1]!, 16);
    if (lowCp >= 0xdc00 && lowCp <= 0xdfff) return { cp: 0x10000 + ((cp - 0xd800) << 10) + (lowCp - 0xdc00), length: k + low![0].length - i };
  }
  return { cp, length: end - i };
}

/**
 * What the `\xHH` escape whose backslashes run from `i` to its "x" at `x` spells, with the escapes
 * after it that continue a UTF-8 sequence (see the note above BRACED_UNICODE_ESCAPE), or null.
 */
function hexEscapeAt(text: string, i: number, x: number): { cp: number; length: number } | null {
  const lead = hexByteAt(text, x + 1);
  if (lead < 0) return null;
  let end = x + 3;
  if (lead < 0x80) return { cp: lead, length: end - i };
  const seq = utf8Sequence(lead, () => {
    const j = text.charCodeAt(end) === 0x5c ? afterBackslashes(text, end) : -1;
    const byte = j < 0 || text.charCodeAt(j) !== 0x78 ? -1 : hexByteAt(text, j + 1);
    if (byte >= 0) end = j + 3;
    return byte;
  });
  return seq === null ? { cp: lead, length: x + 3 - i } : { cp: seq.cp, length: end - i };
}

/** The character a defanged dot, colon or at sign at `i` stands for, or null. */
function defangedAt(text: string, i: number): { cp: number; length: number } | null {
  const m = stickyAt(text.charCodeAt(i) === 0x20 ? DEFANGED_WORD : DEFANGED, text, i);
  if (m === null) return null;
  const before = text.charCodeAt(i - 1);
  const after = text.charCodeAt(i + m[0].length);
  const spelled = (m[1] ?? m[2] ?? m[3]!).toLowerCase();
  // An IPv6 colon may stand next to another ("2001:db8[:]:1").
  const joins = (code: number) => isAsciiAlnum(code) || (spelled === ':' && code === 0x3a);
  if (!joins(before) || !joins(after)) return null;
  // Between two digits only an IPv4 address's dot, "." or "dot" ("10[dot]1[dot]2[dot]3"): read as a
  // dot there, a bracketed dot after a longer number would glue the value to the digits after it
  // ("415-555-2671(.)1", "4111111111111111[.]5").
  if (isAsciiDigit(before) && isAsciiDigit(after) && (DEFANGED_AS[spelled] !== 0x2e || !octetsAround(text, i, i + m[0].length))) return null;
  return { cp: DEFANGED_AS[spelled]!, length: m[0].length };
}

/** The code point a character reference at `i` spells, or null. */
function referenceAt(text: string, i: number): { cp: number; length: number } | null {
  let m: RegExpExecArray | null;
  let cp: number;
  // HTML escaped twice: what the inner reference spells, when it spells something.
  if ((m = stickyAt(REFERENCE_AFTER_AMP, text, i)) !== null) {
    const inner = m[1] !== undefined ? parseInt(m[1], 16) : m[2] !== undefined ? parseInt(m[2], 10) : namedReference(m[3]!);
    if (inner !== undefined && inner <= 0x10ffff && (inner < 0xd800 || inner > 0xdfff)) return { cp: inner, length: m[0].length };
  }
  if ((m = stickyAt(HEX_REFERENCE, text, i)) !== null) cp = parseInt(m[1]!, 16);
  else if ((m = stickyAt(DECIMAL_REFERENCE, text, i)) !== null) cp = parseInt(m[1]!, 10);
  else if ((m = stickyAt(NAMED_REFERENCE, text, i)) !== null) {
    // The named references of the characters the detectors read, and of the dashes, spaces and
    // invisible characters a value's groups may be written with: each is then read as that
    // character written out would be (canonical()).
    const named = namedReference(m[1]!);
    if (named === undefined) return null;
    cp = named;
  } else return null;
  return { cp, length: m[0].length };
}

/** The code point an escape at `i` spells and the escape's length, or null when it spells no character. */
function escapeAt(text: string, i: number): { cp: number; length: number } | null {
  const code = text.charCodeAt(i);
  const escape = code === 0x25 ? percentAt(text, i) : code === 0x5c ? backslashAt(text, i) : code === 0x26 ? referenceAt(text, i) : defangedAt(text, i);
  if (escape === null || escape.cp > 0x10ffff || (escape.cp >= 0xd800 && escape.cp <= 0xdfff)) return null;
  return escape;
}

/**
 * Enclosed digits without a compatibility decomposition (NFKC leaves "❶" as it is): [first code
 * point, last code point, value of the first].
 */
const UNDECOMPOSED_ENCLOSED_DIGITS: ReadonlyArray<readonly [number, number, number]> = [
  [0x2776, 0x277f, 1], // ❶-❿ dingbat negative circled
  [0x2780, 0x2789, 1], // ➀-➉ dingbat circled sans-serif
  [0x278a, 0x2793, 1], // ➊-➓ dingbat negative circled sans-serif
  [0x24eb, 0x24f4, 11], // ⓫-⓴ negative circled 11-20
  [0x24f5, 0x24fe, 1], // ⓵-⓾ double circled
  [0x24ff, 0x24ff, 0], // ⓿
  [0x1f10b, 0x1f10c, 0], // 🄋 🄌
];
// Enclosed numbers whose decomposition wraps the digits: "⑴" is "(1)", "⒈" is "1.", "🄁" is "0,".
const ENCLOSED_BLOCKS = /[\u2460-\u24ff\u3251-\u32bf\u{1f100}-\u{1f10c}]/u;
const NOT_DIGIT = /[^0-9]/g;

function enclosedDigits(ch: string, cp: number): string | null {
  for (const [first, last, value] of UNDECOMPOSED_ENCLOSED_DIGITS) {
    if (cp >= first && cp <= last) return String(value + cp - first);
  }
  if (!ENCLOSED_BLOCKS.test(ch)) return null;
  const digits = ch.normalize('NFKC').replace(NOT_DIGIT, '');
  return digits === '' ? null : digits;
}

/**
 * A non-ASCII decimal digit's value: digits of a script are contiguous runs of ten starting at zero,
 * so the value is the distance to the start of the run (taken modulo ten for adjacent runs).
 */
function digitValue(cp: number): string {
  let k = 0;
  while (k < 10 && DECIMAL_DIGIT.test(String.fromCodePoint(cp - k - 1))) k++;
  return String(k % 10);
}

/**
 * The Turkish dotted capital "İ" and dotless "ı" and the ASCII letters they read as: a name cased in
 * a Turkish locale ("APİ_KEY", "apı_key"). One code unit for one, so a text folded alone keeps every
 * position: detectWrittenNamedPasswords reads the text as written with the same fold (foldTurkishI).
 */
const TURKISH_I: Readonly<Record<string, string>> = { '\u0130': 'I', '\u0131': 'i' };
const TURKISH_I_RE = new RegExp(`[${Object.keys(TURKISH_I).join('')}]`, 'g');

/** `text` with TURKISH_I's letters read as ASCII, as long as it, every other character in place. */
export function foldTurkishI(text: string): string {
  return text.replace(TURKISH_I_RE, (c) => TURKISH_I[c] as string);
}

/** The canonical spelling of one non-ASCII code point (possibly empty or several characters). */
function canonical(ch: string): string {
  const enclosed = enclosedDigits(ch, ch.codePointAt(0) as number);
  if (enclosed !== null) return enclosed;
  let out = '';
  for (const c of ch.normalize('NFKC')) {
    const cp = c.codePointAt(0) as number;
    if (cp < 0x80) out += c;
    else if (INVISIBLE.test(c)) continue;
    else if (TURKISH_I[c] !== undefined) out += TURKISH_I[c];
    else if (DASHES.test(c)) out += '-';
    else if (DOTS.test(c)) out += '.';
    else if (APOSTROPHES.test(c)) out += "'";
    else if (SPACES.test(c)) out += ' ';
    else if (DECIMAL_DIGIT.test(c)) out += digitValue(cp);
    else out += c;
  }
  return out;
}

// Canonical spellings of BMP code points met so far: each character costs one normalize() call per
// process, so an adversarial input repeating one character stays cheap. At most 64 Ki entries.
const bmpCache: Array<string | undefined> = [];

function canonicalAt(text: string, i: number, code: number): string {
  if (code < 0xd800 || (code > 0xdfff && code <= 0xffff)) {
    let rep = bmpCache[code];
    if (rep === undefined) {
      rep = canonical(String.fromCharCode(code));
      bmpCache[code] = rep;
    }
    return rep;
  }
  return canonical(String.fromCodePoint(text.codePointAt(i) as number));
}

export function normalizeForDetection(text: string): Normalized {
  if (!NEEDS_MAP.test(text)) return { text, origStart: null, origEnd: null };
  let cap = text.length + 16;
  let origStart = new Int32Array(cap);
  let origEnd = new Int32Array(cap);
  /** Room for `more` code units beyond n and the rest of the text (never more than that per unit). */
  const reserve = (more: number, rest: number): void => {
    if (n + more + rest <= cap) return;
    cap = Math.max(cap * 2, n + more + rest);
    const s = new Int32Array(cap);
    const e = new Int32Array(cap);
    s.set(origStart);
    e.set(origEnd);
    origStart = s;
    origEnd = e;
  };
  // The output in pieces, joined once at the end: a line break takes back the blanks before it, and
  // reading or cutting the end of a string built by += would flatten it each time (quadratic on
  // 1 MiB of breaks). The blanks at its end are counted as pieces are added instead.
  const parts: string[] = [];
  /** How many spaces the output ends with, and the code unit before them (0: none). */
  let tailBlanks = 0;
  let beforeBlanks = 0;
  const emit = (piece: string): void => {
    if (piece.length === 0) return;
    parts.push(piece);
    let k = piece.length;
    while (k > 0 && piece.charCodeAt(k - 1) === 0x20) k--;
    if (k === 0) tailBlanks += piece.length;
    else {
      tailBlanks = piece.length - k;
      beforeBlanks = piece.charCodeAt(k - 1);
    }
  };
  let n = 0;
  let asciiFrom = 0;
  /** The last line break's spaces, [breakStart, breakEnd): a blank emitted while n is breakEnd joins it. */
  let breakStart = -1;
  let breakEnd = -1;
  /**
   * A line break at text[i, j), written or escaped: the blanks already emitted before it are taken
   * back, the blanks written after it skipped, and the whole is one gap (LINE_BREAK). Returns where
   * reading goes on.
   */
  const lineBreak = (i: number, j: number): number => {
    emit(text.slice(asciiFrom, i));
    let from = i;
    if (tailBlanks > 0) {
      // n counts the output's code units, so its last tailBlanks entries are those blanks.
      n -= tailBlanks;
      from = origStart[n] as number;
      for (let drop = tailBlanks; drop > 0;) {
        const last = parts.pop() as string;
        if (last.length > drop) parts.push(last.slice(0, last.length - drop));
        drop -= Math.min(drop, last.length);
      }
      tailBlanks = 0;
    }
    while (text.charCodeAt(j) === 0x20 || text.charCodeAt(j) === 0x09) j++;
    const spaces = n > 0 && isSeparator(beforeBlanks) ? 1 : LINE_BREAK.length;
    reserve(spaces, text.length - j);
    breakStart = n;
    for (let k = 0; k < spaces; k++) {
      origStart[n] = from;
      origEnd[n] = j;
      n++;
    }
    emit(LINE_BREAK.slice(0, spaces));
    breakEnd = n;
    asciiFrom = j;
    return j;
  };
  /** Whether a blank at text[i, end) joins the line break right before it (and so emits nothing). */
  const joinsBreak = (i: number, end: number): boolean => {
    if (n !== breakEnd) return false;
    for (let k = breakStart; k < breakEnd; k++) origEnd[k] = end;
    asciiFrom = end;
    return true;
  };
  for (let i = 0; i < text.length;) {
    const code = text.charCodeAt(i);
    if (isLineBreak(code)) {
      // CR LF is one break; see LINE_BREAK for why a break is two spaces.
      i = lineBreak(i, code === 0x0d && text.charCodeAt(i + 1) === 0x0a ? i + 2 : i + 1);
      continue;
    }
    if (code < 0x20 || code === 0x7f) {
      // A tab separates like a space ("4111\t1111"), and so does any other control character (NUL,
      // DEL, ...: invisible, or a box, where it is shown), and an ANSI colour code with its ESC.
      const csi = code === 0x1b ? csiEnd(text, i + 1) : -1;
      const end = csi > 0 ? csi : i + 1;
      if (joinsBreak(i, end)) {
        i = end;
        continue;
      }
      emit(text.slice(asciiFrom, i));
      reserve(1, text.length - end);
      emit(' ');
      origStart[n] = i;
      origEnd[n] = end;
      n++;
      i = end;
      asciiFrom = i;
      continue;
    }
    let width: number;
    let rep: string;
    const escape = code === 0x25 || code === 0x26 || code === 0x5c || opensDefang(text, i, code) ? escapeAt(text, i) : null;
    if (escape !== null) {
      // What the escape spells, read as that character written out would be.
      const { cp } = escape;
      width = escape.length;
      // An escaped ESC ("\u001b[1m" in a JSON log) takes its colour code's parameters with it.
      const csi = cp === 0x1b ? csiEnd(text, i + width) : -1;
      if (csi > 0) width = csi - i;
      if (isLineBreak(cp)) {
        i = lineBreak(i, i + width);
        continue;
      }
      rep = cp < 0x20 || cp === 0x7f ? ' ' : cp < 0x80 ? String.fromCharCode(cp) : canonical(String.fromCodePoint(cp));
    } else if (code < 0x80) {
      // Other ASCII is its own canonical spelling; a space right after a line break joins it.
      if (code === 0x20 && joinsBreak(i, i + 1)) {
        i++;
        continue;
      }
      origStart[n] = i;
      origEnd[n] = i + 1;
      n++;
      i++;
      continue;
    } else if (code === 0xfffd && isAsciiDigit(text.charCodeAt(i - 1)) && isAsciiDigit(text.charCodeAt(i + 1))) {
      // The replacement character between digits: what a decoder made of a byte it could not read,
      // most often a Latin-1 no-break space between a card's or an SSN's groups. Elsewhere it stays a
      // letter-like character (in "jos\uFFFD@example.com" it replaced a letter).
      width = 1;
      rep = ' ';
    } else {
      width = code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
      rep = canonicalAt(text, i, code);
    }
    if (rep === ' ' && joinsBreak(i, i + width)) {
      // An escaped or other blank (\t, %20, &#9;, a no-break space) indenting the line after a break.
      i += width;
      continue;
    }
    if (escape === null && width === 1 && rep.length === 1 && rep.charCodeAt(0) === code) {
      // Unchanged (most letters of other scripts): stays part of the current unchanged run.
      origStart[n] = i;
      origEnd[n] = i + 1;
      n++;
      i++;
      continue;
    }
    // A compatibility character may expand to several code units (U+FDFA: 18).
    reserve(rep.length, text.length - i);
    for (let k = 0; k < rep.length; k++) {
      origStart[n] = i;
      origEnd[n] = i + width;
      n++;
    }
    emit(text.slice(asciiFrom, i));
    emit(rep);
    i += width;
    asciiFrom = i;
  }
  emit(text.slice(asciiFrom));
  return { text: parts.join(''), origStart: origStart.subarray(0, n), origEnd: origEnd.subarray(0, n) };
}

/** Whether the digit runs that end at `before` and start at `after` are each at most three long. */
function octetsAround(text: string, before: number, after: number): boolean {
  let k = 0;
  while (k < 4 && isAsciiDigit(text.charCodeAt(before - 1 - k))) k++;
  let j = 0;
  while (j < 4 && isAsciiDigit(text.charCodeAt(after + j))) j++;
  return k <= 3 && j <= 3;
}

/** Whether a defanged character may start at `i`: a bracket ("[", "(", "{"), or a space before one. */
function opensDefang(text: string, i: number, code: number): boolean {
  const bracket = code === 0x20 ? text.charCodeAt(i + 1) : code;
  return bracket === 0x5b || bracket === 0x28 || bracket === 0x7b;
}

function isAsciiAlnum(code: number): boolean {
  return isAsciiDigit(code) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a);
}

function isAsciiDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** The original span of the normalized span [start, end) (end > start). */
export function originalSpan(norm: Normalized, start: number, end: number): [number, number] {
  if (!norm.origStart || !norm.origEnd) return [start, end];
  return [norm.origStart[start] as number, norm.origEnd[end - 1] as number];
}

/**
 * Text hidden in invisible characters that spell ASCII: Unicode's tag characters (U+E0020..U+E007E,
 * an invisible copy of printable ASCII that language models read: "ASCII smuggling") and the
 * ideographic variation selectors U+E0110..U+E016E (VS33..VS111, the printable bytes of "emoji
 * smuggling"). The normalizer drops them as invisible, which is right for one slipped inside a value
 * ("123-45-67<tag>89" is an SSN) and wrong for a value written in them (an SSN of tags alone). So
 * detection reads such a text twice: as normalized, and as revealHidden's copy, where each of them
 * is its ASCII character followed by a zero-width space (dropped by the normalizer). Both are two
 * UTF-16 units, so every finding of the copy stands at the same place in the text. Null when the
 * text holds none (the usual case: no second reading).
 */
// The variation selectors are combining characters on their own, which is the point here: the class
// lists them as code points, never glued to what they follow. One class; a global copy replaces.
// eslint-disable-next-line no-misleading-character-class
const HIDDEN_ASCII_RE = /[\u{E0020}-\u{E007E}\u{E0110}-\u{E016E}]/u;
// eslint-disable-next-line no-misleading-character-class
const HIDDEN_ASCII_ALL = new RegExp(HIDDEN_ASCII_RE.source, 'gu');
export function revealHidden(text: string): string | null {
  // Every one of them is a surrogate pair led by U+DB40: a plain search first, as every field pays it.
  if (!text.includes('\udb40') || !HIDDEN_ASCII_RE.test(text)) return null;
  return text.replace(HIDDEN_ASCII_ALL, (c) => {
    const cp = c.codePointAt(0) as number;
    return `${String.fromCharCode(cp >= 0xe0100 ? cp - 0xe0100 + 16 : cp - 0xe0000)}\u200b`;
  });
}
