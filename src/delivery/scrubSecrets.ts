// Removes a destination's credentials from text a SIEM (or anything between us and it) controls: the
// response body, the response headers we read (a redirect's Location), and network error messages.
// That text feeds last_error, the delivery log's snippet, failed-events and the /test answer, which
// the API and the dashboard show; a receiver that echoes our request headers must not turn them into
// a credential display. A receiver can echo in any encoding, so each secret is matched in every
// spelling we can think of, character by character (any mix of them):
//   verbatim, any letter case, JSON escapes (`\/`, `\u002b`), percent-encoding (either hex case,
//   double-encoded too), HTML character references (numeric and named), bytes written one by one with
//   a prefix (`\x42\x65`: Python's bytes repr, Wireshark's escaped string; `0x42, 0x65`: `xxd -i`, a
//   C or Go byte array, in lines too), `+` for a space and a space for `+` (form encoding, and a
//   gateway that form-decodes what it echoes), composed or decomposed (NFC and NFD read alike:
//   "Passwört" typed on a Mac), and in compatibility letters read as the ASCII they stand for
//   (NFKC: full-width `Ｂｅａｒｅｒ`, mathematical bold or italic `𝐁𝐞𝐚𝐫𝐞𝐫`, circled, super- and
//   subscript letters and digits, other spaces: compatible),
// and the same for derived forms: hex, base64 and base64url of the value at all three byte
// alignments (base64 of a longer string that embeds the secret shifts it), and the parts of the
// value that are secrets themselves (`Bearer <token>` -> the token; `ApiKey <base64 of id:key>` ->
// the decoded pair and the key; `Basic` likewise; `whsec_<base64>` -> the key material; a UUID in
// any of these, decoded too, such as `Splunk <uuid>`'s or `token:<uuid>`'s -> its 32 hex digits
// without the dashes). Any of
// them wrapped into lines, too: a break (CRLF, LF, a folded header's indented continuation, JSON's
// `\n`, each in the escapes above) after any character of it (joinedLines).
// A text cut short (an answer read up to its cap, or broken off) may end inside a secret: scrubbed as
// cut, a tail that spells the start of one goes too. Any other shortening comes after the scrub. A
// long enough piece of a secret goes too, wherever it stands (a SIEM printing the start of the key it
// refused, `4f3c2a1b9e8d7c6b5a493827...`): see pieceLength.
// Over-matching only costs a "[redacted]" in an error text; under-matching would show a credential.
// What a scrubber hands back is also storable text (NULs dropped, unpaired surrogates replaced) and
// readable (peerText: no escape sequences, controls or bidi formatting).
import { storableText } from '../db/storable.js';
import { peerText } from './peerText.js';
import { DECIMAL_REFERENCE, HEX_REFERENCE, NAMED_REFERENCE, namedReference } from '../events/characterReference.js';

export const REDACTED = '[redacted]';

/** A whole configured secret shorter than this is not scrubbed (it would match everywhere). */
const MIN_SECRET_LENGTH = 4;
/** Derived parts and encodings shorter than this are not scrubbed on their own. */
const MIN_PART_LENGTH = 8;

const BASE64ISH = /^[A-Za-z0-9+/_-]+={0,2}$/;
/** No control character (C0, DEL, C1): what a typed credential is, and random bytes rarely are. */
const PRINTABLE = /^\P{Cc}+$/u;
/**
 * Clients encode a Basic pair (and an Elastic id:key) as UTF-8, so a password such as "Passwört" is
 * two bytes at the ö: read as Latin-1 it failed the printable check, and the pair and the password
 * were never scrubbed. Strict: bytes that are no UTF-8 text are no decoding (nothing is invented, and
 * an ASCII text decodes as it did). A BOM is kept: it is part of what was encoded.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `text` as base64 when it is one and decodes to printable text (an Elastic or Basic credential).
 * Also how plainFields.ts reads a stored pair's halves.
 */
export function decodedBase64(text: string): string | null {
  if (text.length < MIN_PART_LENGTH || !BASE64ISH.test(text)) return null;
  const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  let decoded: string;
  try {
    decoded = UTF8.decode(bytes);
  } catch {
    return null;
  }
  return PRINTABLE.test(decoded) ? decoded : null;
}

