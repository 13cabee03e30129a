/**
 * Tokens inside an HTTP Basic pair, which base64 hides from every other detector:
 * - "Authorization: Basic <base64 of user:password>", as `curl -v` prints the header it sends (with
 *   `-u sk_live_...:`), as git's http.extraheader holds it (actions/checkout writes one with its
 *   token into .git/config, and `git config --list` shows it), as proxies log it;
 * - a Docker config's `"auth": "<base64 of user:token>"` (~/.docker/config.json after `docker login
 *   ghcr.io` with a personal access token).
 * The pair is decoded once, and when a token another detector knows stands in it (a GitHub token, a
 * Stripe key, an AWS key...), the whole base64 value is reported as that token, so the event is
 * blocked and the mask removes the value. Any other pair of printable text with a password is a
 * PASSWORD: "Authorization: Basic YWRtaW46aHVudGVyMlNlY3JldCE=" is admin's password, whatever its
 * shape, and base64 hides it from no one. Not a placeholder ("user:password", "u:${PASS}", "u:***",
 * as urlPassword.ts reads them), and never from a word after "basic" that only decodes to bytes.
 */
import { isSecretType, type Finding } from '../findings.js';
import { detectCloudKeys } from './cloudKeys.js';
import { detectTokens } from './tokens.js';
import { isPlaceholder } from './urlPassword.js';

// The scheme word (a form's "+" for its space too) or Docker's and npm's key, in JSON, a Python repr,
// YAML or an .npmrc ("auth": "...", 'auth': '...', auth: ..., _auth=...), then the value: base64,
// bounded (a pair of a user and a token, even a JWT, is well under 8 KiB), and anchored on the previous
// character so a run of "basic basic..." is one bounded attempt per word. Case-insensitive: git
// writes "AUTHORIZATION: basic".
// Never inside a base64 run ("+basic+basic..." in a form's query), and the value read whole at once
// (an atomic lookahead and its backreference): a run past the bound fails at once instead of being
// retried at every shorter length, which cost 7 s on 1 MiB of "+basic".
const BASIC_PAIR_RE = /(?<![A-Za-z0-9+/])(?:basic[ \t+]{1,4}|_?auth["']?[ \t]{0,4}[:=][ \t]{0,4}["']?)(?=([A-Za-z0-9+/]{8,8192}={0,2}))\1(?![A-Za-z0-9+/=])/dgi;
/**
 * A Docker config in base64 once more, as a Kubernetes pull secret holds it (`.dockerconfigjson:`):
 * every such value starts with the base64 of '{"auths":'. Decoded once and read for pairs as above.
 */
const ENCODED_DOCKER_CONFIG_RE = /(?<![A-Za-z0-9+/])eyJhdXRocyI6[A-Za-z0-9+/]{0,65536}={0,2}/g;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The value decoded as text, or null when it decodes to no text (bytes that are no UTF-8). */
function decodedPair(value: string): string | null {
  try {
    return UTF8.decode(Buffer.from(value, 'base64'));
  } catch {
    return null;
  }
}

/** The first secret a decoded pair holds, or undefined. */
function secretIn(pair: string): Finding | undefined {
  return [...detectTokens(pair), ...detectCloudKeys(pair)].find((f) => isSecretType(f.type));
}

export function detectBasicAuthTokens(text: string): Finding[] {
  const out = pairFindings(text);
  ENCODED_DOCKER_CONFIG_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ENCODED_DOCKER_CONFIG_RE.exec(text)) !== null) {
    const config = decodedPair(m[0]);
    const inner = config === null ? undefined : pairFindings(config)[0];
    if (inner) out.push({ type: inner.type, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** A control character (C0, DEL, C1): decoded bytes of a word, not a user's text. */
const CONTROL = /\p{Cc}/u;

/** Whether a decoded pair "user:password" is text with a password that is no placeholder. */
function holdsPassword(pair: string): boolean {
  const password = pair.slice(pair.indexOf(':') + 1);
  return password !== '' && !CONTROL.test(pair) && !isPlaceholder(password);
}

function pairFindings(text: string): Finding[] {
  const out: Finding[] = [];
  BASIC_PAIR_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = BASIC_PAIR_RE.exec(text)) !== null) {
    const [start, end] = m.indices![1]!;
    const pair = decodedPair(m[1]!);
    if (pair === null || !pair.includes(':')) continue;
    const secret = secretIn(pair);
    if (secret) out.push({ type: secret.type, start, end });
    else if (holdsPassword(pair)) out.push({ type: 'PASSWORD', start, end });
  }
  return out;
}
