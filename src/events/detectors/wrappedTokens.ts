/**
 * A token broken across lines: a hard wrap (a terminal's or an editor's, a PEM-style 64-column
 * paste), a JSON string's escaped "\n", or a wrap pasted back into one line as spaces. Each token
 * detector's regex needs one unbroken run, so "ghp_Pl4ntedT0kenAbCd\nEfGhIjKlMnOpQrStUvWx" passed as
 * prose; this reads the pieces after a known prefix and joins them (privateKey.ts does the same for a
 * key's body, which it reads as pieces of MIN_PIECE or more).
 *
 * What is joined, and why it is safe to (a finding that swallows prose masks words; one that misses
 * a token leaks it):
 * - Only a token whose first piece is not already one (the one-run regex finds that one, and the
 *   sentence after it, "ghp_<36> was revoked", stays prose); for a JWT, one missing a later segment.
 * - Pieces are runs of the kind's alphabet (a JWT's may hold its two dots), a break between each two:
 *   blanks, line breaks (CR, LF, U+2028/2029, NEL; the normalizer writes each as blanks), or a JSON
 *   string's escaped "\n", "\r", "\t" (the text as written, which the privacy guard also scans).
 * - A piece after a break that reads as a word ("was", "Revoked", "API", "2024", "well-known") ends
 *   the token before it: a wrapped token's lines are random characters, prose is words. A token of a
 *   fixed length (GitHub's, AWS's) takes its last piece whatever it reads as, since a short tail of
 *   random characters often does, and the length then decides.
 * - A piece shorter than a line (MIN_LINE) is the last one.
 * - A piece that starts the kind's prefix again starts a token of its own (except a JWT's payload,
 *   right after a dot).
 * - The joined token must be whole by the kind's own pattern (kind.whole).
 *
 * Linear time: a token's pieces are read once from its prefix, at most MAX_PIECES of them, each
 * break at most MAX_BREAK units long and the joined token at most kind.maxLength long, so the work
 * per prefix is bounded; and a reading stops at the next prefix (above), so the readings of
 * neighbouring prefixes barely overlap.
 */
import type { Finding, FindingType } from '../findings.js';

export interface WrappedKind {
  type: FindingType;
  /** Where a token starts: a global regex of its prefix, anchored by a look-behind as the one-run regex is. */
  prefix: RegExp;
  /**
   * Text every prefix holds ("eyJ", "k_"): a text without any is not scanned. Most fields the privacy
   * guard reads are short and hold none, and a substring search costs a fraction of a regex scan.
   */
  holds: readonly string[];
  /** Whether a character code belongs to the token's body. */
  bodyChar: (code: number) => boolean;
  /** How many "." the token holds between its segments (a JWT: 2); each may have a break on either side. */
  dots?: number;
  /** The joined token's exact length (prefix included) for a kind of fixed length. */
  length?: number;
  /**
   * How long a first run (prefix included) is a token of its own, found by the one-run regex and
   * never joined to what follows: the kind's shortest token (a fixed length's, when not given).
   */
  minLength?: number;
  /** The joined token's greatest length (prefix included). */
  maxLength: number;
  /** Only line breaks join, never a lone space or tab (a kind whose pieces prose can spell: AWS's upper case). */
  lineBreaksOnly?: boolean;
  /** Whether a piece that reads as a word ends the token (see above); AWS's upper-case pieces cannot be told from words. */
  wordsEnd: boolean;
  /** Whether the joined token (prefix, pieces, dots) is one of the kind. */
  whole: (token: string) => boolean;
}

/**
 * At most this many pieces: a JWT of up to about 4 KB wrapped at 64 columns, or a smaller one at 20;
 * the other tokens are a few dozen characters, two or three pieces.
 */
const MAX_PIECES = 64;
/**
 * A line of a wrap is as wide as the terminal, the editor or the format (a PEM body's 64), never
 * narrower than this (privateKey.ts's MIN_PIECE, for the same reason); only the last is shorter. So a
 * short piece after the first ends the token, unless a dot follows it (a JWT split into its
 * segments): prose after a prefix is short words, and at most one of them could be joined.
 */
const MIN_LINE = 16;
/** A break's units (a blank, a line break, an escape): indentation after a break included. */
const MAX_BREAK = 16;
/** Backslashes before an escaped break: JSON in JSON doubles them. */
const MAX_BACKSLASHES = 4;

// A word: letters with a capital first at most ("was", "Revoked"), hyphenated ("well-known"), all
// capitals ("API"), or a number. Random base62 or base64url of a line's length is none of these.
const WORD = /^(?:[A-Za-z][a-z]*(?:-[a-z]+)*|[A-Z]+|[0-9]+)$/;

const DOT = 0x2e;
const BACKSLASH = 0x5c;

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

function isLineBreak(code: number): boolean {
  return code === 0x0a || code === 0x0d || code === 0x85 || code === 0x2028 || code === 0x2029;
}

/**
 * The length of the break at p (0: none). `lineOnly`: a line break, written or escaped, or the two
 * blanks the normalizer writes for one. A run longer than MAX_BREAK is a gap of a table or a
 * layout, not a wrap.
 */