/**
 * A UUID anywhere in a part: a Splunk HEC token alone or in braces, and one after a name or a prefix
 * (`token:<uuid>`, `Splunk=<uuid>`, `urn:uuid:<uuid>`) or inside a decoded pair (`Basic` base64 of
 * `x:<uuid>`, an Elastic `id:<uuid>`).
 */
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * The values of a header value that is a list of name=value pairs (Azure's `SharedAccessSignature
 * sr=...&sig=...&se=...&skn=...`, `id=...;key=...`, `k="v", k2="v2"`), each as written and
 * percent-decoded (Azure's signature is sent encoded and named decoded), with the length a part
 * needs: a receiver that refuses one pair echoes that value alone, too short a share of the whole
 * for the piece matcher to find. A value named as a secret (PAIR_SECRET_NAME) is one at any length a
 * secret may have; one whose name says it is none (PAIR_PLAIN_NAME: a SAS's expiry, key name,
 * resource, version) is left out, so an answer naming them stays readable ("token expired at
 * 1900000000"). A quoted value is read whole, its separators in it. A piece without such a list (a
 * base64 token's padding is no pair) gives none.
 */
function listedValues(piece: string): Array<[value: string, min: number]> {
  if (!/[&;,]|=[^=]/.test(piece)) return [];
  const out: Array<[string, number]> = [];
  for (const m of piece.matchAll(LISTED_PAIR)) {
    const name = m[1] ?? '';
    const value = m[2] ?? m[3] ?? '';
    if (PAIR_PLAIN_NAME.test(name) && PLAIN_VALUE.test(value)) continue;
    const min = PAIR_SECRET_NAME.test(name) ? MIN_SECRET_LENGTH : MIN_PART_LENGTH;
    out.push([value, min]);
    try {
      const decoded = decodeURIComponent(value);
      if (decoded !== value) out.push([decoded, min]);
    } catch {
      // Not percent-encoded text: the value as written is all there is.
    }
  }
  return out;
}
/** One pair of such a list: its name, then its value quoted (read whole) or up to the next separator. */
const LISTED_PAIR = /([^&;,="\s]{1,64})=(?:"([^"]*)"|([^&;,"]*))/g;
/** A number or a date (its colons percent-encoded too), letters alone (a key's name, a permission list), or a URL, encoded or not. */
const PLAIN_VALUE = /^(?:(?:[0-9.TZ+-]|:|%3A)+|[A-Za-z]+|(?:https?|sb|amqps?)(?::|%3A)(?:\/\/|%2F%2F).*)$/i;
/** Names whose values are the secret: a signature, a key, a token, a password. */
const PAIR_SECRET_NAME = /sig|key|secret|token|pass|pwd|auth|cred/i;
/**
 * Names whose values say nothing secret: a SAS's expiry, start, version, key name, resource,
 * permissions and services (Azure Storage and Service Bus), and an id, user, tenant or region; left
 * out only when the value reads as such (PLAIN_VALUE), so a random one under such a name is a part.
 */
const PAIR_PLAIN_NAME =
  /^(?:se|st|sv|skn|sr|sp|spr|srt|ss|sks|skv|skt|ske|skoid|sktid|sdd|id|user(?:name)?|tenant|account|region|version|v|expires?|exp|scope|aud|iss|iat|nbf)$/i;

/** The value itself and every part of it that is a secret on its own. */
export function secretParts(secret: string): string[] {
  const parts = new Set<string>([secret]);
  const add = (part: string, min = MIN_PART_LENGTH) => {
    if (part.length >= min) parts.add(part);
  };
  const pieces = secret.split(/\s+/);
  for (const [i, piece] of pieces.entries()) {
    // After a scheme word (Bearer, Basic, Splunk, ApiKey), the credential itself: as short as any
    // configured secret may be. The scheme word is no secret, and too common to redact.
    // A first word of letters alone before a credential (a word with a digit or a symbol) is its
    // scheme ("SharedAccessSignature sr=..."): redacted, it took every word it is part of
    // ("RootManageSharedAccessKey"). Before more words of letters it may be a passphrase's.
    if (i === 0 && /^[A-Za-z]+$/.test(piece) && pieces.slice(1).some((p) => /[^A-Za-z]/.test(p))) continue;
    add(piece, i > 0 ? MIN_SECRET_LENGTH : MIN_PART_LENGTH);
    const underscore = piece.indexOf('_');
    // Prefixed keys (whsec_<base64>): the key material after the prefix.
    if (underscore > 0 && underscore < piece.length - 1) add(piece.slice(underscore + 1));
    for (const [value, min] of listedValues(piece)) add(value, min);
  }
  // Base64 padding carries nothing: a receiver that splits its input on "=" (a key=value parser)
  // echoes the token without it, which is the whole credential.
  for (const part of [...parts]) if (part.endsWith('=')) add(part.replace(/=+$/, ''), MIN_SECRET_LENGTH);
  for (const part of [...parts]) {
    const decoded = decodedBase64(part);
    if (decoded === null) continue;
    add(decoded);
    const colon = decoded.indexOf(':');
    if (colon >= 0) {
      add(decoded.slice(0, colon));
      // The password or key of an id:key pair is a secret at any length a secret may have.
      add(decoded.slice(colon + 1), MIN_SECRET_LENGTH);
    }
  }
  // A UUID-shaped token (a Splunk HEC token) in any part, decoded ones too: a SIEM may print it as 32
  // hex digits, without its dashes.
  for (const part of [...parts]) for (const uuid of part.match(UUID) ?? []) add(uuid.replace(/-/g, ''));
  return [...parts];
}

/**
 * The base64 characters that depend on `text` alone when it is encoded at byte offset 0, 1 or 2 of
 * a longer string, in base64 and base64url: whatever surrounds it, one of these appears verbatim.
 */
export function base64Fragments(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const start = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + bytes.length) * 8) / 6);
    const fragment = encoded.slice(start, end);
    if (fragment.length < MIN_PART_LENGTH) continue;
    out.push(fragment, fragment.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

interface CanonicalText {
  /** One decoded, folded character (foldChar) per spelled character of the source. */
  chars: string;
  /** The source folded character by character, as long as it (kept for a reader of the source as it stands). */
  folded: string;
  /** Where each of them starts and ends in the source; null when every character spells itself. */
  starts: Int32Array | null;
  ends: Int32Array | null;
}

const PERCENT = /%(?:25)*([0-9a-f]{2})/iy;
const UNICODE_ESCAPE = /u([0-9a-f]{4})/iy;
/** A byte after a run of backslashes (`\x42`: Python's bytes repr, Wireshark's escaped string, C), read from its `x`. */
const HEX_ESCAPE = /x([0-9a-f]{2})/iy;
/** A byte of the same UTF-8 character after the first (`\xc3\xb6` is ö). */
const NEXT_HEX_ESCAPE = /\\+x([0-9a-f]{2})/iy;
/**
 * A byte of a byte array (`0x42, 0x65`: `xxd -i`, C, Go, a debugger): two hex digits and no more
 * (canonicalizeLayer reads that no letter or digit stands before the `0`), with the separator after
 * it when another such byte follows: a comma, spaces, a line break and its indentation (`xxd -i`
 * prints twelve a line). A byte array of a secret then reads as the secret, and its separators are
 * cut with it; a hex id in an error (`0x80070005`) is no byte.
 */
const HEX_LITERAL = /0x([0-9a-f]{2})(?![0-9a-z])(?:[\s,]{0,16}(?=0x[0-9a-f]{2}(?![0-9a-z])))?/iy;
/** Anywhere in a text: whether HEX_LITERAL may read a byte in it. */
const HEX_LITERAL_IN = /(?<![0-9a-z])0x[0-9a-f]{2}(?![0-9a-z])/i;
/**
 * A cut byte array's end after a whole byte: the separator, and the start of the next byte
 * (`0x42, 0x6`, `0x42, 0`, `0x42, `), as cutSecretStart reads it (in the last characters only).
 */
const CUT_HEX_LITERAL = /(?<![0-9a-z])0x[0-9a-f]{2}([\s,]+(?:0(?:x[0-9a-f]?)?)?)$/i;
const CUT_HEX_LITERAL_END = 32;

/**
 * The blocks of every character that NFKC turns into one printable ASCII character (and NFC does
 * not): full-width ASCII (U+FF01-FF5E) and the ideographic space, the mathematical alphanumerics
 * (U+1D400-1D7FF, two UTF-16 units each) and the letterlike symbols that fill their gaps (ℎ, ℬ),
 * circled, parenthesised and squared letters, super- and subscripts, modifier letters, small and
 * vertical forms, the other spaces (U+00A0, U+2000-200A), long s, Roman numerals of one letter. Read
 * as that character (compatible), one canonical character for the one or two units of each: a SIEM
 * that echoes a secret in full-width or in bold letters spells the secret. Which character of a block
 * is one, and what it reads as, is asked of ICU once (compatibility).
 */
const COMPAT_BLOCKS: ReadonlyArray<readonly [number, number]> = [
  [0xa0, 0xa0],
  [0xaa, 0xaa],
  [0xb2, 0xb3],
  [0xb9, 0xba],
  [0x17f, 0x17f],
  [0x2b0, 0x2b8],
  [0x2e1, 0x2e3],
  [0x1d2c, 0x1d65],
  [0x1d9c, 0x1dbb],
  [0x2000, 0x200a],
  [0x2024, 0x2024],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x2070, 0x209c],
  [0x2102, 0x2149],
  [0x2160, 0x217f],
  [0x2460, 0x2468],
  [0x24b6, 0x24ea],
  [0x2c7c, 0x2c7d],
  [0x3000, 0x3000],
  [0xa7f1, 0xa7f4],
  [0xfb29, 0xfb29],
  [0xfe10, 0xfe6b],
  [0xff01, 0xff5e],
  [0x107a5, 0x107a5],
  [0x1ccd6, 0x1ccf9],
  [0x1d400, 0x1d7ff],
  [0x1f12b, 0x1f149],
  [0x1fbf0, 0x1fbf9],
];
const codeClass = (code: number) => `\\u{${code.toString(16)}}`;
/**
 * Whether a text may need decoding at all (canonicalizeLayer): an escape's first character, a byte of
 * a byte array, a compatibility letter. One pass over a text that holds none (most answers).
 */
const MAY_DECODE = new RegExp(
  `[\\\\%&${COMPAT_BLOCKS.map(([from, to]) => `${codeClass(from)}-${codeClass(to)}`).join('')}]|(?<![0-9A-Za-z])0[xX][0-9a-fA-F]{2}(?![0-9A-Za-z])`,
  // Not case-insensitive: ſ and the Kelvin sign would match every s and k.
  'u',
);
/** Where a text may hold an escape that decodes with what follows it (the raw-text reading in secretScrubber). */
const MAY_ESCAPE = /[\\%&]/;

/**
 * The compatibility letters (COMPAT_BLOCKS) by code point, each with the ASCII character it reads as,
 * and which UTF-16 units may start one (a BMP one, or the lead surrogate of one beyond it). Built on
 * first use: most scrubbers never read one.
 */
let compatibility: { ascii: Map<number, string>; starts: Uint8Array } | null = null;
function compatible(): { ascii: Map<number, string>; starts: Uint8Array } {
  if (compatibility !== null) return compatibility;
  const ascii = new Map<number, string>();
  const starts = new Uint8Array(0x10000);
  for (const [from, to] of COMPAT_BLOCKS) {
    for (let code = from; code <= to; code++) {
      const char = String.fromCodePoint(code);
      const normal = char.normalize('NFKC');
      if (normal.length !== 1 || normal < ' ' || normal > '~' || char.normalize('NFC') === normal) continue;
      ascii.set(code, normal);
      starts[char.charCodeAt(0)] = 1;
    }
  }
  return (compatibility = { ascii, starts });
}

/**
 * A percent-encoded UTF-8 character (`%C3%A9` is é), its lead byte already read: the character and
 * where its last byte's escape ends, or null when the bytes that follow do not complete it (each
 * byte is then its own Latin-1 character, as before). Without this a secret with any non-ASCII
 * character never matched its URL-encoded echo.
 */
function percentUtf8(
  lead: number,
  at: number,
  sticky: (re: RegExp, at: number) => RegExpExecArray | null,
  next: RegExp = PERCENT,
): { char: string; end: number } | null {
  const more = lead >= 0xf0 && lead <= 0xf4 ? 3 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xc2 && lead <= 0xdf ? 1 : 0;
  if (more === 0) return null;
  const bytes = [lead];
  let end = at;
  for (let k = 0; k < more; k++) {
    const found = sticky(next, end);
    const byte = found ? parseInt(found[1]!, 16) : -1;
    if (!found || (byte & 0xc0) !== 0x80) return null;
    bytes.push(byte);
    end += found[0].length;
  }
  const char = Buffer.from(bytes).toString('utf8');
  return char.includes('\ufffd') ? null : { char, end };
}

/**
 * Whether an escape may begin at `at`: a backslash, `%` before a hex digit, `&#` or `&` before a
 * letter, a byte of a byte array (`0x`), a compatibility letter (`starts`: compatible).
 */
function mayStartEscape(text: string, at: number, starts: Uint8Array): boolean {
  const c = text.charCodeAt(at);
  return (
    c === 92 ||
    (c === 37 && isHexDigit(text.charCodeAt(at + 1))) ||
    (c === 38 && isReferenceStart(text.charCodeAt(at + 1))) ||
    (c === 48 && (text.charCodeAt(at + 1) | 0x20) === 120 && !isLetterOrDigit(text.charCodeAt(at - 1))) ||
    (c >= 0xa0 && starts[c] === 1)
  );
}

/**
 * `part` without the escape starts that end it, any run of them: `\`, `%`, `&`, and the start of a
 * byte (`\x`, `\x4`, `0x`, `0x4`, the `0` with no letter or digit before it). Read back from the end,
 * so linear: a pattern anchored at the end is tried from every position, and on a 16 KiB access token
 * of backslashes (a hostile token endpoint's) it cost 451 ms per scrubber built (an attacker review).
 */
function withoutTrailingEscapeStarts(part: string): string {
  let end = part.length;
  for (;;) {
    const c = part.charCodeAt(end - 1);
    if (c === 92 || c === 37 || c === 38) {
      end--;
      continue;
    }
    const x = isHexDigit(c) && (part.charCodeAt(end - 2) | 0x20) === 120 ? end - 2 : (c | 0x20) === 120 ? end - 1 : -1;
    if (x > 0 && part.charCodeAt(x - 1) === 92) end = x - 1;
    else if (x > 0 && part.charCodeAt(x - 1) === 48 && !isLetterOrDigit(part.charCodeAt(x - 2))) end = x - 1;
    else return part.slice(0, end);
  }
}

/** An ASCII letter or digit. */
function isLetterOrDigit(code: number): boolean {
  return (code >= 48 && code <= 57) || ((code | 0x20) >= 97 && (code | 0x20) <= 122);
}

/** `#` or an ASCII letter: what follows the `&` of a numeric or named character reference. */
function isReferenceStart(code: number): boolean {
  return code === 35 || ((code | 0x20) >= 97 && (code | 0x20) <= 122);
}

/**
 * One character as the comparison reads it: in lower case unless that changes its length (İ), and
 * `+` as a space. A form-encoding sender writes a space as `+`, a form-decoding gateway echoes a `+`
 * as a space: either way round it is one character to the comparison, in texts and secrets alike.
 */
function foldChar(char: string): string {
  if (char === '+') return ' ';
  const lower = char.toLowerCase();
  return lower.length === char.length ? lower : char;
}

/**
 * `text` folded character by character as foldChar folds it: as long as the text, each character
 * where its source is. Lower-casing the whole text at once changes its length at a dotted capital I,
 * and a reading that needs the source's positions (the raw-text reading in secretScrubber) was then
 * skipped for the whole answer: one İ anywhere let a secret after a stray `%` through.
 */
function foldText(text: string): string {
  const lower = text.toLowerCase();
  if (lower.length === text.length) return lower.includes('+') ? lower.replace(/\+/g, ' ') : lower;
  let out = '';
  // By code point: a character beyond the BMP folds as one (two units either way).
  for (const char of text) out += foldChar(char);
  return out;
}

function isHexDigit(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

function fromCode(code: number): string {
  return code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
}

/** No character below U+0300 composes with another or changes under NFC (under NFD, none below U+00C0). */
const MAY_NORMALIZE = /[\u0300-\u{10ffff}]/u;
const MAY_DECOMPOSE = /[\u00c0-\u{10ffff}]/u;
/**
 * What composes with the character before it: combining marks and the Hangul vowel and final jamo
 * (U+1160-U+11FF), up to 30 of them after the character they follow. A longer run goes on
 * in chunks of as many, each normalised alone (UAX #15's stream-safe format: 30 non-starters at most,
 * then a new start). ICU sorts a run of marks by insertion (canonical ordering): 64 KiB of two marks
 * alternating cost it 2 s, one run of a SIEM's answer.
 */
const COMBINING_RUN = /[^\p{M}\u1160-\u11ff]?[\p{M}\u1160-\u11ff]{1,30}/gu;
/** A run of marks longer than COMBINING_RUN reads at once: the text is not normalised whole. */
const LONG_COMBINING_RUN = /[\p{M}\u1160-\u11ff]{31}/u;
/**
 * The blocks that hold every character other than a mark that NFC changes on its own (a singleton
 * such as the Ohm sign, a composition exclusion such as U+0958): a stretch without one is left as
 * it is without asking ICU. A character of a later Unicode outside them is read unchanged, in secrets
 * and texts alike.
 */
const MAY_CHANGE_ALONE = /[\u0374-\u0387\u0958-\u0f69\u1f71-\u1ffd\u2000-\u2adc\uf900-\ufb4e\u{1d15e}-\u{1d1c0}\u{2f800}-\u{2fa1d}]/u;

/**
 * Where `text` changes under normalisation `form`: each stretch that does, with what it becomes.
 * Composing runs (COMBINING_RUN) are normalised as a whole, each other stretch as a whole when it
 * changes not at all, character by character when it does (a singleton such as the Ohm sign, a
 * composition exclusion): no call normalises an unbounded run of marks. Linear in the text.
 */
function normalizedStretches(text: string, form: 'NFC' | 'NFD'): Array<{ from: number; to: number; normal: string }> {
  const changes: Array<{ from: number; to: number; normal: string }> = [];
  if (!(form === 'NFC' ? MAY_NORMALIZE : MAY_DECOMPOSE).test(text)) return changes;
  // Most text that holds marks (Hindi, Vietnamese, Arabic) is normalised already: one call, whose
  // cost is bounded per run of marks, says so.
  if (!LONG_COMBINING_RUN.test(text) && text.normalize(form) === text) return changes;
  const alone = form === 'NFC' ? MAY_CHANGE_ALONE : MAY_DECOMPOSE;
  const plain = (from: number, to: number) => {
    if (from === to) return;
    const stretch = text.slice(from, to);
    if (!alone.test(stretch) || stretch.normalize(form) === stretch) return;
    for (let k = from; k < to;) {
      const width = text.codePointAt(k)! > 0xffff ? 2 : 1;
      const char = text.slice(k, k + width);
      const normal = char.normalize(form);
      if (normal !== char) changes.push({ from: k, to: k + width, normal });
      k += width;
    }
  };
  let at = 0;
  COMBINING_RUN.lastIndex = 0;
  for (let m = COMBINING_RUN.exec(text); m !== null; m = COMBINING_RUN.exec(text)) {
    plain(at, m.index);
    at = m.index + m[0].length;
    const normal = m[0].normalize(form);
    if (normal !== m[0]) changes.push({ from: m.index, to: at, normal });
  }
  plain(at, text.length);
  return changes;
}

/** `text` normalised (NFC or NFD) as normalizedStretches reads it. */
function normalized(text: string, form: 'NFC' | 'NFD'): string {
  let out = '';
  let at = 0;
  for (const { from, to, normal } of normalizedStretches(text, form)) {
    out += text.slice(at, from) + normal;
    at = to;
  }
  return at === 0 ? text : out + text.slice(at);
}

/**
 * `c` composed (NFC, normalizedStretches), each composed character spanning in the source what the
 * characters it was made of spanned: "Passwo\u0308rt" and "Passwört" read alike, and a match still
 * maps to where it stands in the source. Nothing is built for a text that does not change (any text
 * of no character from U+0300 on is one).
 */
function composed(c: CanonicalText): CanonicalText {
  const changes = normalizedStretches(c.chars, 'NFC');
  if (changes.length === 0) return c;
  const startOf = (k: number) => (c.starts ? c.starts[k]! : k);
  const endOf = (k: number) => (c.ends ? c.ends[k]! : k + 1);
  // Composing mostly shortens a text; a composition exclusion (U+0958) lengthens it.
  let length = c.chars.length;
  for (const { from, to, normal } of changes) length += normal.length - (to - from);
  const starts = new Int32Array(length);
  const ends = new Int32Array(length);
  let chars = '';
  let n = 0;
  const copy = (from: number, to: number) => {
    chars += c.chars.slice(from, to);
    for (let k = from; k < to; k++) {
      starts[n] = startOf(k);
      ends[n++] = endOf(k);
    }
  };
  let at = 0;
  for (const { from, to, normal } of changes) {
    copy(at, from);
    chars += normal;
    for (let k = 0; k < normal.length; k++) {
      starts[n] = startOf(from);
      ends[n++] = endOf(to - 1);
    }
    at = to;
  }
  copy(at, c.chars.length);
  return { chars, folded: c.folded, starts, ends };
}

/** Layers of escaping decoded at most (JSON inside JSON inside a percent-encoded URL is three). */
const MAX_ESCAPE_LAYERS = 4;

/**
 * Decodes every per-character spelling a receiver may use (backslash escapes of any depth, JSON
 * \uXXXX, percent-encoding applied once or more, HTML character references), layer upon layer when
 * one decodes to the start of another (`\u0025` is a `%`, `%26%23x41%3B` an entity: JSON inside
 * JSON, an entity inside a URL), and folds case, keeping where each character came from. Secrets
 * are canonicalised the same way, so a secret that itself contains "%41" or a backslash still
 * matches its verbatim echo. Then composed (NFC, composed): a secret echoed decomposed is the same
 * characters. Linear in the text's length per layer.
 */
function canonicalize(text: string): CanonicalText {
  return composed(decodedLayers(text));
}

/** canonicalize without composing (composed). */
function decodedLayers(text: string): CanonicalText {
  let out = canonicalizeLayer(text);
  for (let layer = 1; layer < MAX_ESCAPE_LAYERS && out.starts !== null && MAY_DECODE.test(out.chars); layer++) {
    const next = canonicalizeLayer(out.chars);
    if (next.starts === null || next.chars === out.chars) break;
    // Each character of the next layer spans characters of this one: map its span back to the source.
    const prev = out;
    out = {
      chars: next.chars,
      folded: prev.folded,
      starts: next.starts.map((at) => prev.starts![at]!),
      ends: next.ends!.map((end) => prev.ends![end - 1]!),
    };
  }
  return out;
}

/** One layer of canonicalize. */
function canonicalizeLayer(text: string): CanonicalText {
  const folded = foldText(text);
  // The common case (no escape of any kind): one character each, positions unchanged.
  if (!MAY_DECODE.test(text)) return { chars: folded, folded, starts: null, ends: null };
  const { ascii, starts: compatStarts } = compatible();
  // Typed and sized once: a canonical text never has more characters than its source.
  const starts = new Int32Array(text.length);
  const ends = new Int32Array(text.length);
  let n = 0;
  let chars = '';
  let i = 0;
  const push = (char: string, end: number) => {
    // A character beyond the BMP decoded from one escape is two UTF-16 units, as its verbatim
    // spelling is: both span the escape.
    const folded = foldChar(char);
    for (let k = 0; k < folded.length; k++) {
      chars += folded[k];
      starts[n] = i;
      ends[n++] = end;
    }
    i = end;
  };
  const sticky = (re: RegExp, at: number): RegExpExecArray | null => {
    re.lastIndex = at;
    return re.exec(text);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\') {
      let j = i;
      while (text[j] === '\\') j++;
      const u = sticky(UNICODE_ESCAPE, j);
      const x = u ? null : sticky(HEX_ESCAPE, j);
      if (u) push(fromCode(parseInt(u[1]!, 16)), j + u[0].length);
      else if (x) {
        const code = parseInt(x[1]!, 16);
        const utf8 = percentUtf8(code, j + x[0].length, sticky, NEXT_HEX_ESCAPE);
        if (utf8) push(utf8.char, utf8.end);
        else push(fromCode(code), j + x[0].length);
      } else if (j < text.length) push(text[j]!, j + 1);
      // A run of backslashes that ends the text is one character: taken one at a time, each would
      // scan the rest of the run again (a SIEM answering 64 KiB of backslashes cost seconds).
      else push(c, j);
      continue;
    }
    // The patterns are tried only where one can start (a hex digit after `%`, `#` or a letter after
    // `&`). A named reference (`&quot;`, `&sol;`: an HTML error page escaping the echo) is one only
    // for a name the table knows; `&copy=1` in a query string is text.
    if (c === '%' && isHexDigit(text.charCodeAt(i + 1))) {
      const m = sticky(PERCENT, i);
      if (m) {
        const code = parseInt(m[1]!, 16);
        const utf8 = percentUtf8(code, i + m[0].length, sticky);
        if (utf8) push(utf8.char, utf8.end);
        else push(fromCode(code), i + m[0].length);
        continue;
      }
    } else if (c === '&' && text[i + 1] === '#') {
      const hex = sticky(HEX_REFERENCE, i);
      const m = hex ?? sticky(DECIMAL_REFERENCE, i);
      if (m) {
        push(fromCode(parseInt(m[1]!, hex ? 16 : 10)), i + m[0].length);
        continue;
      }
    } else if (c === '&') {
      const m = sticky(NAMED_REFERENCE, i);
      const code = m ? namedReference(m[1]!) : undefined;
      if (m && code !== undefined) {
        push(String.fromCharCode(code), i + m[0].length);
        continue;
      }
    } else if (c === '0' && !isLetterOrDigit(text.charCodeAt(i - 1))) {
      // A byte of a byte array, its separator with it when another follows (HEX_LITERAL).
      const m = sticky(HEX_LITERAL, i);
      if (m) {
        const code = parseInt(m[1]!, 16);
        const utf8 = percentUtf8(code, i + m[0].length, sticky, HEX_LITERAL);
        if (utf8) push(utf8.char, utf8.end);
        else push(fromCode(code), i + m[0].length);
        continue;
      }
    } else if (compatStarts[text.charCodeAt(i)] === 1) {
      // A compatibility letter (compatible), of one UTF-16 unit or two.
      const code = text.codePointAt(i)!;
      const char = ascii.get(code);
      if (char !== undefined) {
        push(char, i + (code > 0xffff ? 2 : 1));
        continue;
      }
    }
    // Plain text up to the next place an escape may start, folded in one piece: a text of stray
    // `%` or `&` (or of anything) costs what plain text costs, whatever a SIEM sends.
    let j = i + 1;
    while (j < text.length && !mayStartEscape(text, j, compatStarts)) j++;
    chars += folded.slice(i, j);
    for (let k = i; k < j; k++) {
      starts[n] = k;
      ends[n++] = k + 1;
    }
    i = j;
  }
  return { chars, folded, starts: starts.subarray(0, n), ends: ends.subarray(0, n) };
}

/**
 * Every part (secretParts) of every secret long enough to be one, each once; one not ASCII also
 * composed and decomposed (NFC, NFD): canonicalize composes what it reads, but the hex and base64 of
 * a password are of its bytes as the receiver's side spelled it ("Passwört" typed on a Mac is NFD).
 */
function partsOf(secrets: readonly (string | null | undefined)[]): string[] {
  const parts = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < MIN_SECRET_LENGTH) continue;
    for (const part of secretParts(secret)) {
      parts.add(part);
      parts.add(normalized(part, 'NFC'));
      parts.add(normalized(part, 'NFD'));
    }
  }
  return [...parts];
}

