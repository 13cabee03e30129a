// The secrets a destination's URL carries. Some SIEMs put the credential in the URL itself: Sumo
// Logic's HTTP source is `/receiver/v1/http/<token>`, and webhooks take `?token=`, `?code=` (Azure
// Functions), `?sig=` (Logic Apps) or a path secret (Slack's and Discord's webhooks). A SIEM or a
// proxy that answers by quoting the request line (a 400 page, a redirect's Location) hands that token
// back, and what it answers ends up in the delivery log, the destination's last error and the alerts
// that quote it. So a URL's secret-looking parts are scrubbed from every answer, as its credential
// headers are (targetSecrets in target.ts).
import { RecencyMap } from './recencyMap.js';

/**
 * A part of the URL counts as a secret when it looks random: six characters or more mixing letters and
 * digits (Zapier's hook secret is 7, `ab3cd9e`), or sixteen or more that are not words (letters whose
 * case changes as random text's does, base64 with `-`, `_`, `=`). Words, numbers and dates do not: an ingest
 * path ("services", "collector", "v1"), a numeric id, `api-version=2016-04-01`, `format=json_lines`
 * are in every answer about the URL, and redacting them would only hide what went wrong.
 */
const MIN_MIXED = 6;
const MIN_LONG = 16;
/** A query or matrix parameter named as a credential counts from this length, whatever it holds. */
const MIN_NAMED = 4;
const CREDENTIAL_NAME = /^(?:.*[_-])?(?:token|key|apikey|secret|sig|signature|code|auth|password|pass|pwd|access[_-]?token)$/i;

/** URLs whose secrets were read (a URL is parsed once, not on every request). */
const CACHE_SIZE = 1024;
const cache = new RecencyMap<string, readonly string[]>();

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function looksRandom(value: string): boolean {
  const letter = /[A-Za-z]/.test(value);
  if (value.length >= MIN_MIXED && letter && /\d/.test(value)) return true;
  if (value.length < MIN_LONG) return false;
  // Long and without a digit: numbers and dates are no secret; letters (joined or not by - and _) are
  // words unless their case changes as random text's does (about half capitals: `QwErTyUiOp...`,
  // against a few in `ProcessIncomingEvents` and none or all in `collector`, `SERVICES`).
  if (!letter) return false;
  const letters = value.replace(/[-_]/g, '');
  if (!/^[A-Za-z]+$/.test(letters)) return true;
  const capitals = letters.replace(/[a-z]/g, '').length / letters.length;
  return capitals >= 0.25 && capitals <= 0.75;
}

function readSecrets(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const found = new Set<string>();
  const add = (name: string | null, value: string) => {
    if (looksRandom(value) || (name !== null && CREDENTIAL_NAME.test(name) && value.length >= MIN_NAMED)) found.add(value);
  };
  // Userinfo is refused in a destination URL, but a URL given here may come from elsewhere.
  if (parsed.password) found.add(decoded(parsed.password));
  for (const segment of parsed.pathname.split('/')) {
    // Matrix parameters (`/in;token=...`): each value on its own, the segment's name apart.
    const [head, ...params] = segment.split(';');
    add(null, decoded(head!));
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0) add(null, decoded(param));
      else add(decoded(param.slice(0, eq)), decoded(param.slice(eq + 1)));
    }
  }
  // Decoded by URLSearchParams (a form's `+` is a space: the scrubber reads the two alike).
  for (const [name, value] of parsed.searchParams) add(name, value);
  return [...found];
}

/** The parts of `url` that may be a credential: its password, random-looking path segments, matrix and query values. */
export function urlSecrets(url: string): readonly string[] {
  let secrets = cache.use(url);
  if (secrets === undefined) {
    secrets = readSecrets(url);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.oldestEntry()![0]);
    cache.set(url, secrets);
  }
  return secrets;
}
