// The secrets a destination's URL carries. Some SIEMs put the credential in the URL itself: Sumo
// Logic's HTTP source is `/receiver/v1/http/<token>`, and webhooks take `?token=`, `?code=` (Azure
// Functions), `?sig=` (Logic Apps) or a path secret (Slack's and Discord's webhooks). A SIEM or a
// proxy that answers by quoting the request line (a 400 page, a redirect's Location) hands that token
// back, and what it answers ends up in the delivery log, the destination's last error and the alerts
// that quote it. So a URL's secret-looking parts are scrubbed from every answer, as its credential
// headers are (targetSecrets in target.ts).
import { RecencyMap } from './recencyMap.js';

/** A query value this long or longer counts, whatever its name: a token need not be called one. */
const MIN_QUERY_SECRET = 8;
/**
 * A path segment this long holding a letter and a digit counts: Sumo's token is about 60 characters,
 * Slack's webhook secret 24, Discord's 68; the words of an ingest path ("receiver", "v1", "hook",
 * "services", "http") are short or hold no digit.
 */
const MIN_PATH_SECRET = 16;

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

const hasLetterAndDigit = (s: string) => /[A-Za-z]/.test(s) && /\d/.test(s);

function readSecrets(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const found = new Set<string>();
  if (parsed.password) found.add(decoded(parsed.password));
  for (const segment of parsed.pathname.split('/')) {
    const value = decoded(segment);
    if (value.length >= MIN_PATH_SECRET && hasLetterAndDigit(value)) found.add(value);
  }
  for (const value of parsed.searchParams.values()) if (value.length >= MIN_QUERY_SECRET) found.add(value);
  return [...found];
}

/** The parts of `url` that may be a credential: its password, long random path segments, long query values. */
export function urlSecrets(url: string): readonly string[] {
  let secrets = cache.use(url);
  if (secrets === undefined) {
    secrets = readSecrets(url);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.oldestEntry()![0]);
    cache.set(url, secrets);
  }
  return secrets;
}
