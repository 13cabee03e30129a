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
// parameters named as credentials (`token`, `client_secret`, `apitoken`, `passwort`: see namesCredential), a bare
// query token, and long random values of other parameters but for the settings SIEMs document.
import { RecencyMap } from './recencyMap.js';
import { LOCALIZED_PASSWORD_WORDS, TATWEEL, foldArabicVariants } from '../events/detectors/namedPassword.js';
import { foldTurkishI } from '../events/normalize.js';

/** A value mixing letters and digits counts from this length (Zapier's hook secret is 7: `ab3cd9e`). */
const MIN_MIXED = 6;
/** A value without a digit counts from this length, when it is not made of words. */
const MIN_LONG = 16;
/** A run of one case of letters alone counts from this length (`qwertyuiopasdfghjklzxcvb`). */
const MIN_ONE_CASE = 24;
/** A path segment before the last counts from this length, when letters and digits alternate in it as in random text. */
const MIN_INNER = 20;
/** Changes between a letter and a digit that make a run random rather than a name with a number (`aegis-prod2`, `logs-2026.12.03`). */
const MIN_CLASS_CHANGES = 2;
const MIN_INNER_CLASS_CHANGES = 4;
/** A parameter named as a credential counts from this length, whatever it holds. */
const MIN_NAMED = 4;
/**
 * Words that name a credential, matched against a parameter name's words (split at `-`, `_`, `.`, any
 * other character but a letter or a digit, and capitals: `clientSecret`, `X-Amz-Signature`,
 * `access_token`), never inside other words (`keyword`, `codec`, `passthrough` name no credential).
 * Besides these, the password word of other languages (LOCALIZED_NAMES).
 */
const CREDENTIAL_WORDS = new Set([
  'token',
  'secret',
  'key',
  'apikey',
  'sig',
  'signature',
  'code',
  'auth',
  'authorization',
  'pass',
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'pw',
  'credential',
  'credentials',
  'hmac',
  'sas',
  'jwt',
  'ticket',
]);
/**
 * A name as its words are compared: without accents or other marks, so a letter that carries one
 * splits no word (`contraseña`, `lösenord`, `şifre`, and NFD's `contrasen\u0303a` as a Mac types it,
 * read `contrasena`, `losenord`, `sifre`: people type them so too), and in its compatibility form
 * (fullwidth `ｐａｓｓｗｏｒｄ`, half-width `ﾊﾟｽﾜｰﾄﾞ`), Turkish's `ı` and `İ` as `i` and `I` (foldTurkishI: `SIFRE`
 * typed on a Turkish keyboard lower-cases to `sıfre`), as the privacy guard reads text. Case stays, for camelCase.
 * Arabic's tatweel goes with the marks after an Arabic letter (`كلمـة_المـرور` is `كلمة_المرور`:
 * namedPassword.ts's TATWEEL), and nowhere else: between Latin words it would glue them into a name that
 * ends in no word (`dbـpw` read `dbpw`). A Persian keyboard's letters read as the words' own
 * (foldArabicVariants: `کلمة_المرور`). A Hangul syllable decomposes to its jamo on both sides, so NFD
 * Korean (`비밀번호` as macOS writes it) is read.
 */
const MARKS = /\p{M}/gu;
const ARABIC_TATWEEL = new RegExp(String.raw`(?<=\p{sc=Arabic}[\p{M}${TATWEEL}]*)${TATWEEL}+`, 'gu');
const unmarked = (name: string) => foldTurkishI(foldArabicVariants(name.normalize('NFKD').replace(ARABIC_TATWEEL, '').replace(MARKS, '')));
/** A word lower-cased, Greek's final sigma as any sigma (`ΚΩΔΙΚΟΣ` lower-cases to a final one). */
const lower = (word: string) => word.toLowerCase().replace(/ς/g, 'σ');
/**
 * The password word of every language the privacy guard reads (namedPassword.ts, one list), its words
 * glued (`passwort`, `contrasena`, `motdepasse`, `matkhau`, `пароль`, `密码`), with how many words it
 * has: a name's run of that many words, glued, names one (`mot_de_passe`, `motDePasse`,
 * `mot_de_passe_actuel`, `Passwort_neu`, `kata_sandi`); parts of a name glued into a word of one are
 * none (`sen_ha`, `kode_ord`).
 */