/** Longest first, as the searches read forms (and cutSecretStart its reach); no empty one. */
const longestFirst = (forms: Iterable<string>): string[] => [...forms].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);

/** The forms of `parts` (partsOf): each spelled, and each derived form, canonicalised. */
function formsOfParts(parts: readonly string[]): string[] {
  const forms = new Set<string>();
  const add = (form: string) => {
    // Composed, and as decoded: a text is searched both ways (secretScrubber), since a mark right
    // after a secret composes with its last character (and a cut text may end before a mark).
    const decoded = decodedLayers(form);
    for (const chars of [composed(decoded).chars, decoded.chars]) {
      forms.add(chars);
      // A form whose escapes decode to NUL or half a surrogate pair (a secret spelled "s3cr%00t") is
      // also looked for as a scrubbed text holds it: storable, NUL dropped (storableText).
      forms.add(storableText(chars));
    }
  };
  for (const part of parts) {
    add(part);
    // A part ending in `\`, `%` or `&` has that end read as the start of an escape with whatever
    // follows it in a text, never as itself: the rest of the part is matched on its own too. So does
    // one ending in the start of a byte (`\x4`, `0x4`: a text's next hex digit completes it).
    const bare = withoutTrailingEscapeStarts(part);
    if (bare !== part && bare.length >= MIN_SECRET_LENGTH) add(bare);
    add(Buffer.from(part, 'utf8').toString('hex'));
    for (const fragment of base64Fragments(part)) add(fragment);
  }
  return longestFirst(forms);
}

