/**
 * Tokens inside an HTTP Basic pair, which base64 hides from every other detector:
 * - "Authorization: Basic <base64 of user:password>", as `curl -v` prints the header it sends (with
 *   `-u sk_live_...:`), as git's http.extraheader holds it (actions/checkout writes one with its
 *   token into .git/config, and `git config --list` shows it), as proxies log it;
 * - a Docker config's `"auth": "<base64 of user:token>"` (~/.docker/config.json after `docker login
 *   ghcr.io` with a personal access token).
 * The pair is decoded once, and when a token another detector knows stands in it (a GitHub token, a
 * Stripe key, an AWS key...), the whole base64 value is reported as that token, so the event is
 * blocked and the mask removes the value. A pair holding no known token is left alone: a password
 * has no shape to tell it by, and a finding needs a type.
 */
import { isSecretType, type Finding } from '../findings.js';
import { detectCloudKeys } from './cloudKeys.js';
import { detectTokens } from './tokens.js';

// The scheme word or Docker's key, then the value: whole base64 groups, bounded (a pair of a user and
// a token is well under 2 KiB), and anchored on the previous character so a run of "basic basic..."
// is one bounded attempt per word. Case-insensitive: git writes "AUTHORIZATION: basic".
const BASIC_PAIR_RE = /(?<![A-Za-z0-9_])(?:basic[ \t]{1,4}|"auth"[ \t]{0,4}:[ \t]{0,4}")([A-Za-z0-9+/]{8,2048}={0,2})(?![A-Za-z0-9+/=])/dgi;

/** The pair as text, or null when the value decodes to no text (bytes that are no UTF-8). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodedPair(value: string): string | null {
  try {
    return UTF8.decode(Buffer.from(value, 'base64'));
  } catch {
    return null;
  }
}

export function detectBasicAuthTokens(text: string): Finding[] {
  const out: Finding[] = [];
  BASIC_PAIR_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = BASIC_PAIR_RE.exec(text)) !== null) {
    const [start, end] = m.indices![1]!;
    const pair = decodedPair(m[1]!);
    if (pair === null || !pair.includes(':')) continue;
    const secret = [...detectTokens(pair), ...detectCloudKeys(pair)].find((f) => isSecretType(f.type));
    if (secret) out.push({ type: secret.type, start, end });
  }
  return out;
}
