/**
 * PEM private key blocks (PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY", PKCS#8 "PRIVATE KEY" and
 * "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY", "DSA PRIVATE KEY", "PGP PRIVATE KEY BLOCK"). The
 * finding covers the whole block, BEGIN line to END line, so masking removes all of it.
 *
 * A BEGIN line without an END line (a truncated paste) is still a secret: the finding then runs over
 * the base64 body (and PEM headers such as Proc-Type/DEK-Info) that follows.
 *
 * Linear time: the position of the next END marker is computed once and reused for every BEGIN that
 * precedes it, so many BEGIN lines without END lines do not rescan the text.
 */
import type { Finding } from '../findings.js';

const BEGIN_RE = /-----BEGIN ([A-Z0-9 ]{0,40})PRIVATE KEY( BLOCK)?-----/g;
const END_RE = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;

function isPemBodyChar(c: string): boolean {
  return /[A-Za-z0-9+/=\s:,-]/.test(c);
}

export function detectPrivateKeys(text: string): Finding[] {
  const out: Finding[] = [];
  BEGIN_RE.lastIndex = 0;
  let nextEnd: { index: number; end: number } | null | undefined;
  let m: RegExpExecArray | null;
  while ((m = BEGIN_RE.exec(text)) !== null) {
    const start = m.index;
    const afterBegin = start + m[0].length;
    if (nextEnd === undefined || (nextEnd !== null && nextEnd.index < afterBegin)) {
      END_RE.lastIndex = afterBegin;
      const e = END_RE.exec(text);
      nextEnd = e ? { index: e.index, end: e.index + e[0].length } : null;
    }
    let end: number;
    if (nextEnd) {
      end = nextEnd.end;
    } else {
      end = afterBegin;
      // Stop at the next BEGIN marker too: it starts its own finding.
      while (end < text.length && isPemBodyChar(text[end] as string) && !text.startsWith('-----BEGIN ', end)) end++;
    }
    out.push({ type: 'PRIVATE_KEY', start, end });
    BEGIN_RE.lastIndex = end;
  }
  return out;
}