export function secretForms(secrets: readonly (string | null | undefined)[]): string[] {
  return formsOfParts(partsOf(secrets));
}

/**
 * `cut`: the text is the start of something longer (an answer body cut at the read cap, by the
 * connection or by its deadline), so it may end inside a secret; a tail that spells the start of
 * one is redacted too.
 */
export type Scrubber = (text: string, cut?: boolean) => string;

/**
 * How many characters at the end of `chars` spell the start of some form (at least
 * MIN_SECRET_LENGTH of them, fewer than the whole form), or 0: a secret cut short by the text's end.
 */
export function cutSecretTail(chars: string, forms: readonly string[]): number {
  let best = 0;
  for (const form of forms) {
    const k = prefixAtEnd(chars, form);
    if (k >= MIN_SECRET_LENGTH && k > best) best = k;
  }
  return best;
}

/** pi[i]: the length of the longest proper prefix of form[0..i] that is also a suffix of it (KMP). */
function prefixFunction(form: string): Int32Array {
  const pi = new Int32Array(form.length);
  for (let i = 1, k = 0; i < form.length; i++) {
    while (k > 0 && form.charCodeAt(i) !== form.charCodeAt(k)) k = pi[k - 1]!;
    if (form.charCodeAt(i) === form.charCodeAt(k)) k++;
    pi[i] = k;
  }
  return pi;
}

