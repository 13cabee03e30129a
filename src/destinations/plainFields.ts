// A destination's credentials (auth_header_value, auth.client_secret, the signing secret) are sealed
// and never shown back; everything else it stores is plain: the API, the dashboard and the trail's
// readers see it. A credential pasted into one of those fields (a token as the header name, the name,
// a Splunk index, a filter's value) would be kept and shown in clear, so create and PATCH refuse it
// here, naming the field and where the credential belongs, never echoing it.
//
// Three rules, in this order, for each plain value:
// 1. It holds this destination's own credential (the one sent with it, the stored one on PATCH, or
//    the credential-like parts of its URL): refused whatever the credential's shape, which is the only
//    way to catch those with no shape of their own (a Splunk HEC token is a GUID, a Datadog API key
//    32 hex digits: a GUID is also a legitimate Entra client_id or tenant_id, and both are ids in
//    names, so neither is refused on its shape).
// 2. A secret detector flags it (privacyGuard's secretTypesIn: tokens, keys, JWTs, private keys,
//    passwords), also with a token's prefix written in capitals ("GHP_...").
// 3. It has the shape of a vendor credential the shared detectors do not know (VENDOR_SHAPES).
// An address or a phone number in a destination's name is the organization's own business.
//
// On PATCH only new or changed values are checked: the dashboard sends every field back with each
// save, and a row stored before this check with a leaked value must stay editable (its value is
// already stored and shown; refusing the save would only keep the user from replacing it).
//
// Not the URL, nor auth.token_url: some receivers take their credential there and nowhere else (Sumo
// Logic's path token, Slack's and Google Chat's hook URLs, Azure's ?code=). checkDestinationUrl
// refuses a user name or password in it, and urlSecrets.ts scrubs its secret-looking parts from every
// answer quoted back.
import { secretParts } from '../delivery/scrubSecrets.js';
import { urlSecrets } from '../delivery/urlSecrets.js';
import { invalid } from '../errors.js';
import type { SecretType } from '../events/findings.js';
import { secretTypesIn } from '../events/privacyGuard.js';
import { checkFilter } from '../filters/validate.js';
import type { SiemId } from '../siem/catalog.js';

/** The plain settings a create or PATCH body may carry (the shape both bodies share), or a stored row's. */
export interface PlainSettings {
  name?: string | null;
  auth_header_name?: string;
  options?: Readonly<Record<string, unknown>>;
  auth?: { client_id?: string; tenant_id?: string; scope?: string } | null;
  filter?: Readonly<Record<string, unknown>> | null;
}

/** Where a destination's credential is configured, and its value (null or undefined: not set). */
export type OwnCredential = readonly [source: 'auth_header_value' | 'auth.client_secret' | 'signing secret' | 'url', value: string | null | undefined];

/** What plain values are compared with besides the detectors. */
export interface PlainFieldContext {
  /**
   * This destination's credentials: those the request sends, the stored ones on PATCH, its URL. A
   * function: a PATCH opens the sealed ones only when some value is new or changed.
   */
  credentials?: () => readonly OwnCredential[];
  /** PATCH: the stored settings. A value sent back equal to the stored one is not checked again. */
  stored?: PlainSettings;
}

const LABELS: Record<SecretType, string> = {
  AWS_ACCESS_KEY: 'AWS access key',
  AWS_SECRET_KEY: 'AWS secret key',
  GITHUB_TOKEN: 'GitHub token',
  SLACK_TOKEN: 'Slack token',
  STRIPE_KEY: 'Stripe key',
  GOOGLE_API_KEY: 'Google API key',
  JWT: 'JWT',
  PRIVATE_KEY: 'private key',
  PASSWORD: 'password',
};

/**
 * Vendor credentials with a shape strong enough to refuse on sight, that the shared detectors do not
 * know. Kept here, not in privacyGuard's list: a type there is a finding type (SECRET_TYPES), which
 * is the public finding_counts_by_type vocabulary, blocks preflight input and refuses agent records;
 * adding one is a product change of its own, to be made with its corpus and docs (docs/events.md).
 * Each is anchored so a longer word is no match; "_" may glue one to a word ("prod_glpat-...").
 */