function breakAt(text: string, p: number, lineOnly: boolean): number {
  let k = p;
  let blanks = 0;
  let line = false;
  for (let units = 0; units <= MAX_BREAK; units++) {
    const code = text.charCodeAt(k);
    if (isBlank(code)) {
      blanks++;
      k++;
    } else if (isLineBreak(code)) {
      line = true;
      k++;
    } else if (code === BACKSLASH) {
      let j = k;
      while (j - k < MAX_BACKSLASHES && text.charCodeAt(j) === BACKSLASH) j++;
      const letter = text[j];
      if (j === k || (letter !== 'n' && letter !== 'r' && letter !== 't')) break;
      if (letter !== 't') line = true;
      else blanks++;
      k = j + 1;
    } else break;
    if (units === MAX_BREAK) return 0;
  }
  if (k === p || (lineOnly && !line && blanks < 2)) return 0;
  return k - p;
}

/**
 * Where the run of body characters (and dots, while `dots` remain) from p ends, reading at most
 * `room` characters; `dotsLeft` is updated through the returned pair.
 */
function runEnd(text: string, p: number, kind: WrappedKind, dotsLeft: number, room: number): [end: number, dotsLeft: number] {
  let k = p;
  while (k - p < room) {
    const code = text.charCodeAt(k);
    if (kind.bodyChar(code)) k++;
    else if (code === DOT && dotsLeft > 0) {
      dotsLeft--;
      k++;
    } else break;
  }
  return [k, dotsLeft];
}

/** Whether the kind's prefix starts at p. */
function prefixAt(sticky: RegExp, text: string, p: number): boolean {
  sticky.lastIndex = p;
  return sticky.test(text);
}

/** The end of the wrapped token whose prefix spans [start, afterPrefix), or -1 when there is none. */
function readWrapped(text: string, start: number, afterPrefix: number, kind: WrappedKind, sticky: RegExp): number {
  const fixed = kind.length;
  const max = fixed ?? kind.maxLength;
  let [end, dotsLeft] = runEnd(text, afterPrefix, kind, kind.dots ?? 0, max - (afterPrefix - start));
  let joined = text.slice(start, end);
  // A token in one run is the one-run regex's, and the sentence after it is prose.
  if (joined.length >= (kind.minLength ?? fixed ?? Infinity) || kind.whole(joined)) return -1;
  let joins = 0;
  let lastPiece = false;
  for (let pieces = 1; pieces < MAX_PIECES && joined.length < max; pieces++) {
    const b = breakAt(text, end, kind.lineBreaksOnly === true);
    if (b === 0) break;
    const from = end + b;
    if (lastPiece && text.charCodeAt(from) !== DOT) break;
    if (prefixAt(sticky, text, from) && joined.charCodeAt(joined.length - 1) !== DOT) break;
    const [to, left] = runEnd(text, from, kind, dotsLeft, max - joined.length + 1);
    const piece = text.slice(from, to);
    if (piece.length === 0 || joined.length + piece.length > max) break;
    const completes = fixed !== undefined && joined.length + piece.length === fixed;
    if (kind.wordsEnd && !completes && WORD.test(piece)) break;
    joined += piece;
    end = to;
    dotsLeft = left;
    joins++;
    lastPiece = piece.length < MIN_LINE && piece.charCodeAt(piece.length - 1) !== DOT;
  }
  return joins > 0 && kind.whole(joined) ? end : -1;
}

/**
 * A kind's prefix as the scan and the piece reader use it, compiled once per kind: compiling two
 * regular expressions on every call cost most of the 1 µs this scan added to each short field the
 * privacy guard reads (nine per agent record).
 */
const compiled = new WeakMap<WrappedKind, { re: RegExp; sticky: RegExp }>();
function prefixPatterns(kind: WrappedKind): { re: RegExp; sticky: RegExp } {
  let p = compiled.get(kind);
  if (!p) {
    if (!kind.prefix.global) throw new Error('wrappedFindings needs a global prefix regex');
    p = { re: new RegExp(kind.prefix.source, 'g'), sticky: new RegExp(kind.prefix.source, 'y') };
    compiled.set(kind, p);
  }
  return p;
}

/** Every token of `kind` broken across lines in `text`, each finding spanning all its pieces and breaks. */
export function wrappedFindings(text: string, kind: WrappedKind): Finding[] {
  const out: Finding[] = [];
  if (!kind.holds.some((h) => text.includes(h))) return out;
  const { re, sticky } = prefixPatterns(kind);
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const end = readWrapped(text, m.index, m.index + m[0].length, kind, sticky);
    if (end < 0) continue;
    out.push({ type: kind.type, start: m.index, end });
    re.lastIndex = end;
  }
  return out;
}

/**
 * Whether a body holds two of upper-case letters, lower-case letters and digits, as random base62 of
 * 16 or more characters all but always does (one class alone: about 2 in 10^6 at 16): joined prose
 * ("shortandthenmore") or a banner ("ABCDEFGHIJKLMNOP") does not.
 */
export function twoClasses(body: string): boolean {
  const upper = /[A-Z]/.test(body) ? 1 : 0;
  const lower = /[a-z]/.test(body) ? 1 : 0;
  const digit = /[0-9]/.test(body) ? 1 : 0;
  return upper + lower + digit >= 2;
}