const LOCALIZED_NAMES = new Map<string, { alone: boolean; words: Set<number> }>();
for (const { words, alone } of LOCALIZED_PASSWORD_WORDS) {
  // One word glued may be listed as several too (`비밀번호`, `비밀 번호`): each count names it.
  const key = lower(unmarked(words.join('')));
  const entry = LOCALIZED_NAMES.get(key) ?? { alone: alone === true, words: new Set<number>() };
  entry.words.add(words.length);
  LOCALIZED_NAMES.set(key, entry);
}
const MAX_RUN = Math.max(...LOCALIZED_PASSWORD_WORDS.map(({ words }) => words.length));
/**
 * Of those, the ones that end ordinary names too often to count at the end of a glued one (`zipcode`,
 * `statuscode`; `resenha`, `desifre`, `berkatasandi`: the guard's `alone` words): the others name a
 * credential there as well (`apitoken`, `accesstoken`, `secretkey`, `dbpasswd`, `basicauth`,
 * `dbpasswort`, `用户密码`). A setting so named (`sortkey`, a `bypass` flag) loses its value to a
 * `[redacted]` in an echoed answer; a credential so named would be shown.
 */
const WORD_ONLY = new Set(['code', 'pw', 'sas', ...[...LOCALIZED_NAMES].filter(([, { alone }]) => alone).map(([word]) => word)]);
const CREDENTIAL_ENDING = new RegExp(`(?:${[...CREDENTIAL_WORDS, ...LOCALIZED_NAMES.keys()].filter((w) => !WORD_ONLY.has(w)).join('|')})$`, 'u');
/**
 * A name's words: at any character but a letter or a digit of any script, at camelCase's capital, and
 * where Latin letters meet another script's (`用户pw`, `token令牌`, `ключtoken`: no separator between).
 */
const WORD_BREAK = /[^\p{L}\p{N}]+|(?<=\p{Ll})(?=\p{Lu})|(?<=\p{sc=Latin})(?=\p{L})(?!\p{sc=Latin})|(?<=\p{L})(?<!\p{sc=Latin})(?=\p{sc=Latin})/u;

function namesCredential(name: string): boolean {
  const plain = unmarked(name);
  const words = plain
    .split(WORD_BREAK)
    .filter((w) => w !== '')
    .map(lower);
  for (let i = 0; i < words.length; i++) {
    if (CREDENTIAL_WORDS.has(words[i]!)) return true;
    // A run of words glued: a password word of several (`mot_de_passe`, `motDePasse`).
    let glued = '';
    for (let n = 1; n <= MAX_RUN && i + n <= words.length; n++) if (LOCALIZED_NAMES.get((glued += words[i + n - 1]!))?.words.has(n)) return true;
  }
  // Glued (`apitoken`, `X-Auth-Token2`, `auth[token]`, `dbpasswort`): lower case, without separators or a trailing number.
  return CREDENTIAL_ENDING.test(
    lower(plain)
      .replace(/[^\p{L}\p{N}]+/gu, '')
      .replace(/\d+$/, ''),
  );
}

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
  'hostname',
  // An Azure SAS URL's fields but its signature (sig): start, expiry, permissions, resource.
  'st',
  'se',
  'sr',
  'spr',
  'srt',
  'ss',
  'skoid',
  'sktid',
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