/** The matcher's next state: `q` characters of `form` matched, then `c` read. */
function advance(form: string, pi: Int32Array, q: number, c: number): number {
  while (q > 0 && c !== form.charCodeAt(q)) q = pi[q - 1]!;
  return c === form.charCodeAt(q) ? q + 1 : q;
}

/**
 * Reads `text` from `from` with a Knuth-Morris-Pratt matcher for `form` and calls `onMatch` with the
 * start of every occurrence, overlapping ones too. Linear in what it reads.
 */
function matchForm(text: string, from: number, form: string, pi: Int32Array, onMatch: (at: number) => void): void {
  const n = form.length;
  let q = 0;
  for (let i = from; i < text.length; i++) {
    q = advance(form, pi, q, text.charCodeAt(i));
    if (q === n) {
      onMatch(i - n + 1);
      q = pi[n - 1]!;
    }
  }
}

/**
 * The length of the longest proper prefix of `form` that `chars` ends with: a matcher for that
 * prefix (no longer than the text) run over the text's last characters. Linear in the shorter of the
 * two. Trying every length from the longest down, each compared in full, was quadratic in the form's
 * length, and a tenant sets the secret (up to 8 KiB, an OAuth2 token more) while its SIEM sets the
 * answer.
 */
function prefixAtEnd(chars: string, form: string): number {
  const m = Math.min(form.length - 1, chars.length);
  if (m < 1) return 0;
  const f = form.slice(0, m);
  const pi = prefixFunction(f);
  // Reading only the last m characters: no longer prefix can end the text, and the state never
  // reaches m before the last one (a whole match of f would start at the first one read).
  let q = 0;
  for (let i = chars.length - m; i < chars.length; i++) q = advance(f, pi, q, chars.charCodeAt(i));
  return q;
}

/**
 * Forms this long are searched with the matcher once one occurrence is found, not with indexOf from
 * each occurrence on: that compares up to a form's length again at every overlapping occurrence (a
 * run of "a" in an answer against a secret of "A"s), quadratic in a SIEM-chosen answer; one such
 * answer held the worker, and every tenant's deliveries, for most of a second.
 */
const LONG_FORM = 64;

/** The start of every occurrence of `form` in `text`, overlapping ones included. */
export function occurrences(text: string, form: string): number[] {
  const found: number[] = [];
  const first = text.indexOf(form);
  if (first < 0) return found;
  if (form.length < LONG_FORM) {
    for (let at = first; at >= 0; at = text.indexOf(form, at + 1)) found.push(at);
    return found;
  }
  matchForm(text, first, form, prefixFunction(form), (at) => found.push(at));
  return found;
}

/**
 * Characters an escape is spelled with: a cut escape at a text's end is a run of these. Every letter:
 * a named reference is cut inside its name (`&quo`, `&amp;quo`).
 */
