// The secrets a destination's URL carries. Some SIEMs put the credential in the URL itself: Sumo
// Logic's HTTP source is `/receiver/v1/http/<token>`, and webhooks take `?token=`, `?code=` (Azure
// Functions), `?sig=` (Logic Apps) or a path secret (Slack's, Discord's, Zapier's, Make's, n8n's hooks).
// A SIEM or a proxy that answers by quoting the request line (a 400 page, a redirect's Location) hands
// that token back, and what it answers ends up in the delivery log, the destination's last error and
// the alerts that quote it. So a URL's secret-looking parts are scrubbed from every answer, as its
// credential headers are (targetSecrets in target.ts).
//
// The other side of the balance: every part taken here is redacted from every answer, and SIEM errors
// name the parts of the URL that are not secret (a Sentinel stream and data collection rule, an
// Elastic index, a Splunk index or channel, Datadog tags) exactly when the user needs to read them.
// So only the places webhooks keep secrets are read: the path's last segment (where every hook
// service above puts its secret), a long run of hex or base64 elsewhere in the path, the values of
// parameters named as credentials, a bare query token, and long random values of other parameters
// but for the settings SIEMs document.
import { RecencyMap } from './recencyMap.js';

/** A value mixing letters and digits counts from this length (Zapier's hook secret is 7: `ab3cd9e`). */
const MIN_MIXED = 6;
/** A value without a digit counts from this length, when it is not made of words. */
const MIN_LONG = 16;
/** A run of one case of letters alone counts from this length (`qwertyuiopasdfghjklzxcvb`). */
const MIN_ONE_CASE = 24;
/** A path segment before the last counts only as a run of hex or base64 this long (a Teams hook's 32 hex digits). */
const MIN_INNER_RUN = 24;
/** A parameter named as a credential counts from this length, whatever it holds. */
const MIN_NAMED = 4;
/** Names of credentials, in any case and inside longer names (`clientSecret`, `hapikey`, `X-Amz-Signature`). */
const CREDENTIAL_NAME = /token|secret|key|sig|code|auth|pass|pwd|credential/i;
/**
 * Parameters SIEMs document as settings, never credentials, read back in their errors: Azure Monitor's
 * api-version, Splunk's index, channel, source and sourcetype, Datadog's ddtags and ddsource, Elastic's
 * pipeline, Logic Apps' sp and sv.
 */
const SETTING_NAMES = new Set([
  'api-version',
  'index',
  'channel',
  'source',
  'sourcetype',
  'host',
  'ddtags',
  'ddsource',
  'service',
  'tags',
  'pipeline',
  'format',
  'sp',
  'sv',
  'dataset',
  'stream',
  'region',
  'site',
  'env',
]);

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

/**
 * Whether a value looks random rather than like a name: letters mixed with digits, or a long run that
 * is not words. Words are letters joined by `-`, `_` or a change to a capital, averaging three letters
 * or more a piece (`Custom-AegisAudit_CL`, `ProcessIncomingEvents`); random text changes case every
 * other letter or so (`QwErTyUiOp...`). Numbers and dates hold no letter.
 */
function looksRandom(value: string): boolean {
  const letter = /[A-Za-z]/.test(value);
  if (!letter) return false;
  if (value.length >= MIN_MIXED && /\d/.test(value)) return true;
  if (value.length < MIN_LONG) return false;
  if (/[^A-Za-z_.-]/.test(value)) return true;
  const pieces = value.split(/[-_.]+|(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z])/).filter((p) => p !== '');
  const letters = pieces.reduce((n, p) => n + p.length, 0);
  if (pieces.length > 1) return letters / pieces.length < 3;
  // One piece of one case: a word, or random text of one case.
  return value.length >= MIN_ONE_CASE;
}

/** Hex or base64 alone, long: an id or a key, not a name (a data collection rule's `dcr-…` is a name and its hex). */
const isLongRun = (value: string) => value.length >= MIN_INNER_RUN && /^[A-Za-z0-9+/=]+$/.test(value) && /\d/.test(value) && /[A-Za-z]/.test(value);

function readSecrets(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const found = new Set<string>();
  // Userinfo is refused in a destination URL, but a URL given here may come from elsewhere.
  if (parsed.password) found.add(decoded(parsed.password));
  const param = (name: string, value: string) => {
    const setting = SETTING_NAMES.has(name.toLowerCase());
    if (
      value === ''
        ? looksRandom(name)
        : CREDENTIAL_NAME.test(name) && !setting
          ? value.length >= MIN_NAMED
          : !setting && value.length >= MIN_LONG && looksRandom(value)
    ) {
      found.add(value === '' ? name : value);
    }
  };
  const segments = parsed.pathname.split('/').filter((s) => s !== '');
  segments.forEach((segment, i) => {
    // Matrix parameters (`/in;token=...`): each on its own, the segment's name apart.
    const [head, ...params] = segment.split(';');
    const name = decoded(head!);
    if (i === segments.length - 1 ? looksRandom(name) : isLongRun(name)) found.add(name);
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq < 0) param(decoded(p), '');
      else param(decoded(p.slice(0, eq)), decoded(p.slice(eq + 1)));
    }
  });
  // Decoded by URLSearchParams (a form's `+` is a space: the scrubber reads the two alike).
  for (const [name, value] of parsed.searchParams) param(name, value);
  return [...found];
}

/** The parts of `url` that may be a credential (readSecrets), read once per URL. */
export function urlSecrets(url: string): readonly string[] {
  let secrets = cache.use(url);
  if (secrets === undefined) {
    secrets = readSecrets(url);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.oldestEntry()![0]);
    cache.set(url, secrets);
  }
  return secrets;
}