/** Changes between a letter and a digit, separators ignored: many in random text, one in `aegis-prod2`. */
function classChanges(value: string): number {
  let changes = 0;
  let last = 0; // 1 letter, 2 digit
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const cls = c >= 48 && c <= 57 ? 2 : (c | 0x20) >= 97 && (c | 0x20) <= 122 ? 1 : 0;
    if (cls === 0) continue;
    if (last !== 0 && cls !== last) changes++;
    last = cls;
  }
  return changes;
}

/** A date or a time (`2026-12-31T00:00:00Z`): a setting's value, never a secret. */
const DATE_LIKE = /^\d{4}-\d{2}-\d{2}(?:[Tt ][\d:.]+(?:[Zz]|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Whether a value looks random rather than like a name: letters and digits that alternate (`ab3cd9e`),
 * or a long run that is not words. Words are letters joined by `-`, `_`, `.`, `:` or a change to a
 * capital, averaging three letters or more a piece (`Custom-AegisAudit_CL`,
 * `unstructuredlogentries:batchCreate`); random text changes case every other letter or so
 * (`QwErTyUiOp...`). Numbers and dates are no secret.
 */
function looksRandom(value: string): boolean {
  if (!/[A-Za-z]/.test(value) || DATE_LIKE.test(value)) return false;
  if (value.length >= MIN_MIXED && classChanges(value) >= MIN_CLASS_CHANGES) return true;
  if (value.length < MIN_LONG) return false;
  if (/[^A-Za-z0-9_.:-]/.test(value)) return true;
  const pieces = value.split(/[-_.:\d]+|(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z])/).filter((p) => p !== '');
  const letters = pieces.reduce((n, p) => n + p.length, 0);
  if (pieces.length > 1) return letters / pieces.length < 3;
  // One piece of one case: a word, or random text of one case.
  return value.length >= MIN_ONE_CASE;
}

/**
 * A path segment before the last: only a long run whose letters and digits alternate as random text's
 * do (a UUID, a Teams hook's hex, a Telegram bot token, a Loggly or Sematext token as an index), not an
 * index or a name with a date. Azure's data collection rule ids (`dcr-` and 32 hex digits) name the rule
 * its errors are about.
 */
const AZURE_DCR_ID = /^dcr-[0-9a-f]{32}$/;
const isInnerSecret = (value: string) =>
  value.length >= MIN_INNER && /^[A-Za-z0-9+/=_:.-]+$/.test(value) && classChanges(value) >= MIN_INNER_CLASS_CHANGES && !AZURE_DCR_ID.test(value);

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
        : namesCredential(name) && !setting
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
    if (i === segments.length - 1 ? looksRandom(name) : isInnerSecret(name)) found.add(name);
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
    if (cache.size >= CACHE_SIZE) cache.deleteOldest();
    cache.set(url, secrets);
  }
  return secrets;
}

/** What stands in a URL shown back for each part of it that is a credential (shownUrl). */
export const URL_SECRET_MASK = '[redacted]';

/**
 * A URL as the API and the dashboard show it back: each part urlSecrets reads as a credential
 * replaced by URL_SECRET_MASK (Sumo Logic's token segment, `?token=`, Azure's `?code=`, a hook's path
 * secret), everything else as stored, so the user still sees which host, index or source it sends to.
 * The URL is a credential there and nowhere else, and a credential is never returned after creation
 * (README). Sent back unchanged, the shown URL stands for the stored one (isSentBackAs); a URL holding
 * the mask in any other way is refused (holdsUrlMask).
 */
