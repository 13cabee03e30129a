/**
 * Private keys, in the text formats they are pasted in:
 *
 * - PEM blocks (PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY", PKCS#8 "PRIVATE KEY" and
 *   "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY", "DSA PRIVATE KEY", "PGP PRIVATE KEY BLOCK"),
 *   "-----BEGIN ...-----" to "-----END ...-----".
 * - SSH2 blocks (RFC 4716 framing, as SSH.com / Tectia and PuTTYgen's export write a private key:
 *   "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", headers such as `Comment: "..."`, base64,
 *   "---- END SSH2 ENCRYPTED PRIVATE KEY ----"). The same framing around a PUBLIC KEY is no secret.
 * - PuTTY key files (.ppk, format 1 to 3): "PuTTY-User-Key-File-N: algorithm", "Encryption:",
 *   "Comment:", "Public-Lines: N" and its base64, for format 3 the key derivation lines, then
 *   "Private-Lines: N" and its base64, and last "Private-MAC: hex" ("Private-Hash:" in format 1).
 *   The first line must be followed by the Encryption line, so prose naming the header is not a key.
 * - A PEM private key encoded in base64 once more, as a kubeconfig's `client-key-data:` or a
 *   Kubernetes Secret's `tls.key:` holds it: every such value starts with "LS0tLS1CRUdJTi" (base64 of
 *   "-----BEGIN"). The run is decoded once and reported whole when the decoded text holds a private
 *   key by the rules here; a certificate ("client-certificate-data:") decodes to no private key.
 * - A key's DER in base64 with no PEM lines around it (derFindings), and an OpenSSH key's body without
 *   them (opensshFindings).
 *
 * A block is a key only when its body holds key material (KeyMaterial): base64 runs adding up to
 * about the smallest real key of its format (MIN_KEY_MATERIAL), reading as random text does
 * (MIN_CLASS_CHANGES) unless they start as a key's encoding does (startsAsKey), so code and
 * documentation that name the markers (`pem.replace('-----BEGIN PRIVATE KEY-----', '')`, a
 * template's "YOUR_PRIVATE_KEY", a README's "...") are not keys.
 *
 * The finding covers the whole block or file, first line to last, so masking removes all of it.
 *
 * A first line without its last (a truncated paste) is still a secret: the finding then runs over the
 * body (and headers: PEM's Proc-Type/DEK-Info, the SSH2 and PuTTY header lines) that follows. An SSH2
 * or PuTTY comment is free text, so their body may also hold the characters a comment commonly does
 * (quotes, an address, a date, parentheses). PuTTY's "Private-Lines: N" followed by base64 starts a
 * finding of its own too: a comment with other characters ends the finding from the first line
 * early, and a paste may hold the private half only; either way the private lines are masked. A
 * block's body also ends where another block starts, so a lone header in code does not run on into a
 * key pasted further down.
 *
 * A PEM last line without its first (terminal scrollback, `tail`, a log event starting mid-key) is a
 * secret too: the finding takes the body lines before it, read backwards (see tailStart).
 *
 * Linear time: for each format the position of the next closing marker, of the next block's first
 * line and of the end of a truncated body is computed once and reused for every opening marker that
 * precedes it; the base64 runs are found by one pass, at the first marker, and each body's share of
 * them by two binary searches; a last line's
 * backward reading stops at the marker before it; each encoded run is decoded once.
 */
import type { Finding } from '../findings.js';
import { firstIndex } from './common.js';

const PEM_BEGIN = '-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----';
const SSH2_BEGIN = '---- BEGIN SSH2 [A-Z0-9 ]{0,40}PRIVATE KEY ----';
// Line breaks reach the detector as spaces (normalize.ts); a few more allow for indentation.
const PPK_BEGIN = 'PuTTY-User-Key-File-[0-9]{1,3}: [A-Za-z0-9@.-]{1,64} {1,16}Encryption: ';
// A private blob is never shorter than 16 base64 characters (an Ed25519 one is 48), while prose
// ("Private-Lines: 14 lines follow") has a word there.
const PPK_PRIVATE_BEGIN = 'Private-Lines: [0-9]{1,5} {1,16}(?=[A-Za-z0-9+/]{16})';