const ESCAPE_CHAR = /[\\%&#;a-z0-9]/i;
/** Source characters one character of a secret may be spelled in, as far as a cut tail is looked for. */
const CUT_SPELLING_CHARS = 32;
/** Escapes looked behind at the end of a cut text: enough for three layers of nesting. */
const TRAILING_ESCAPES = 4;

/**
 * Where the last escapes of the trailing run of escape characters begin, latest first: a cut can end
 * inside one (`\u00`, `%2525`, `&#x0000`, `&quo`, or nested: `%26%23x`), which then decodes to nothing like
 * the secret's next character, so the cut tail is looked for before each as well. One backwards scan
 * over the run: linear, whatever a SIEM sends (a pattern anchored at the end would retry from every
 * position of a long run of escapes).
 */
function trailingEscapeStarts(text: string): number[] {
  let run = text.length;
  while (run > 0 && ESCAPE_CHAR.test(text[run - 1]!)) run--;
  const starts: number[] = [];
  for (let q = text.length - 1; q >= run && starts.length < TRAILING_ESCAPES; q--) {
    const c = text[q];
    if (c !== '\\' && c !== '%' && c !== '&') continue;
    while (q > run && text[q - 1] === '\\') q--; // a run of backslashes is one escape
    starts.push(q);
  }
  return starts;
}

/** Where in the source the cut secret at the end of `text` begins, or the text's length if none. */
function cutSecretStart(text: string, canonical: CanonicalText, forms: readonly string[]): number {
  const sourceIndex = (c: CanonicalText, at: number) => (c.starts ? c.starts[at]! : at);
  const tail = cutSecretTail(canonical.chars, forms);
  let from = tail > 0 ? sourceIndex(canonical, canonical.chars.length - tail) : text.length;
  // Read back from each only as far as a secret can reach: the longest form, each character spelled
  // in up to CUT_SPELLING_CHARS characters (six layers of %25 and a byte take 14), not the whole text.
  const reach = forms[0]!.length * CUT_SPELLING_CHARS;
  // A byte array cut after a byte's separator, or inside the next byte (`0x42, 0x6`): read up to the
  // last whole byte, whose separator is read with it only before another.
  const array = CUT_HEX_LITERAL.exec(text.slice(-CUT_HEX_LITERAL_END));
  const escapes = trailingEscapeStarts(text);
  if (array !== null) escapes.push(text.length - array[1]!.length);
  // A character cut in half (between the two units of a mathematical letter, inside a UTF-8
  // sequence) is a replacement character once the text is storable: read up to it.
  if (text.endsWith('\ufffd')) escapes.push(text.length - 1);
  for (const escape of escapes) {
    const from0 = Math.max(0, escape - reach);
    // As decoded, not composed: the forms hold both readings, and composing each head again cost a
    // cut answer of many marks a hundred milliseconds and more.
    const head = decodedLayers(text.slice(from0, escape));
    const before = cutSecretTail(head.chars, forms);
    if (before > 0) from = Math.min(from, from0 + sourceIndex(head, head.chars.length - before));
  }
  return from;
}

/**
 * A piece of a secret this long is redacted wherever it stands: half the secret, and at least
 * MIN_PIECE_LENGTH characters. A SIEM that names the key it refused by its first 24 of 32 characters
 * leaves a guess of 8 hex digits; a shorter piece is left alone, as too likely to be ordinary text
 * (or the part every token of an issuer shares: a JWT's header).
 */
const MIN_PIECE_LENGTH = 12;
const pieceLength = (form: string) => Math.max(MIN_PIECE_LENGTH, Math.ceil(form.length / 2));
/**
 * Longer parts are found whole and cut only: a matcher keeps a number per window, and a key, a
 * client secret or a JWT is far shorter.
 */
const MAX_PIECE_FORM = 4096;
/** At most this many parts of a scrubber's secrets get pieces (pieceForms). */
const MAX_PIECE_FORMS = 8;

/** A part that holds an address or a URL (a decoded `user@host:password` pair too): its pieces are host names (pieceForms). */
const ADDRESS_OR_URL = /[^@\s:]@[^@\s:]+\.[a-z]{2,}|:\/\//i;

/**
 * The forms whose pieces are looked for: each part of each secret (secretParts) of one word, as
 * canonicalize reads it, with the least length of a piece of it that is redacted. A part no longer
 * than that is found whole or not at all. A part of several words (`Bearer <token>`) is left to its
 * words: its pieces would take the space before an echoed token with it. A part holding an address
 * or a URL (the user of `alerts@corp.example.com:password`, a webhook URL) is found whole only: its
 * pieces are host names every error about that host names ("smtp.corp.example.com").
 */
export function pieceForms(secrets: readonly (string | null | undefined)[]): Array<{ form: string; min: number }> {
  return pieceFormsOfParts(partsOf(secrets));
}

function pieceFormsOfParts(parts: readonly string[]): Array<{ form: string; min: number }> {
  const forms = new Map<string, number>();
  for (const part of parts) {
    if (/\s/.test(part) || ADDRESS_OR_URL.test(part)) continue;
    const form = canonicalize(part).chars;
    if (form.length > pieceLength(form) && form.length <= MAX_PIECE_FORM) forms.set(form, pieceLength(form));
  }
  // The longest few: a credential has one to three parts, and a tenant's header value of hundreds of
  // words would otherwise make every answer of its destination cost a pass per word.
  return [...forms]
    .sort((x, y) => y[0].length - x[0].length)
    .slice(0, MAX_PIECE_FORMS)
    .map(([form, min]) => ({ form, min }));
}

/**
 * The rolling hashes' bases (odd), in arithmetic modulo 2^32 (Math.imul): the hashes run over every
 * header value of every answer, where a modulo of doubles cost more than the rest of the scrub.
 * Fixed, so a scrub is the same in every run: a SIEM that forces windows to collide only gets more of
 * its own answer redacted.
 */
const HASH_BASES = [0x01000193, 0x5bd1e995] as const;

/** MurmurHash3's finalizer: every bit of the result depends on every bit of `h`. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A window of the form whose key another window of it shares: its key alone then matches. */
const SHARED_KEY = -1;

/**
 * Finds the pieces of one form: every window of `min` characters of a text that is also a window of
 * the form, by two rolling hashes of each window (Rabin-Karp). Each hash is mixed first (two windows
 * that differ in their last character differ by that character in both hashes' low bits, and joined
 * unmixed those differences cancelled for one pair in twelve), then joined into a key and a check of
 * 30 bits each (small integers: V8 keeps them unboxed, and a Map of them is read several times faster
 * than one of doubles, on every header value of every answer). A window of the text matches when
 * its key and its check are a window's of the form: a chance match is about one in 10^18 per window
 * of the form, where the key alone made it one in 10^9, and a 4 KiB token then redacted a kilobyte of
 * ordinary text in a quarter of 64 KiB answers. A window is never compared: that cost a window's
 * length at every position of an answer a tenant can shape against a secret it sets, and a chance
 * match only redacts more. Keeps two small integers per window of the form, not a structure per
 * character: a scrubber is cached per destination and credential. Linear in the text.
 */
class PieceMatcher {
  /** Each window's key and its check (SHARED_KEY when windows of the form share the key). */
  private readonly windows = new Map<number, number>();
  /** Each base to the power min-1, to take a window's first character out of its hash. */
  private readonly leads: [number, number];

  constructor(
    form: string,
    private readonly min: number,
  ) {
    const lead = (base: number) => {
      let power = 1;
      for (let k = 1; k < min; k++) power = Math.imul(power, base);
      return power;
    };
    this.leads = [lead(HASH_BASES[0]), lead(HASH_BASES[1])];
    this.hits(form, (key, check) => {
      const known = this.windows.get(key);
      this.windows.set(key, known === undefined || known === check ? check : SHARED_KEY);
      return false;
    });
  }

  /**
   * Calls `visit(key, check, end)` for each window of `text`, in one loop with no call per window
   * but this one; stops when it returns true, and then returns true.
   */
  private hits(text: string, visit: (key: number, check: number, end: number) => boolean): boolean {
    const { min, leads } = this;
    let a = 0;
    let b = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      const out = i >= min ? text.charCodeAt(i - min) : 0;
      a = (Math.imul(a - Math.imul(out, leads[0]), HASH_BASES[0]) + code) | 0;
      b = (Math.imul(b - Math.imul(out, leads[1]), HASH_BASES[1]) + code) | 0;
      if (i + 1 < min) continue;
      const ma = mix(a);
      const mb = mix(b);
      if (visit((ma ^ Math.imul(mb, 0x9e3779b1)) & 0x3fffffff, (mb ^ Math.imul(ma, 0x7feb352d)) >>> 2, i + 1)) return true;
    }
    return false;
  }

  private matches(key: number, check: number): boolean {
    const known = this.windows.get(key);
    return known !== undefined && (known === check || known === SHARED_KEY);
  }

  /** Whether `text` holds a piece of the form (every header value of every answer). */
  found(text: string): boolean {
    return text.length >= this.min && this.hits(text, (key, check) => this.matches(key, check));
  }

  /** Calls `onPiece(start, end)` for each window of `text` that is a window of the form. */
  scan(text: string, onPiece: (start: number, end: number) => void): void {
    this.hits(text, (key, check, end) => {
      if (this.matches(key, check)) onPiece(end - this.min, end);
      return false;
    });
  }
}

/** Spaces and tabs taken after a line break inside base64 (lineBreakAt). */
const MAX_INDENT = 16;
/** The longest spelling of one space or tab of indentation (INDENT): `&amp;amp;amp;#x0000009;`. */
const MAX_INDENT_CHAR = 24;

/** `pattern` with each ASCII letter in it matched in either case (hex digits, reference names). */
const anyCase = (pattern: string) => pattern.replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);

/**
 * One control character of a line break, `code` (CR or LF), in each spelling an answer carries base64
 * in: as it stands (`raw`); JSON-escaped by its `letter` or as `\u000a`, and again for JSON in JSON
 * (`\\n`: each layer doubles the backslashes, up to MAX_ESCAPE_LAYERS of them); percent-encoded, once
 * or more (`%0A`, `%250A`: a URL in a query string); a numeric or named HTML character reference,
 * escaped again or not (`&#10;`, `&#x0A;`, `&NewLine;`, `&amp;#10;`: XML keeps an attribute's line
 * breaks so). Hex digits and names in either case, as canonicalize reads them; the escape letters in
 * lower case, as JSON writes them. Every repetition bounded: a break costs the same wherever it starts.
 */
function breakCharacter(raw: string, letter: string, code: number, name?: string): string {
  const hex = anyCase(code.toString(16));
  const reference = `#(?:0{0,6}${code}|[xX]0{0,6}${hex})${name ? `|${anyCase(name)}` : ''}`;
  const layers = MAX_ESCAPE_LAYERS - 1;
  return String.raw`${raw}|\\{1,${1 << layers}}(?:${letter}|u000${hex})|%(?:25){0,${layers}}0${hex}|&(?:${anyCase('amp')};){0,${layers}}(?:${reference});`;
}

/** A line break, CR and LF or LF alone, each in any spelling (breakCharacter). At most 46 characters. */
const ONE_BREAK = `(?:${breakCharacter(String.raw`\r`, 'r', 13)})?(?:${breakCharacter(String.raw`\n`, 'n', 10, 'newline')})`;
/**
 * The indentation after a break, a space or a tab each spelled as the break may be (a folded header
 * echoed in a URL: `%0D%0A%20`; `&#10;&#32;`, `&Tab;`; JSON's `\n\t`), up to MAX_INDENT of them. Not a form's
 * `+` for a space: in base64 it is a character of the text.
 */
const INDENT = String.raw`(?:[ \t]|\\{1,${1 << (MAX_ESCAPE_LAYERS - 1)}}(?:t|u00(?:20|09))|%(?:25){0,${MAX_ESCAPE_LAYERS - 1}}(?:20|09)|&(?:${anyCase('amp')};){0,${MAX_ESCAPE_LAYERS - 1}}(?:#(?:0{0,6}(?:32|9)|[xX]0{0,6}(?:20|9))|${anyCase('tab')});){0,${MAX_INDENT}}`;
/**
 * Line breaks read as one, each with its indentation: blank lines between the lines (an echo that
 * doubles its line endings; a YAML printer, Helm's nindent, that indents blank lines too).
 */
const MAX_BREAKS = 3;
const BREAKS = `(?:${ONE_BREAK}${INDENT}){1,${MAX_BREAKS}}`;
/** The longest breaks and their indentation, after a base64 character, can be: what a cut text's end is read for. */
const MAX_BREAK_END = 1 + MAX_BREAKS * (46 + MAX_INDENT * MAX_INDENT_CHAR);