export function shownUrl(url: string): string {
  const secrets = urlSecrets(url);
  if (secrets.length === 0) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  // Each part decoded as readSecrets decodes it: a query's by URLSearchParams (a form's "+" is a blank,
  // a broken escape kept as URLSearchParams keeps it), a path's by decodeURIComponent. A parameter with
  // an empty value is read by its name ("?3f9a8b7c6d5e4f2a=").
  const decode = (raw: string, query: boolean) => (query ? new URLSearchParams(`x=${raw}`).get('x')! : decoded(raw));
  const masked = (pair: string, query: boolean) => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    if (value === '') return secrets.includes(decode(name, query)) ? `${URL_SECRET_MASK}${pair.slice(name.length)}` : pair;
    return secrets.includes(decode(value, query)) ? `${pair.slice(0, eq + 1)}${URL_SECRET_MASK}` : pair;
  };
  const secret = (raw: string) => secrets.includes(decoded(raw));
  const path = parsed.pathname
    .split('/')
    .map((segment) => {
      const [head, ...params] = segment.split(';');
      return [head !== '' && secret(head!) ? URL_SECRET_MASK : head, ...params.map((p) => masked(p, false))].join(';');
    })
    .join('/');
  const search =
    parsed.search === ''
      ? ''
      : `?${parsed.search
          .slice(1)
          .split('&')
          .map((p) => masked(p, true))
          .join('&')}`;
  return `${parsed.protocol}//${parsed.host}${path}${search}${parsed.hash}`;
}

/** The mask in any letter case, its brackets as written or percent-encoded (isSentBackAs, holdsUrlMask): as a person retyping it sends it. */
const ANY_MASK = /\[redacted\]|%5Bredacted%5D/gi;

/**
 * Whether `sent` stands for `stored`: the stored URL itself, or as shownUrl shows it, credentials
 * masked (also with the mask in capitals or its brackets percent-encoded). Either way no change, and
 * never refused: a form sends every setting back with each save, and a URL stored before a rule it
 * breaks must not keep its destination from saving anything else.
 */
export function isSentBackAs(sent: string, stored: string): boolean {
  if (sent === stored) return true;
  const shown = shownUrl(stored);
  return shown !== stored && shown === sent.replace(ANY_MASK, URL_SECRET_MASK);
}

/** Why a URL holding the mask or another placeholder is refused: a URL shown back and edited lacks its credential. */
export const URL_MASK_MESSAGE = `holds ${URL_SECRET_MASK}, or another placeholder, where a credential goes (the API shows ${URL_SECRET_MASK} in place of the URL's credential): send the whole URL, credential included, or the URL exactly as shown to keep it`;

/**
 * A placeholder for a credential, as people write one over the mask the API showed (an attacker
 * review found each stored as the credential, while reads still showed [redacted]): the mask in any
 * letter case anywhere; a mask word in brackets of any kind (`<redacted>`, `{redacted}`, `[ hidden ]`)
 * or a run of stars or bullets as any path segment, matrix parameter or query value (wherever
 * shownUrl may mask); the word REDACTED alone only where a credential goes, a query value whose name
 * names one (`?token=`) and the path's last segment (a review found `?index=redacted` and
 * `/redacted/_bulk` refused).
 */
const BRACKETED_PLACEHOLDER = /^\s*(?:[[<{(]\s*(?:redacted|masked|hidden|removed|omitted|secret|token|credentials?)\s*[\]>})]|[*•]{3,})\s*$/i;
const WORD_PLACEHOLDER = /^\s*redacted\s*$/i;

/** Whether a URL holds the mask shownUrl writes, or another placeholder (see above): a shown URL edited, its credential missing. */
export function holdsUrlMask(url: string): boolean {
  if (url.replace(ANY_MASK, URL_SECRET_MASK).includes(URL_SECRET_MASK)) return true;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const segments = parsed.pathname.split('/').map((segment) => segment.split(';'));
  const anywhere: string[] = [];
  for (const [head, ...params] of segments) anywhere.push(decoded(head!), ...params.map((p) => decoded(p.slice(p.indexOf('=') + 1))));
  const credential = [decoded(segments.at(-1)![0]!)];
  for (const [name, value] of parsed.searchParams) {
    anywhere.push(value);
    if (namesCredential(name)) credential.push(value);
  }
  return anywhere.some((part) => BRACKETED_PLACEHOLDER.test(part)) || credential.some((part) => WORD_PLACEHOLDER.test(part));
}