const BEGIN_RE = new RegExp(`(?<pem>${PEM_BEGIN})|(?<ssh2>${SSH2_BEGIN})|(?<ppk>${PPK_BEGIN}|${PPK_PRIVATE_BEGIN})`, 'g');
/** Where another block or file starts: a body ends there (the private lines are the same file's). */
const OTHER_BEGIN = `-----BEGIN |---- BEGIN |${PPK_BEGIN}`;
const OTHER_BEGIN_AT_RE = new RegExp(OTHER_BEGIN, 'y');
const NEXT_OTHER_BEGIN_RE = new RegExp(OTHER_BEGIN, 'g');

type Format = 'pem' | 'ssh2' | 'ppk';

const END_RES: Readonly<Record<Format, RegExp>> = {
  pem: /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g,
  ssh2: /---- END SSH2 [A-Z0-9 ]{0,40}PRIVATE KEY ----/g,
  // The MAC is 40 hex digits (HMAC-SHA-1, format 2) or 64 (HMAC-SHA-256, format 3).
  ppk: /Private-(?:MAC|Hash): {0,16}[0-9a-fA-F]{0,128}/g,
};

/**
 * How much base64 a body must hold, from the smallest real private key of each format (base64
 * characters of the body, padding left out; a PEM body is wrapped at 64, OpenSSH's at 70): PKCS#8
 * Ed25519 or X25519 64 (48 bytes, one line), SEC1 P-256 without its public key 68 and 164 with it,
 * PKCS#8 P-256 184, encrypted PKCS#8 Ed25519 212, OpenSSH Ed25519 324, PGP Ed25519 about 330 (lines
 * of 64), PKCS#1 RSA-512 428; SSH2 blobs carry a long algorithm name on top of an RSA or DSA key. A
 * PuTTY file's smallest blob is an Ed25519 private one, 48 (its public blob is 68). A key's header
 * alone ("MIIEpAIBAAKCAQEA", OpenSSH's "b3BlbnNzaC1rZXktdjEA") is the same in every key, and a
 * truncated paste shorter than one line holds no usable part of one. PEM's and SSH2's minimum is a
 * little under 64, so that the smallest key still counts with a character or two lost to an escape
 * nothing decodes (Markdown's "\+").
 */
const MIN_KEY_MATERIAL: Readonly<Record<Format, number>> = { pem: 60, ssh2: 60, ppk: 48 };
/**
 * The pieces that count towards it: runs of base64 at least this long. A key re-wrapped narrower than
 * its format's width (a narrow terminal's hard breaks, `tmux capture-pane` without -J, text copied out
 * of a PDF) is pieces of 20 to 60; code between the markers is identifiers, which seldom reach 16.
 */
const MIN_PIECE = 16;

const BASE64_RUN_RE = /[A-Za-z0-9+/]+/g;
/**
 * Base64 of 48 characters or more holds upper- and lower-case letters, even a small key's first line,
 * half ASN.1 header (a GOST PKCS#8 key's is "MEUCAQAwHAYGKoUDAgITMBIGByqFAwICIwEGByqFAwICHgEE...",
 * without a digit); a hex digest, a banner of "////" or an upper-case constant does not.
 */
function hasBothCases(run: string): boolean {
  return /[A-Z]/.test(run) && /[a-z]/.test(run);
}

/** A digit, "+" or "/": 60 random base64 characters lack all three about once in 250,000; words do. */
const NON_LETTER = /[0-9+/]/;
/**
 * How often, at least, a body's pieces change class (upper case, lower case, other) from one character
 * to the next, over all of them: random base64 changes at about 64 % of its characters (a key's fixed
 * ASN.1 header, "MIIEpAIBAAKCAQEA", at 13 %, so a key's first line alone may fall below), names in code
 * or prose at 11-39 % ("importPrivateKeyFromPem" 36 %, "PKCS8EncodedKeySpec" 39 %,
 * "ServiceAccountCredentials" 21 %). So a PEM helper or a tutorial between the markers is no key
 * material however long its names, while a key's lines count whatever stands around them (a grep's
 * "path:", `cat -A`'s "$", a log's "DEBUG:root:", a list's commas).
 */