/** joinable's flags: a character that may stand before a line break inside a secret, and after one. */
const BEFORE_BREAK = 1;
const AFTER_BREAK = 2;

/**
 * Which ASCII characters may stand on either side of a line break inside some form of `forms` (as
 * lineBreakAt reads them): the forms' characters in either case (`+` for a space: canonicalize reads
 * them alike); before a break also the last character of an escape that spells one (a hex digit of
 * `%2F` or `\u002f`, the `;` of `&#47;` or `&sol;`), after one the first (`\`, `%`, `&`). Never
 * whitespace. A character beyond ASCII may stand anywhere. A break between two characters that are
 * not (a JSON document's `{`, `,` or `}` at a line's end or start, an HTML page's `>` and `<`) is
 * inside no form: an answer whose breaks all stand so is not read again without them.
 */
function joinableCharacters(forms: Iterable<string>): Uint8Array {
  const flags = new Uint8Array(128);
  const mark = (code: number, flag: number) => {
    if (code >= 128 || code === 32 || code === 9 || code === 10 || code === 13 || code === 11 || code === 12) return;
    flags[code]! |= flag;
    if ((code | 0x20) >= 97 && (code | 0x20) <= 122) flags[code ^ 0x20]! |= flag;
  };
  for (const form of forms) {
    for (let k = 0; k < form.length; k++) {
      const code = form.charCodeAt(k);
      // A space of a form is a `+` in the text (foldChar).
      mark(code === 32 ? 43 : code, BEFORE_BREAK | AFTER_BREAK);
    }
  }
  for (const c of '0123456789abcdef;') mark(c.charCodeAt(0), BEFORE_BREAK);
  for (const c of '\\%&') mark(c.charCodeAt(0), AFTER_BREAK);
  return flags;
}

/** Whether the character `code` may stand where `flag` says (joinableCharacters); NaN (no character) may not. */
const may = (joinable: Uint8Array, code: number, flag: number) => code >= 128 || (joinable[code]! & flag) !== 0;

/**
 * A line break (BREAKS) and the indentation after it (a header folded onto the next line, base64 in a
 * YAML or pretty-printed document, a token printed in lines of 64), read where lineBreakAt found it
 * may start. Before a character that is no whitespace: lineBreakAt reads which.
 */
const LINE_BREAK = new RegExp(String.raw`${BREAKS}(?=\S)`, 'y');

/**
 * The length of the line break inside a secret's form that starts at `at`, or 0. MIME, Perl's
 * encode_base64 and Python's base64.encodebytes wrap base64 at 76 characters, PEM at 64; a receiver
 * printing the headers it saw folds a long value at 64 or 76 columns (a 2 KB OAuth2 access token, a
 * JWT, breaks after any of its characters, its `.` too); an echo of either carries the breaks in its
 * own encoding (LINE_BREAK). Between two characters that may stand there (joinableCharacters).
 */
function lineBreakAt(text: string, at: number, joinable: Uint8Array): number {
  if (at === 0 || !may(joinable, text.charCodeAt(at - 1), BEFORE_BREAK)) return 0;
  LINE_BREAK.lastIndex = at;
  const found = LINE_BREAK.exec(text);
  if (found === null || !may(joinable, text.charCodeAt(at + found[0].length), AFTER_BREAK)) return 0;
  return found[0].length;
}

/**
 * What a cut text may end with after a character of a form: a line break (its next line cut off), or
 * the start of one that is no escape yet (`\r` of a CRLF, maybe after a first break: a blank line
 * cut); one cut inside an escape (`%0`, `\u00`, `&#1`) is found as any cut escape is
 * (cutSecretStart). The character before it is read by joinableCharacters' flags.
 */
const CUT_LINE_BREAK = new RegExp(String.raw`(?<=\S)(?:${BREAKS}|(?:${ONE_BREAK}${INDENT}){0,${MAX_BREAKS - 1}}(?:\r|\\(?:r\\?)?))$`);

/** Where a line break may start (lineBreakAt): at an LF (or the CR before it), a backslash, `%` or `&`. */
const BREAK_STARTS = ['\n', '\\', '%', '&'] as const;

/**
 * `text` without its line breaks inside a form (lineBreakAt), and where each of its characters
 * stands in `text`; null when it holds none. The breaks of an echoed request's base64, or of a token
 * printed in lines, fall anywhere in a secret's form, leaving on each side a run shorter than the
 * form and than a piece of it (half the secret): read joined, the whole form is there again. Forms
 * and pieces are looked for in the joined text, each found one redacted from its first character
 * to its last: text across a break from a secret is never glued to it. Linear in the text.
 */
function joinedLines(text: string, joinable: Uint8Array): { joined: string; at: Int32Array } | null {
  // Only where a break can start. Read by indexOf (most answers hold none of them: a pattern that
  // looked at every character cost a hundred times more, 400 µs for 64 KiB of text against 3), each
  // kept until passed, so a text of many of one and none of the others is read once. Nothing is
  // built for a text whose breaks all stand between other characters (an HTML error page,
  // pretty-printed JSON, a query string).
  const next = BREAK_STARTS.map((c) => text.indexOf(c));
  let at: Int32Array | null = null;
  let joined = '';
  let n = 0;
  let from = 0;
  for (;;) {
    let k = -1;
    for (let c = 0; c < next.length; c++) if (next[c]! >= 0 && (k < 0 || next[c]! < next[k]!)) k = c;
    if (k < 0) break;
    const start = next[k]!;
    next[k] = text.indexOf(BREAK_STARTS[k]!, start + 1);
    const i = k === 0 && start > 0 && text.charCodeAt(start - 1) === 13 ? start - 1 : start;
    // Inside the break just taken out (the second `%` of `%0D%0A`).
    if (i < from) continue;
    const length = lineBreakAt(text, i, joinable);
    if (length === 0) continue;
    at ??= new Int32Array(text.length);
    joined += text.slice(from, i);
    for (let j = from; j < i; j++) at[n++] = j;
    from = i + length;
  }
  if (at === null) return null;
  joined += text.slice(from);
  for (let j = from; j < text.length; j++) at[n++] = j;
  return { joined, at: at.subarray(0, n) };
}

/**
 * A form's letters and digits alone (its skeleton): a receiver's echo with separators put between a
 * secret's characters reads whole in the answer's skeleton (skeletonOf). Splunk's "Unknown token
 * 9f8e7d6c-5b4a-439.2-8170-...", a key spaced out letter by letter, three pieces of one each shorter
 * than a piece (MIN_PIECE_LENGTH) joined by " | ", a path cut into segments, a hexdump's "39 66 38 ..."
 * of the hex form: each left the rest of a credential readable (an attacker review). Only forms of
 * at least MIN_PIECE_LENGTH letters and digits: a shorter run is too likely to be spelled by ordinary
 * words with their punctuation taken out. A form of a name and its value (`token:<uuid>`, `Splunk
 * <uuid>`) has the name's letters in its skeleton: an echo of both loses the name too ("invalid
 * [redacted]" for "invalid token <uuid>" when the secret is `token:<uuid>`).
 */
function skeletonForms(forms: readonly string[]): string[] {
  const out = new Set<string>();
  for (const form of forms) {
    const skeleton = form.replace(NOT_LETTER_OR_DIGIT, '');
    if (skeleton.length >= MIN_PIECE_LENGTH && new Set(skeleton).size >= MIN_SKELETON_CHARACTERS) out.add(skeleton);
  }
  return longestFirst(out);
}
const NOT_LETTER_OR_DIGIT = /[^0-9a-z]+/g;
/** Distinct characters a skeleton needs: a run of one repeated character is no credential's. */
const MIN_SKELETON_CHARACTERS = 6;

/** A reading's letters and digits alone, each with where it lies in the source. */
function skeletonOf(c: CanonicalText): { chars: string; map: { starts: Int32Array; ends: Int32Array } } {
  const n = c.chars.length;
  const starts = new Int32Array(n);
  const ends = new Int32Array(n);
  let chars = '';
  let k = 0;
  for (let i = 0; i < n; i++) {
    const code = c.chars.charCodeAt(i);
    if (!((code >= 48 && code <= 57) || (code >= 97 && code <= 122))) continue;
    chars += c.chars[i];
    starts[k] = c.starts ? c.starts[i]! : i;
    ends[k] = c.ends ? c.ends[i]! : i + 1;
    k++;
  }
  return { chars, map: { starts: starts.subarray(0, k), ends: ends.subarray(0, k) } };
}