const VENDOR_SHAPES: readonly { label: string; re: RegExp }[] = [
  // User API keys (NRAK-, 27 characters), insert keys (NRII-, 32) and license keys (40, ending NRAL).
  { label: 'New Relic key', re: /(?<![A-Za-z0-9])(?:NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9_-]{32}|[A-Za-z0-9]{36}NRAL)(?![A-Za-z0-9])/i },
  // Entra ID (Azure AD) client secrets: 3 characters, a digit, "Q~", then 31 to 34 more; "Q~" after a
  // digit is what no name or id has.
  { label: 'Microsoft Entra client secret', re: /[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31}/ },
  // GitLab personal, project/group (glpat-), deploy (gldt-), runner (glrt-) and trigger (glptt-) tokens.
  { label: 'GitLab token', re: /(?<![A-Za-z0-9])gl(?:pat|dt|rt|ptt)-[A-Za-z0-9_.-]{20,}/i },
];

/**
 * An Elastic API key as Kibana hands it out ("encoded"): base64 of "<id>:<key>", 20 and 22 characters
 * of base64url, 43 bytes, so 58 characters (and "=="). Read by decoding: a name or a word never
 * decodes to such a pair. The run's last 58 characters are tried too, for one glued to a word.
 */
const BASE64_RUN = /[A-Za-z0-9+/]{58,}/g;
const ELASTIC_ENCODED_LENGTH = 58;
const ELASTIC_PAIR = /^[A-Za-z0-9_-]{20}:[A-Za-z0-9_-]{22}$/;

function holdsElasticKey(value: string): boolean {
  for (const [run] of value.matchAll(BASE64_RUN)) {
    for (const candidate of new Set([run.slice(0, ELASTIC_ENCODED_LENGTH), run.slice(-ELASTIC_ENCODED_LENGTH)])) {
      if (ELASTIC_PAIR.test(Buffer.from(candidate, 'base64').toString('latin1'))) return true;
    }
  }
  return false;
}

function vendorLabel(value: string): string | null {
  for (const { label, re } of VENDOR_SHAPES) if (re.test(value)) return label;
  return holdsElasticKey(value) ? 'Elastic API key' : null;
}

/**
 * Token prefixes the shared detectors read in lower case only: an upper-cased token ("GHP_...",
 * "XOXB-...", "SK_LIVE_...") is the same credential. Folding only the prefix keeps the rest as
 * written, so the detector still sees the token's own body.
 */
const LOWER_CASE_PREFIX = /gh[pousr]_|github_pat_|xox[abcdeoprs]-|xapp-|xwfp-|[sr]k_(?:live|test)_|whsec_/gi;

function secretLabel(value: string): string | null {
  let [type] = secretTypesIn(value);
  if (type === undefined) {
    const folded = value.replace(LOWER_CASE_PREFIX, (m) => m.toLowerCase());
    if (folded !== value) [type] = secretTypesIn(folded);
  }
  return type === undefined ? null : LABELS[type];
}

const OWN_LABEL = "this destination's own credential";

/** A part of a credential shorter than this is not looked for: it would match ordinary words. */
const MIN_OWN_PART = 8;

/**
 * The parts of each credential a plain value must not hold, lower-cased: the credential, the token
 * after its scheme word ("Splunk <guid>"), the decoded Basic or Elastic pair and its secret half
 * (scrubSecrets' secretParts). Not the pair's first half: a user name or an Elastic key id is no secret.
 */
function ownParts(credentials: readonly OwnCredential[]): { source: OwnCredential[0]; part: string }[] {
  const out: { source: OwnCredential[0]; part: string }[] = [];
  for (const [source, value] of credentials) {
    if (!value) continue;
    const parts = source === 'url' ? urlSecrets(value) : secretParts(value);
    const ids = new Set(parts.filter((p) => p.includes(':')).map((p) => p.slice(0, p.indexOf(':'))));
    for (const part of parts) if (part.length >= MIN_OWN_PART && !ids.has(part)) out.push({ source, part: part.toLowerCase() });
  }
  return out;
}