const MIN_CLASS_CHANGES = 0.45;

/**
 * Whether base64 starts as a private key's encoding does, read from its first 12 bytes: DER (PKCS#1,
 * SEC1, PKCS#8: a SEQUENCE whose first element is the version, INTEGER 0 or 1; an encrypted PKCS#8
 * key's algorithm SEQUENCE), SSH2's magic number, or a PGP secret key packet (old or new format) of
 * version 3 to 6. Decoded, not matched as text: names such as "MGF1ParameterSpec" or
 * "MD5CryptoServiceProvider" start with the same letters as DER, and decode to nothing of the kind.
 * OpenSSH's fixed first line is public ("openssh-key-v1", the cipher, the public key): no start here.
 */
function startsAsKey(run: string): boolean {
  if (run.startsWith('P2/56w')) return true;
  const b = Buffer.from(run.slice(0, 16), 'base64');
  if (b[0] === 0x30) {
    const at = b[1]! < 0x80 ? 2 : b[1] === 0x81 ? 3 : b[1] === 0x82 ? 4 : -1;
    if (at < 0) return false;
    return (b[at] === 0x02 && b[at + 1] === 0x01 && b[at + 2]! <= 1) || b[at] === 0x30;
  }
  // PGP, old format: tag 5 with a length of 1, 2 or 4 bytes; new format: tag 5, 1 or 2 length bytes.
  const oldFormat = (b[0]! & 0xfc) === 0x94;
  const newFormat = b[0] === 0xc5;
  if (!oldFormat && !newFormat) return false;
  const lengthBytes = oldFormat ? [1, 2, 4][b[0]! & 0x03] : b[1]! < 192 ? 1 : b[1]! < 224 ? 2 : -1;
  if (lengthBytes === undefined || lengthBytes < 0) return false;
  const version = b[1 + lengthBytes]!;
  return version >= 3 && version <= 6;
}

function classOf(code: number): number {
  if (code >= 65 && code <= 90) return 0;
  return code >= 97 && code <= 122 ? 1 : 2;
}

/** How many times a run's characters change class from one to the next. */
function classChanges(run: string): number {
  let changes = 0;
  for (let i = 1; i < run.length; i++) if (classOf(run.charCodeAt(i)) !== classOf(run.charCodeAt(i - 1))) changes++;
  return changes;
}

/**
 * The base64 runs of a text of MIN_PIECE or more, found once, with running sums, so each body's
 * question, "how much key material lies in [from, to)?", costs two binary searches.
 */
class KeyMaterial {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  /**
   * sums[i]: the length of the first i pieces; changes[i]: their class changes; mixed[i], other[i]: how
   * many of them hold both cases, a non-letter.
   */
  private readonly sums: number[] = [0];
  private readonly changes: number[] = [0];
  private readonly mixed: number[] = [0];
  private readonly other: number[] = [0];