/** A function that replaces every spelling of every form of `secrets` with "[redacted]". */
export function secretScrubber(secrets: readonly (string | null | undefined)[]): Scrubber {
  // The parts (secretParts decodes base64) read once for all three sets of forms.
  const parts = partsOf(secrets);
  const forms = formsOfParts(parts);
  // Every text a scrubber hands back is storable (db/storable.ts): a SIEM's answer ends up in the
  // delivery log and the destination's last error, and one NUL in it failed the claim's settle.
  if (forms.length === 0) return (text) => peerText(storableText(text));
  const pieces = pieceFormsOfParts(parts);
  const skeletons = skeletonForms(forms);
  const joinable = joinableCharacters([...forms, ...pieces.map((p) => p.form)]);
  // Built on the first text long enough to hold a piece: most scrubbers never see one.
  let matchers: PieceMatcher[] | null = null;
  const shortestPiece = Math.min(...pieces.map((p) => p.min));
  // canonicalize turns each source character, or each longer escape, into exactly one character, so
  // a text shorter than the shortest form or piece cannot spell any: short header values (a length, a
  // keep-alive) are handed back without decoding them. A cut text can end in any part of one.
  const shortestForm = forms[forms.length - 1]!.length;
  const shortest = Math.min(shortestForm, shortestPiece);
  const pieceMatchers = (): PieceMatcher[] => (matchers ??= pieces.map(({ form, min }) => new PieceMatcher(form, min)));
  return (answer, cut = false) => {
    // Shown to people, so without what would garble it (peerText); dropped first, so that a secret
    // a SIEM echoed with escape codes between its characters is read whole.
    const text = peerText(storableText(answer));
    if (text.length < (cut ? MIN_SECRET_LENGTH : shortest)) return text;
    // Shorter than every form, whole and without escapes (most header values of every answer: a
    // date, a content type): only a piece can be in it, and its folded text is its canonical text.
    // Looked for there first, so an answer without one costs what it cost before pieces were read.
    // A text that composing changes (a decomposed character) is read in full.
    if (!cut && text.length < shortestForm && !MAY_DECODE.test(text) && normalizedStretches(text, 'NFC').length === 0) {
      const folded = foldText(text);
      if (!pieceMatchers().some((matcher) => matcher.found(folded))) return text;
    }
    // Read decoded and, where composing changes it, composed too (both readings of every form are
    // looked for: formsOfParts): a secret echoed decomposed is found composed, and one followed by a
    // combining mark (which composes with its last character) as decoded.
    const decoded = decodedLayers(text);
    const canonical = composed(decoded);
    const readings = canonical === decoded ? [canonical] : [canonical, decoded];
    const ranges: [number, number][] = [];
    // One form's occurrences come in order, and overlapping ones (a SIEM can answer a run of a
    // secret's repeated character: one occurrence per position) are joined into one range as they
    // come: the ranges to sort are then a few per form, not one per character of the answer.
    // `map`: where each character of the searched text lies in the source (null: it is the source).
    const addRuns = (found: number[], length: number, map: { starts: Int32Array; ends: Int32Array } | null) => {
      let run: [number, number] | null = null;
      for (const at of found) {
        const start = map ? map.starts[at]! : at;
        const end = map ? map.ends[at + length - 1]! : at + length;
        if (run !== null && start <= run[1]) run[1] = Math.max(run[1], end);
        else ranges.push((run = [start, end]));
      }
    };
    const mapOf = (c: CanonicalText) => (c.starts && c.ends ? { starts: c.starts, ends: c.ends } : null);
    for (const reading of readings) for (const form of forms) addRuns(occurrences(reading.chars, form), form.length, mapOf(reading));
    // Pieces of a secret, each stretch of them one range as it comes (a piece ending at each of its
    // characters overlaps the one before).
    const addPieces = (searched: string, map: { starts: Int32Array; ends: Int32Array } | null) => {
      if (searched.length < shortestPiece) return;
      for (const matcher of pieceMatchers()) {
        let run: [number, number] | null = null;
        matcher.scan(searched, (at, to) => {
          const start = map ? map.starts[at]! : at;
          const end = map ? map.ends[to - 1]! : to;
          if (run !== null && start <= run[1]) run[1] = Math.max(run[1], end);
          else ranges.push((run = [start, end]));
        });
      }
    };
    for (const reading of readings) addPieces(reading.chars, mapOf(reading));
    // With separators between a secret's characters (skeletonForms); a cut text's end also when it
    // spells the start of one so.
    if (skeletons.length > 0) {
      for (const reading of readings) {
        const skeleton = skeletonOf(reading);
        for (const form of skeletons) addRuns(occurrences(skeleton.chars, form), form.length, skeleton.map);
        // A piece's length at least: a cut answer's last words ("... Bearer, Basic") spell the start
        // of a scheme's secret once their punctuation is gone.
        const tail = cut ? cutSecretTail(skeleton.chars, skeletons) : 0;
        if (tail >= MIN_PIECE_LENGTH) ranges.push([skeleton.map.starts[skeleton.chars.length - tail]!, text.length]);
      }
    }
    // Read as it stands, too, where the text holds escapes: a stray `%` or `&#` just before a secret
    // (`100%deadbeef...`) decodes together with its first characters, and the decoded text no
    // longer spells it. The folded source is as long as the source, whatever case folding does to a
    // character (foldText), so its positions are the source's; composed, it keeps a map to them.
    if (MAY_ESCAPE.test(text) || HEX_LITERAL_IN.test(text)) {
      const asWritten: CanonicalText = { chars: canonical.folded, folded: canonical.folded, starts: null, ends: null };
      const raw = composed(asWritten);
      for (const reading of raw === asWritten ? [raw] : [raw, asWritten]) {
        for (const form of forms) addRuns(occurrences(reading.chars, form), form.length, mapOf(reading));
        addPieces(reading.chars, mapOf(reading));
      }
    }
    // Checked only for a cut text: it costs a comparison per length of every form, and a whole
    // text cannot end inside a secret it does not hold.
    if (cut) {
      for (const reading of readings) {
        const from = cutSecretStart(text, reading, forms);
        if (from < text.length) ranges.push([from, text.length]);
      }
    }
    // A secret wrapped into lines (base64 as MIME wraps it, a token as a receiver prints the headers
    // it saw): its forms and pieces looked for with the breaks taken out, each found one redacted
    // from its first character to its last in the source, the breaks within it included. A cut text
    // may end in a break, or inside one: read up to it, that end is the end of the secret. Its last
    // characters only: a break and its indentation after one character of a form.
    const end = text.slice(-MAX_BREAK_END);
    let broken = cut ? CUT_LINE_BREAK.exec(end) : null;
    if (broken !== null && !may(joinable, end.charCodeAt(broken.index - 1), BEFORE_BREAK)) broken = null;
    const whole = broken ? text.slice(0, text.length - end.length + broken.index) : text;
    const lines = joinedLines(whole, joinable);
    if (lines !== null || broken !== null) {
      const { joined, at } = lines ?? { joined: whole, at: null };
      const source = (k: number) => (at ? at[k]! : k);
      const joinedDecoded = decodedLayers(joined);
      const joinedComposed = composed(joinedDecoded);
      for (const read of joinedComposed === joinedDecoded ? [joinedComposed] : [joinedComposed, joinedDecoded]) {
        const starts = new Int32Array(read.chars.length);
        const ends = new Int32Array(read.chars.length);
        for (let k = 0; k < read.chars.length; k++) {
          starts[k] = source(read.starts ? read.starts[k]! : k);
          ends[k] = source((read.ends ? read.ends[k]! : k + 1) - 1) + 1;
        }
        if (lines !== null) {
          for (const form of forms) addRuns(occurrences(read.chars, form), form.length, { starts, ends });
          addPieces(read.chars, { starts, ends });
        }
        // As for the text itself (cutSecretStart): the cut may also fall inside an escape after the
        // last break ("...\nAbCd%2").
        const from = cut ? cutSecretStart(joined, read, forms) : joined.length;
        if (from < joined.length) ranges.push([source(from), text.length]);
      }
    }
    if (ranges.length === 0) return text;
    ranges.sort((a, b) => a[0] - b[0]);
    let out = '';
    let cursor = 0;
    for (const [start, end] of ranges) {
      if (end <= cursor) continue;
      if (start > cursor) out += `${text.slice(cursor, start)}${REDACTED}`;
      else if (cursor === 0 && start === 0) out += REDACTED;
      cursor = end;
    }
    // Storable again: a piece may end between the two halves of a surrogate pair.
    return storableText(out + text.slice(cursor));
  };
}
