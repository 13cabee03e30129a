// A destination's credentials (auth_header_value, auth.client_secret, the signing secret) are sealed
// and never shown back; everything else it stores is plain: the API, the dashboard and the trail's
// readers see it. A credential pasted into one of those fields (a token as the header name, the name,
// a Splunk index, a filter's value) would be kept and shown in clear, so create and PATCH refuse it
// here, naming the field and where the credential belongs, never echoing it.
//
// Three rules, in this order, for each plain value:
// 1. It holds this destination's own credential (the one sent with it, the stored one on PATCH, or
//    the credential-like parts of its URL; compared after NFKC and without format characters, so a
//    fullwidth or zero-width-split copy counts): refused whatever the credential's shape, which is the only
//    way to catch those with no shape of their own (a Splunk HEC token is a GUID, a Datadog API key
//    32 hex digits: a GUID is also a legitimate Entra client_id or tenant_id, and both are ids in
//    names, so neither is refused on its shape).
// 2. A secret detector flags it (privacyGuard's secretTypesIn: tokens, keys, JWTs, private keys,
//    passwords), also with a token's prefix written in capitals ("GHP_...").
// 3. It has the shape of a vendor credential the shared detectors do not know (VENDOR_SHAPES).
// An address or a phone number in a destination's name is the organization's own business.
//
// On PATCH only new or changed values go through all three rules: the dashboard sends every field
// back with each save, and a row stored before this check with a leaked value must stay editable (its
// value is already stored and shown; refusing the save would only keep the user from replacing it).
// But a credential the PATCH sends is compared with every plain value the destination will have,
// changed or not: otherwise a name set first (`Datadog <32 hex>`, no shape, not yet this destination's
// key) and the key sent next would show the credential in clear.
//
// A stored credential is compared only when it is a long random string (UNGUESSABLE): the caller
// cannot read it, and a refusal naming which of many guessed values matched (a filter's `$in`, its
// pointer in the 400) would tell them a stored password such as `svc:Winter2026`. A credential sent
// with the request is the caller's own, compared at any length from MIN_OWN_PART.
//
// Not the URL, nor auth.token_url: some receivers take their credential there and nowhere else (Sumo
// Logic's path token, Slack's and Google Chat's hook URLs, Azure's ?code=). checkDestinationUrl
// refuses a user name or password in it, and urlSecrets.ts scrubs its secret-looking parts from every
// answer quoted back.
import { decodedBase64, secretParts } from '../delivery/scrubSecrets.js';
import { urlSecrets } from '../delivery/urlSecrets.js';
import { invalid } from '../errors.js';
import type { SecretType } from '../events/findings.js';
import { normalizeForDetection } from '../events/normalize.js';
import { secretTypesIn } from '../events/privacyGuard.js';
import { ENTRA_CLIENT_SECRET, NEW_RELIC_USER_KEY, TOKEN_PREFIXES } from '../events/detectors/tokens.js';
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
   * The credentials this request sends (a create's all, with its URL; a PATCH's new ones): compared
   * with every plain value the destination will have, changed or not.
   */
  credentials?: () => readonly OwnCredential[];
  /**
   * PATCH: the stored credentials and URL, compared with new or changed values only, and only when
   * long and random (UNGUESSABLE). A function: the sealed ones are opened only when some value changed.
   */
  storedCredentials?: () => readonly OwnCredential[];
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
  OPENAI_API_KEY: 'OpenAI API key',
  ANTHROPIC_API_KEY: 'Anthropic API key',
  GITLAB_TOKEN: 'GitLab token',
  HUGGINGFACE_TOKEN: 'Hugging Face token',
  NPM_TOKEN: 'npm token',
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
  // The shared detectors read a user key too (as PASSWORD, tokens.ts), in capitals only; and an Entra
  // secret below standing alone: these shapes name the vendor, and read the other forms.
  {
    label: 'New Relic key',
    re: new RegExp(String.raw`(?<![A-Za-z0-9])(?:${NEW_RELIC_USER_KEY}|NRII-[A-Za-z0-9_-]{32}|[A-Za-z0-9]{36}NRAL)(?![A-Za-z0-9])`, 'i'),
  },
  // Entra ID (Azure AD) client secrets: 3 characters, a digit, "Q~", then 31 to 34 more; "Q~" after a
  // digit is what no name or id has.
  { label: 'Microsoft Entra client secret', re: new RegExp(ENTRA_CLIENT_SECRET) },
  // GitLab personal, project/group (glpat-), deploy (gldt-), runner (glrt-) and trigger (glptt-) tokens.
  // The shared detector reads every GitLab prefix too (GITLAB_TOKEN), in lower case and standing
  // alone; this shape still refuses one in capitals ("GLPAT-...") or glued by "_" ("prod_glpat-...").
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
 * written, so the detector still sees the token's own body; and only where a token can start, not
 * after a letter or digit: folding a short prefix ("EAA", Facebook's) inside another token's body
 * ("...8eAA", an Anthropic key's end) broke that token.
 */
const LOWER_CASE_PREFIX = new RegExp(`(?<![A-Za-z0-9])(?:${TOKEN_PREFIXES})`, 'gi');

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
 * Compared spelling: the privacy guard's canonical text (events/normalize.ts: compatibility forms such
 * as fullwidth folded, invisible characters dropped, a percent or character-reference escape read as
 * its character), in lower case. Applied to both sides.
 */
function comparable(text: string): string {
  return normalizeForDetection(text).text.toLowerCase();
}

interface OwnPart {
  source: OwnCredential[0];
  part: string;
}

/**
 * The parts of each credential a plain value must not hold, in comparable spelling: the credential,
 * the token after its scheme word ("Splunk <guid>"), the decoded Basic or Elastic pair and its halves
 * (scrubSecrets' secretParts). A pair's first half (a user name, an Elastic key id) is no secret when
 * the second is one (8 characters or more); with a shorter or empty second half (`KEY:x`, `KEY:`) the
 * first is the key, and counts.
 */
function ownParts(credentials: readonly OwnCredential[]): OwnPart[] {
  const out: OwnPart[] = [];
  for (const [source, value] of credentials) {
    if (!value) continue;
    const parts = source === 'url' ? urlSecrets(value) : secretParts(value);
    const ids = new Set<string>();
    for (const part of parts) {
      // A pair's first half is a user name or a key id, unless the second is empty or one character
      // (KEY: or KEY:X, where the key is the first half); a short password is still a password.
      const colon = part.indexOf(':');
      if (colon >= 0 && part.length - colon - 1 > 1) ids.add(part.slice(0, colon));
    }
    // A scheme word ("GenieKey <token>") names the kind of credential, and may be in a name too.
    const words = source === 'url' ? [] : value.trim().split(/\s+/);
    if (words.length > 1) ids.add(words[0]!);
    for (const part of parts) if (part.length >= MIN_OWN_PART && !ids.has(part)) out.push({ source, part: comparable(part) });
  }
  return out;
}

/** A stored credential's part shorter than this, or without both a letter and a digit, may be guessed. */
const UNGUESSABLE_LENGTH = 16;

function looksRandom(text: string): boolean {
  return text.length >= UNGUESSABLE_LENGTH && /\p{L}/u.test(text) && /\p{Nd}/u.test(text);
}

/**
 * Whether a stored credential can be guessed: its secret is short or not random. Judged on the
 * secret itself, not on a longer spelling of it: `Bearer Winter2026!` and the base64 of
 * `svc:Winter2026` are long, with letters and digits, and as guessable as the password they carry.
 */
function guessable(credential: string): boolean {
  // After a scheme word, the token; several pieces are guessed together, so one random one suffices.
  const pieces = credential.trim().split(/\s+/);
  return (pieces.length > 1 ? pieces.slice(1) : pieces).every((piece) => {
    if (!looksRandom(piece)) return true;
    const decoded = decodedBase64(piece);
    if (decoded === null) return false;
    const colon = decoded.indexOf(':');
    if (colon < 0) return !looksRandom(decoded);
    const second = decoded.slice(colon + 1);
    return !looksRandom(second.length >= MIN_OWN_PART ? second : decoded.slice(0, colon));
  });
}

/**
 * The stored credentials' parts that cannot be guessed (see the header: no oracle on a stored
 * password). The stored URL's too: the API shows its credential parts masked (shownUrl), so a short
 * one compared here would tell a guess through a filter's `$in` ("?password=Winter2026").
 */
function storedParts(credentials: readonly OwnCredential[]): OwnPart[] {
  const kept = credentials.filter(([source, value]) => (source === 'url' ? Boolean(value) : value && !guessable(value)));
  return ownParts(kept).filter(({ part }) => looksRandom(part));
}

/** A filter key naming a finding type (filters/fields.ts): the type's name, a string the tenant chose. */
const FINDING_COUNT_KEY = /^aegis\.finding_counts_by_type\.(.+)$/;

/**
 * A filter's string values, and the finding types its keys name, each with its JSON pointer
 * ("/filter/aegis.actor_id/$in/1").
 */
function filterValues(filter: Readonly<Record<string, unknown>>): [string, string][] {
  // Only a filter that passes its own check is walked: depth and size are bounded then, and every
  // key is a known field or operator, safe to name. Any other is refused by storableFilter anyway.
  if (checkFilter(filter).length > 0) return [];
  const out: [string, string][] = [];
  const walk = (node: unknown, pointer: string): void => {
    if (typeof node === 'string') out.push([pointer, node]);
    else if (Array.isArray(node)) node.forEach((item, i) => walk(item, `${pointer}/${i}`));
    else if (typeof node === 'object' && node !== null)
      for (const [key, value] of Object.entries(node)) {
        // A finding type's name is the tenant's to write (any upper-case word): checked as a value
        // is, or a credential refused as a value was stored as a key (a filters review: an AWS key
        // id, or the destination's own header value, as aegis.finding_counts_by_type.<it>).
        const typed = FINDING_COUNT_KEY.exec(key);
        if (typed) out.push([`${pointer}/${key}`, typed[1]!]);
        walk(value, `${pointer}/${key}`);
      }
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

/** What a detector or a vendor shape flags, also in the value's canonical spelling (as comparable). */
function shapeLabel(value: string): string | null {
  const canonical = normalizeForDetection(value).text;
  // The vendor's own name first, where a shape says it (a New Relic key is also a PASSWORD finding).
  const label = vendorLabel(value) ?? secretLabel(value);
  return label ?? (canonical === value ? null : (vendorLabel(canonical) ?? secretLabel(canonical)));
}

/**
 * The plain settings the destination will have: a create's body; on PATCH, the stored settings with
 * the body's fields over them (an option set or a filter replaces the stored one whole; auth keeps
 * the stored non-secret fields the body leaves out, so they are checked too).
 */
function resultingSettings(body: PlainSettings, stored: PlainSettings | undefined): PlainSettings {
  if (stored === undefined) return body;
  return {
    name: body.name !== undefined ? body.name : stored.name,
    ...((body.auth_header_name ?? stored.auth_header_name) !== undefined ? { auth_header_name: body.auth_header_name ?? stored.auth_header_name } : {}),
    options: body.options ?? stored.options,
    auth: body.auth === undefined ? stored.auth : body.auth && { ...stored.auth, ...body.auth },
    filter: body.filter !== undefined ? body.filter : stored.filter,
  };
}

/**
 * Every plain value the destination will have, with whether it is new or changed: all of a create's;
 * on PATCH, compared field by field (an option by its key, a filter value by its pointer) with the
 * stored settings.
 */
function valuesToCheck(body: PlainSettings, stored: PlainSettings | undefined): { field: string; value: string; changed: boolean }[] {
  const before = new Map(stored === undefined ? [] : plainFieldValues(stored));
  return plainFieldValues(resultingSettings(body, stored)).map(([field, value]) => ({
    field,
    value,
    changed: stored === undefined || before.get(field) !== value,
  }));
}

/**
 * Refuses (400 validation_failed) the first plain value that holds a credential this request sends;
 * or, new or changed, that holds a stored one, or that a secret detector or a vendor shape flags.
 * Create and PATCH both call it with the body as sent, before anything is checked or stored. The
 * refusal names the field, never the value, nor which part of a credential matched.
 */
export function refuseCredentialsInPlainFields(siem: SiemId, body: PlainSettings, context: PlainFieldContext = {}): void {
  const sent = context.credentials ? ownParts(context.credentials()) : [];
  // Nothing sent: the unchanged values need no look at all.
  // A URL sent here is the caller's own: its short or word-like parts are looked for in new or changed values
  // only, so moving a destination to a URL whose path repeats its name ("tenant42prod") is no refusal;
  // a long random token (Sumo Logic's) is looked for everywhere, as names travel where URLs do not
  // (alert messages).
  const sentToAll = sent.filter((p) => p.source !== 'url' || looksRandom(p.part));
  const values = valuesToCheck(body, context.stored).filter((v) => v.changed || sentToAll.length > 0);
  if (values.length === 0) return;
  // The sealed ones are opened only when some value is new or changed.
  const stored = context.storedCredentials && values.some((v) => v.changed) ? storedParts(context.storedCredentials()) : [];
  for (const { field, value, changed } of values) {
    const spelled = comparable(value);
    const match = [...(changed ? sent : sentToAll), ...(changed ? stored : [])].find(({ part }) => spelled.includes(part));
    if (match?.source === 'url') {
      // Said of the URL's part, not of "a credential" alone: a custom webhook's path segment such as
      // "status1xx" is read as a possible secret, and a user repeating it in the name was lost.
      throw invalid(
        field,
        "looks like a credential (this destination's own credential: a part of its url that Aegis keeps secret, as it does a webhook's random-looking path or token): the SIEM takes it in the url, and only there; leave it out",
      );
    }
    // Aegis makes the signing secret and keeps it; no field takes it, so the advice is to remove it.
    if (match?.source === 'signing secret') {
      throw invalid(field, "looks like a credential (this destination's signing secret): remove it; the secret is kept encrypted and never shown");
    }
    const label = match ? OWN_LABEL : changed ? shapeLabel(value) : null;
    if (label === null) continue;
    const goes = match?.source === 'auth_header_value' || match?.source === 'auth.client_secret' ? match.source : credentialField(siem, field);
    throw invalid(field, `looks like a credential (${label}): put the credential in ${goes}, which is stored encrypted and never shown`);
  }
}