  constructor(private readonly text: string) {
    const re = new RegExp(BASE64_RUN_RE.source, 'g');
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      if (m[0].length < MIN_PIECE) continue;
      const n = this.sums.length - 1;
      this.starts.push(m.index);
      this.ends.push(m.index + m[0].length);
      this.sums.push(this.sums[n]! + m[0].length);
      this.changes.push(this.changes[n]! + classChanges(m[0]));
      this.mixed.push(this.mixed[n]! + (hasBothCases(m[0]) ? 1 : 0));
      this.other.push(this.other[n]! + (NON_LETTER.test(m[0]) ? 1 : 0));
    }
  }

  /**
   * Whether the body's first piece starts as a key's encoding does (startsAsKey): its fixed header
   * changes class at 13-40 % ("MC4CAQAwBQYDK2VwBCIEI", "MIGHAgEAMBMGByqGSM49..."), so a small key
   * (Ed25519, EC) cut short or read from behind a grep's prefix could fall below MIN_CLASS_CHANGES
   * though its random part does not. The class test is not needed then.
   */
  private keyStart(first: number): boolean {
    return startsAsKey(this.text.slice(this.starts[first], this.ends[first]));
  }

  /** The first piece that starts at or after `offset`. */
  private firstFrom(offset: number): number {
    return firstIndex(this.starts.length, (k) => this.starts[k]! >= offset);
  }

  /** Whether the pieces in [from, to) are key material: `min` characters, random-looking, varied. */
  within(from: number, to: number, min: number): boolean {
    // Pieces never straddle a body's start: a marker line is no base64. A truncated body may end inside
    // one: the piece then counts as far as the body goes.
    const first = this.firstFrom(from);
    const last = this.firstFrom(to);
    if (last === first) return false;
    const cut = Math.max(0, this.ends[last - 1]! - to);
    const total = this.sums[last]! - this.sums[first]! - cut;
    const pieceLength = this.sums[last]! - this.sums[first]!;
    // Changes between characters of the pieces, scaled down for a cut piece's lost part.
    const changes = ((this.changes[last]! - this.changes[first]!) * total) / pieceLength;
    const between = total - (last - first);
    const random = this.keyStart(first) || changes >= MIN_CLASS_CHANGES * between;
    return total >= min && random && this.mixed[last]! > this.mixed[first]! && this.other[last]! > this.other[first]!;
  }
}

function isPemBodyChar(c: string): boolean {
  return /[A-Za-z0-9+/=\s:,-]/.test(c);
}

function isCommentedBodyChar(c: string): boolean {
  return isPemBodyChar(c) || /["'@._\\()]/.test(c);
}

function isBase64Char(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9+/=]/.test(c);
}

function isBlank(c: string | undefined): boolean {
  return c !== undefined && /\s/.test(c);
}

function startsOtherBlock(text: string, i: number): boolean {
  OTHER_BEGIN_AT_RE.lastIndex = i;
  return OTHER_BEGIN_AT_RE.test(text);
}

function formatOf(m: RegExpExecArray): Format {
  if (m.groups?.pem !== undefined) return 'pem';
  return m.groups?.ssh2 !== undefined ? 'ssh2' : 'ppk';
}

/** Blocks and files from their first line: whole, or truncated up to where their body ends. */
function blockFindings(text: string): Finding[] {
  const out: Finding[] = [];
  const re = new RegExp(BEGIN_RE.source, 'g');
  const nextEnd: Partial<Record<Format, { index: number; end: number } | null>> = {};
  // Built at the first marker only: most texts have none, and the pieces are a pass over all of it.
  let material: KeyMaterial | undefined;
  // A truncated body ends where the same scan from any earlier point in it ends (the stop depends on
  // the position only), so one end per kind of body serves every first line inside it.
  const truncatedEnd = { pem: -1, commented: -1 };
  let nextOther = -1;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const format = formatOf(m);
    const start = m.index;
    const afterBegin = start + m[0].length;
    let next = nextEnd[format];
    if (next === undefined || (next !== null && next.index < afterBegin)) {
      const endRe = END_RES[format];
      endRe.lastIndex = afterBegin;
      const e = endRe.exec(text);
      next = nextEnd[format] = e ? { index: e.index, end: e.index + e[0].length } : null;
    }
    if (nextOther !== Infinity && nextOther < afterBegin) {
      NEXT_OTHER_BEGIN_RE.lastIndex = afterBegin;
      nextOther = NEXT_OTHER_BEGIN_RE.exec(text)?.index ?? Infinity;
    }
    let bodyEnd: number;
    let end: number;
    if (next && next.index <= nextOther) {
      bodyEnd = next.index;
      end = next.end;
    } else {
      const kind = format === 'pem' ? 'pem' : 'commented';
      if (truncatedEnd[kind] < afterBegin) {
        const isBodyChar = kind === 'pem' ? isPemBodyChar : isCommentedBodyChar;
        let e = afterBegin;
        // Stop at the next block's first line too: it starts its own finding.
        while (e < text.length && isBodyChar(text[e] as string) && !startsOtherBlock(text, e)) e++;
        truncatedEnd[kind] = e;
      }
      bodyEnd = end = truncatedEnd[kind];
    }
    material ??= new KeyMaterial(text);
    if (!material.within(afterBegin, bodyEnd, MIN_KEY_MATERIAL[format])) continue;
    out.push({ type: 'PRIVATE_KEY', start, end });
    re.lastIndex = end;
  }
  return out;
}