/** A filter's string values, each with its JSON pointer ("/filter/aegis.actor_id/$in/1"). */
function filterValues(filter: Readonly<Record<string, unknown>>): [string, string][] {
  // Only a filter that passes its own check is walked: depth and size are bounded then, and every
  // key is a known field or operator, safe to name. Any other is refused by storableFilter anyway.
  if (checkFilter(filter).length > 0) return [];
  const out: [string, string][] = [];
  const walk = (node: unknown, pointer: string): void => {
    if (typeof node === 'string') out.push([pointer, node]);
    else if (Array.isArray(node)) node.forEach((item, i) => walk(item, `${pointer}/${i}`));
    else if (typeof node === 'object' && node !== null) for (const [key, value] of Object.entries(node)) walk(value, `${pointer}/${key}`);
  };
  walk(filter, '/filter');
  return out;
}

/**
 * The one list of plain fields: [field as the refusal names it, value]. Every string option counts,
 * whatever its key (the body schema allows only known keys, so a key is safe to name), so an option
 * added later is covered without a change here; so does every string value of the filter.
 */
export function plainFieldValues(body: PlainSettings): [string, string][] {
  const out: [string, string][] = [];
  if (typeof body.name === 'string') out.push(['name', body.name]);
  if (body.auth_header_name !== undefined) out.push(['auth_header_name', body.auth_header_name]);
  for (const [key, value] of Object.entries(body.options ?? {})) if (typeof value === 'string') out.push([`options.${key}`, value]);
  if (body.auth) {
    for (const key of ['client_id', 'tenant_id', 'scope'] as const) {
      const value = body.auth[key];
      if (value !== undefined) out.push([`auth.${key}`, value]);
    }
  }
  if (body.filter) out.push(...filterValues(body.filter));
  return out;
}

/** Where the refusal tells the user to put the credential instead. */
function credentialField(siem: SiemId, field: string): string {
  // Sentinel takes no header credential: its only secret is the Entra ID app's client secret.
  return field.startsWith('auth.') || siem === 'microsoft_sentinel' ? 'auth.client_secret' : 'auth_header_value';
}

/**
 * The values to check: all of a create's; a PATCH's new or changed ones, compared field by field
 * (an option by its key, a filter value by its pointer) with the stored settings.
 */
function changedValues(body: PlainSettings, stored: PlainSettings | undefined): [string, string][] {
  const values = plainFieldValues(body);
  if (stored === undefined) return values;
  const before = new Map(plainFieldValues(stored));
  return values.filter(([field, value]) => before.get(field) !== value);
}

/**
 * Refuses (400 validation_failed) the first new or changed plain value that holds this destination's
 * own credential, or that a secret detector or a vendor shape flags. Create and PATCH both call it
 * with the body as sent, before anything is checked or stored. The refusal names the field, never
 * the value, nor which part of a credential matched.
 */
export function refuseCredentialsInPlainFields(siem: SiemId, body: PlainSettings, context: PlainFieldContext = {}): void {
  const values = changedValues(body, context.stored);
  if (values.length === 0) return;
  const own = context.credentials ? ownParts(context.credentials()) : [];
  for (const [field, value] of values) {
    const lower = value.toLowerCase();
    const match = own.find(({ part }) => lower.includes(part));
    if (match?.source === 'url') {
      throw invalid(field, "looks like a credential (this destination's own credential): the SIEM takes it in the url, and only there");
    }
    const label = match ? OWN_LABEL : (secretLabel(value) ?? vendorLabel(value));
    if (label === null) continue;
    const goes = match?.source === 'auth_header_value' || match?.source === 'auth.client_secret' ? match.source : credentialField(siem, field);
    throw invalid(field, `looks like a credential (${label}): put the credential in ${goes}, which is stored encrypted and never shown`);
  }
}
