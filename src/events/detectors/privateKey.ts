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
 *
 * The finding covers the whole block or file, first line to last, so masking removes all of it.
 *
 * A first line without its last (a truncated paste) is still a secret: the finding then runs over the
 * body (and headers: PEM's Proc-Type/DEK-Info, the SSH2 and PuTTY header lines) that follows. An SSH2
 * or PuTTY comment is free text, so their body may also hold the characters a comment commonly does
 * (quotes, an address, a date, parentheses). PuTTY's "Private-Lines: N" followed by base64 starts a
 * finding of its own too: a comment with other characters ends the finding from the first line
 * early, and a paste may hold the private half only; either way the private lines are masked.
 *
 * Linear time: for each format the position of the next closing marker is computed once and reused
 * for every opening marker that precedes it, so many opening lines without closing lines do not
 * rescan the text.
 */
import type { Finding } from '../findings.js';

const PEM_BEGIN = '-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----';
const SSH2_BEGIN = '---- BEGIN SSH2 [A-Z0-9 ]{0,40}PRIVATE KEY ----';
// Line breaks reach the detector as spaces (normalize.ts); a few more allow for indentation.
const PPK_BEGIN = 'PuTTY-User-Key-File-[0-9]{1,3}: [A-Za-z0-9@.-]{1,64} {1,16}Encryption: ';
// A private blob is never shorter than 16 base64 characters (an Ed25519 one is 48), while prose
// ("Private-Lines: 14 lines follow") has a word there.
const PPK_PRIVATE_BEGIN = 'Private-Lines: [0-9]{1,5} {1,16}(?=[A-Za-z0-9+/]{16})';

const BEGIN_RE = new RegExp(`(?<pem>${PEM_BEGIN})|(?<ssh2>${SSH2_BEGIN})|(?<ppk>${PPK_BEGIN}|${PPK_PRIVATE_BEGIN})`, 'g');
/** Where another block or file starts: a truncated body ends there (the private lines are the same file's). */
const OTHER_BEGIN_RE = new RegExp(`-----BEGIN |---- BEGIN |${PPK_BEGIN}`, 'y');

type Format = 'pem' | 'ssh2' | 'ppk';

const END_RES: Readonly<Record<Format, RegExp>> = {
  pem: /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g,
  ssh2: /---- END SSH2 [A-Z0-9 ]{0,40}PRIVATE KEY ----/g,
  // The MAC is 40 hex digits (HMAC-SHA-1, format 2) or 64 (HMAC-SHA-256, format 3).
  ppk: /Private-(?:MAC|Hash): {0,16}[0-9a-fA-F]{0,128}/g,
};

function isPemBodyChar(c: string): boolean {
  return /[A-Za-z0-9+/=\s:,-]/.test(c);
}

function isCommentedBodyChar(c: string): boolean {
  return isPemBodyChar(c) || /["'@._\\()]/.test(c);
}

function startsOtherBlock(text: string, i: number): boolean {
  OTHER_BEGIN_RE.lastIndex = i;
  return OTHER_BEGIN_RE.test(text);
}

function formatOf(m: RegExpExecArray): Format {
  if (m.groups?.pem !== undefined) return 'pem';
  return m.groups?.ssh2 !== undefined ? 'ssh2' : 'ppk';
}

export function detectPrivateKeys(text: string): Finding[] {
  const out: Finding[] = [];
  BEGIN_RE.lastIndex = 0;
  const nextEnd: Partial<Record<Format, { index: number; end: number } | null>> = {};
  let m: RegExpExecArray | null;
  while ((m = BEGIN_RE.exec(text)) !== null) {
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
    let end: number;
    if (next) {
      end = next.end;
    } else {
      end = afterBegin;
      const isBodyChar = format === 'pem' ? isPemBodyChar : isCommentedBodyChar;
      // Stop at the next block's first line too: it starts its own finding.
      while (end < text.length && isBodyChar(text[end] as string) && !startsOtherBlock(text, end)) end++;
    }
    out.push({ type: 'PRIVATE_KEY', start, end });
    BEGIN_RE.lastIndex = end;
  }
  return out;
}