// GnuPG ends an armored key with a checksum line ("=uIyu") after the last, short, data line.
const ARMOR_CHECKSUM_RE = /^=[A-Za-z0-9+/]{4}$/;
/**
 * Where the body before a PEM last line at `endIndex` starts, or -1 when it holds no key material.
 * Read backwards, line by line: the last data line (and an armor checksum) may be short; the lines
 * before it are whole, all as wide as the first of them, MIN_PIECE or more (64 as written, narrower
 * when a terminal broke them); a shorter line above them is the cut top of the body only when the
 * text starts there or a quote opens it (a log field), else it is prose ("see the end of the key:")
 * and is left out. A line glued to other characters ("x_ab..") ends the body. Key material as in a
 * block: MIN_KEY_MATERIAL.pem characters, of both cases somewhere and with a non-letter.
 */
function tailStart(text: string, endIndex: number): number {
  let start = -1;
  let total = 0;
  let mixed = false;
  let other = false;
  let width = 0;
  let afterChecksum = false;
  for (let i = endIndex, n = 0; ; n++) {
    let j = i;
    while (isBlank(text[j - 1])) j--;
    let k = j;
    while (isBase64Char(text[k - 1])) k--;
    const before = text[k - 1];
    const quoted = before === '"' || before === "'";
    if (k === j || (before !== undefined && !isBlank(before) && !quoted)) break;
    const line = text.slice(k, j);
    const free = n === 0 || (n === 1 && afterChecksum);
    if (!free && width === 0 && line.length >= MIN_PIECE) width = line.length;
    if (!free && line.length !== width) {
      let h = k;
      while (isBlank(text[h - 1])) h--;
      if ((h === 0 || quoted) && line.length < width) {
        start = k;
        total += line.length;
      }
      break;
    }
    afterChecksum = n === 0 && ARMOR_CHECKSUM_RE.test(line);
    start = k;
    total += line.length;
    mixed ||= hasBothCases(line);
    other ||= NON_LETTER.test(line);
    if (quoted) break;
    i = k;
  }
  return total >= MIN_KEY_MATERIAL.pem && mixed && other ? start : -1;
}

/** PEM last lines outside the blocks found, with the body lines before them. */
function tailFindings(text: string, blocks: readonly Finding[]): Finding[] {
  const out: Finding[] = [];
  const re = new RegExp(END_RES.pem.source, 'g');
  let b = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    while (b < blocks.length && (blocks[b] as Finding).end <= m.index) b++;
    if (b < blocks.length && (blocks[b] as Finding).start <= m.index) continue;
    const start = tailStart(text, m.index);
    if (start >= 0) out.push({ type: 'PRIVATE_KEY', start, end: m.index + m[0].length });
  }
  return out;
}

/** Base64 of "-----BEGIN", as every base64-encoded PEM block starts. */
const ENCODED_PEM_RE = /LS0tLS1CRUdJTi/g;
/** The widths `openssl base64` (64) and GNU `base64` (76) wrap at: a run of either may go on on the next line. */
const ENCODED_LINE_WIDTHS: readonly number[] = [64, 76];

function base64RunEnd(text: string, i: number): number {
  while (isBase64Char(text[i])) i++;
  return i;
}

/** PEM is ASCII text: a line of the encoded run decodes to nothing else. */
const PEM_TEXT_RE = /^[\x20-\x7e\t\r\n]*$/;

/**
 * Whether [start, end) is a next line of an encoded run wrapped at `width`: no longer, whole base64
 * groups (both tools pad), standing alone (a blank or a quote after it), and decoding to PEM text on
 * its own (the widths are whole groups, so each line decodes alone). A word on the line after the
 * value ("thanks", "okay") fails one of these.
 */
function isEncodedLine(text: string, start: number, end: number, width: number): boolean {
  const after = text[end];
  if (end === start || end - start > width || (end - start) % 4 !== 0) return false;
  if (after !== undefined && !isBlank(after) && after !== '"' && after !== "'") return false;
  return PEM_TEXT_RE.test(Buffer.from(text.slice(start, end), 'base64').toString('latin1'));
}

/**
 * Where a base64 run starting at `start` ends, over the next lines when it is wrapped: a first line
 * of a wrapping width followed by lines of the same width, and a last line no longer (isEncodedLine).
 * A one-line value of a wrapping width is too short to hold a key, so its first line being one of
 * them does not make a one-line value take the line after it.
 */
function encodedRunEnd(text: string, start: number): number {
  return wrappedRunEnd(
    text,
    start,
    base64RunEnd,
    (next) => (isBlank(text[next]) ? 1 : 0),
    (from, to, width) => isEncodedLine(text, from, to, width),
  );
}

/**
 * The one walk of encodedRunEnd and derKeyEnd: the run from `start` (runEnd), and when its first line
 * is as wide as a wrapping tool makes it (`widths`: ENCODED_LINE_WIDTHS unless told), each next line past a break
 * (breakAt: its length at a position, 0 for none) that `isLine` takes, up to a shorter last one.
 */
function wrappedRunEnd(
  text: string,
  start: number,
  runEnd: (text: string, i: number) => number,
  breakAt: (i: number) => number,
  isLine: (from: number, to: number, width: number) => boolean,
  widths: readonly number[] = ENCODED_LINE_WIDTHS,
): number {
  let end = runEnd(text, start);
  const width = end - start;
  if (!widths.includes(width)) return end;
  for (;;) {
    let next = end;
    for (let step = breakAt(next); step > 0; step = breakAt(next)) next += step;
    const lineEnd = runEnd(text, next);
    if (next === end || !isLine(next, lineEnd, width)) return end;
    end = lineEnd;
    if (lineEnd - next < width) return end;
  }
}

/** Base64 runs that decode to a text holding a private key, each run decoded once. */
function encodedFindings(text: string): Finding[] {
  const out: Finding[] = [];
  const re = new RegExp(ENCODED_PEM_RE.source, 'g');
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const start = m.index;
    // Inside a longer run it is no value's start; the rest of that run is skipped.
    const end = isBase64Char(text[start - 1]) ? base64RunEnd(text, start) : encodedRunEnd(text, start);
    re.lastIndex = end;
    if (isBase64Char(text[start - 1])) continue;
    const decoded = Buffer.from(text.slice(start, end), 'base64').toString('latin1');
    if (blockFindings(decoded).length > 0) out.push({ type: 'PRIVATE_KEY', start, end });
  }
  return out;
}

/**
 * A private key's DER in base64 without its PEM lines (one line: an environment variable, a JSON
 * field, `openssl pkey -outform DER | base64`; or wrapped at 64 or 76 columns; base64url too), known by
 * how its encoding starts, which its format fixes: PKCS#8 (any algorithm: its version 0 and the
 * algorithm's sequence, `...IBAD...`, or Ed25519's, X25519's, Ed448's, X448's and EC's short forms),
 * encrypted PKCS#8 (PBES2), PKCS#1 RSA and SEC1 EC (any curve). A public key starts otherwise
 * (SubjectPublicKeyInfo: "MCowBQYDK2Vw", "MFkwEwYHKoZIzj0C", "MIIBIjAN...AQEFAAOC"), and so do a
 * certificate and a request ("MII...CCA"). Not OpenSSH's body: its first line is the same header for
 * every key ("openssh-key-v1", "none", the key type), what documentation quotes; opensshFindings reads
 * that one by its layout.
 */
const DER_KEY_START_RE =
  /(?<![A-Za-z0-9+/_-])(?:MC4CAQAwBQYDK2V[uw]BCIEI|ME[cY]CAQAwBQYDK2V[vx]BD[A-Za-z0-9+/_-]EO|MI[A-Za-z0-9+/_-]{2}AgEAMB[AM]GByqGSM49AgEG|MII[A-Za-z0-9+/_-]{3}IBAD|MII[A-Za-z0-9+/_-]{3}IBAAK[BC]|MIIC[A-Za-z0-9+/_-]{2}IBAAKBgQ|MH[A-Za-z0-9+/_-]CAQEE|MI[GH][A-Za-z0-9+/_-]AgEBB|MI[A-Za-z0-9+/_-]{2,6}(?:BgkqhkiG9w0BBQ0w|GCSqGSIb3DQEFDT))/g;
/** The shortest such key in base64: Ed25519's PKCS#8, 48 bytes. */
const MIN_DER_KEY = 64;

const isDerChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9+/=_-]/.test(c);

function derRunEnd(text: string, i: number): number {
  while (isDerChar(text[i])) i++;
  return i;
}

/**
 * Where a DER key's base64 starting at `start` ends: over the next lines when its first line is as
 * wide as a wrapping tool makes it (ENCODED_LINE_WIDTHS), each next one as wide and whole groups, the
 * last no wider. A word after the key ("thanks") is no such line.
 */
function derKeyEnd(text: string, start: number): number {
  const breakAt = keyLineBreak(text);
  // Whole groups (both tools pad the last line), and a shorter last line with a digit or a symbol: a
  // word after the key ("Done", "user") is none.
  const isLine = (from: number, to: number, width: number) =>
    to > from && to - from <= width && (to - from) % 4 === 0 && (to - from === width || /[0-9+/=_-]/.test(text.slice(from, to)));
  return wrappedRunEnd(text, start, derRunEnd, breakAt, isLine);
}

/** The length of a break between a key's lines at i (0: none): a line break as written, or escaped in a JSON string ("\\n"). */
function keyLineBreak(text: string): (i: number) => number {
  return (i) => (isBlank(text[i]) ? 1 : text[i] === '\\' && text[i + 1] === 'n' ? 2 : 0);
}

function derFindings(text: string): Finding[] {
  const out: Finding[] = [];
  const re = new RegExp(DER_KEY_START_RE.source, 'g');
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const end = derKeyEnd(text, m.index);
    re.lastIndex = end;
    if (end - m.index >= MIN_DER_KEY) out.push({ type: 'PRIVATE_KEY', start: m.index, end });
  }
  return out;
}

/**
 * An OpenSSH private key's body without its PEM lines: the base64 `ssh-keygen` writes between them,
 * joined on one line (an environment variable, a CI secret) or wrapped as written (70 columns) or
 * re-wrapped by `base64` (76) or `openssl base64` (64), base64url too. Every body starts with base64
 * of "openssh-key-v1\0" (PROTOCOL.key), and so does the header line documentation quotes (the same in
 * every key: the magic, the cipher, the KDF, the public key), so the body is read by its layout
 * (opensshPrivatePart): a key only when its private section is there.
 */
const OPENSSH_BODY_START_RE = /(?<![A-Za-z0-9+/_-])b3BlbnNzaC1rZXktdjEA/g;
const OPENSSH_LINE_WIDTHS: readonly number[] = [...ENCODED_LINE_WIDTHS, 70];
/** "openssh-key-v1" and its NUL. */
const OPENSSH_MAGIC_LENGTH = 15;
/** A cipher's or a KDF's name ("none", "aes256-ctr", "chacha20-poly1305@openssh.com", "bcrypt"). */
const OPENSSH_NAME_RE = /^[A-Za-z0-9@._-]{1,64}$/;
/** Far above any real field (an RSA-16384 public key is about 2 KiB): a bigger length is no key's. */
const OPENSSH_MAX_FIELD = 1 << 16;
/**
 * Private-section bytes that must be there: 48 (64 base64 characters, as much as the smallest DER key
 * holds), or the whole section if shorter. Ed25519's whole section is 136 bytes (144 encrypted); the
 * header and public key before it are 98.
 */
const MIN_OPENSSH_PRIVATE = 48;

/**
 * The length in bytes a decoded body declares (-1 when it holds no private section): after the magic,
 * the cipher's and KDF's names, the KDF's options, the number of keys (OpenSSH writes one), each
 * public key, then the private section's length and at least MIN_OPENSSH_PRIVATE of its bytes.
 * Unencrypted, the section starts with the same random check number twice, which nothing but a key's
 * body has.
 */
function opensshPrivatePart(b: Buffer): number {
  let at = OPENSSH_MAGIC_LENGTH;
  const field = (): Buffer | null => {
    if (at + 4 > b.length) return null;
    const n = b.readUInt32BE(at);
    if (n > OPENSSH_MAX_FIELD || at + 4 + n > b.length) return null;
    at += 4 + n;
    return b.subarray(at - n, at);
  };
  const cipher = field()?.toString('latin1');
  const kdf = field()?.toString('latin1');
  if (cipher === undefined || kdf === undefined || !OPENSSH_NAME_RE.test(cipher) || !OPENSSH_NAME_RE.test(kdf) || field() === null) return -1;
  if (at + 4 > b.length) return -1;
  const keys = b.readUInt32BE(at);
  at += 4;
  if (keys < 1 || keys > 16) return -1;
  for (let k = 0; k < keys; k++) if (field() === null) return -1;
  if (at + 4 > b.length) return -1;
  const length = b.readUInt32BE(at);
  at += 4;
  const present = b.length - at;
  // Eight bytes at least: the two check numbers (no real section is shorter).
  if (length < 8 || length > OPENSSH_MAX_FIELD || present < Math.max(8, Math.min(length, MIN_OPENSSH_PRIVATE))) return -1;
  if (cipher === 'none' && b.readUInt32BE(at) !== b.readUInt32BE(at + 4)) return -1;
  return at + length;
}

/**
 * Where the first `chars` base64 characters from `start` end, the breaks between lines (keyLineBreak)
 * passed over; `end` if the text up to it holds fewer.
 */
function endAfterChars(text: string, start: number, end: number, chars: number): number {
  const breakAt = keyLineBreak(text);
  let count = 0;
  for (let i = start; i < end;) {
    const step = breakAt(i);
    if (step > 0) {
      i += step;
      continue;
    }
    if (++count === chars) return i + 1;
    i++;
  }
  return end;
}

/**
 * Where an OpenSSH body starting at `start` may end: the walk of derKeyEnd, at OPENSSH_LINE_WIDTHS.
 * Its 70 columns are no whole base64 groups, so a shorter last line is taken when it makes the body
 * so (ssh-keygen pads it): "thanks" after the key is none, but "Done" would be, so the body's own
 * length then ends it (opensshFindings).
 */
function opensshKeyEnd(text: string, start: number): number {
  let joined = 0;
  const isLine = (from: number, to: number, width: number) => {
    if (joined === 0) joined = width;
    const n = to - from;
    if (n === 0 || n > width || (n < width && (joined + n) % 4 !== 0)) return false;
    joined += n;
    return true;
  };
  return wrappedRunEnd(text, start, derRunEnd, keyLineBreak(text), isLine, OPENSSH_LINE_WIDTHS);
}

function opensshFindings(text: string): Finding[] {
  const out: Finding[] = [];
  const re = new RegExp(OPENSSH_BODY_START_RE.source, 'g');
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const runEnd = opensshKeyEnd(text, m.index);
    re.lastIndex = runEnd;
    // Its lines joined: the breaks between them (blanks, escaped "\n") are no base64.
    const body = text.slice(m.index, runEnd).replace(/\\[nr]|\s/g, '');
    const length = opensshPrivatePart(Buffer.from(body, 'base64'));
    if (length < 0) continue;
    // A whole body ends where its length says (a last line after it is a word); a cut one where it stops.
    out.push({ type: 'PRIVATE_KEY', start: m.index, end: endAfterChars(text, m.index, runEnd, Math.ceil(length / 3) * 4) });
  }
  return out;
}

export function detectPrivateKeys(text: string): Finding[] {
  const blocks = blockFindings(text);
  return [...blocks, ...tailFindings(text, blocks), ...encodedFindings(text), ...derFindings(text), ...opensshFindings(text)].sort((a, b) => a.start - b.start);
}
