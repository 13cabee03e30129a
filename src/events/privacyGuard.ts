/**
 * The privacy guard for agents' decision records: schema validation keeps unknown fields out, this
 * keeps raw values out of the fields that are allowed. Every string field of the record (ids, policy
 * id and version, actor_id, summary, and every finding type name) is scanned with the same detectors
 * as preflight input, in its identifier form (see identifierForm: "_" and a letter glued to a long
 * digit run separate values there), and any finding is refused, naming the field and the finding type
 * but never echoing the value.
 *
 * One exception, as on the product page: `actor_id` may be exactly one email address (the acting
 * user's own). An actor_id holding an email plus anything else, or any other finding (also inside the
 * address: "ssn.123.45.6789@example.com"), is refused.
 * The summary additionally may not carry a run of nine or more digits (an SSN or account number
 * written without separators would slip past the detectors otherwise), read as the detectors read it
 * (digits of any script, a run broken by an invisible character or a combining mark) and as written.
 */
import { detectCanonical, DETECTORS_BUT_NAMED_PASSWORDS } from './detect.js';
import { detectCloudKeys } from './detectors/cloudKeys.js';
import { isValidIban } from './detectors/iban.js';
import { COMMON_TLDS, detectEmails, detectEmailsSpelledInProse } from './detectors/email.js';
import { detectNamedPasswords, detectWrittenNamedPasswords } from './detectors/namedPassword.js';
import { detectTokens, foldConfusables, JSON_OBJECT_START, JWT_START_LIST, JWT_STARTS, TOKEN_PREFIXES } from './detectors/tokens.js';
import { detectUrlPasswords } from './detectors/urlPassword.js';
import { isSecretType, type FindingType, type SecretType } from './findings.js';
import { normalizeForDetection, revealHidden } from './normalize.js';
import type { Violation } from './violation.js';

export type { Violation } from './violation.js';

/** Fields of an agent record (and of the wire event's aegis object) that hold strings. */
export const STRING_FIELDS = [
  'preflight_id',
  'decision',
  'destination',
  'summary',
  'policy_version',
  'policy_id',
  'source_type',
  'input_type',
  'actor_id',
  'occurred_at',
] as const;

const SAFE_SEGMENT = /^[A-Za-z0-9_.@-]{1,64}$/;

/**
 * A version number alone, maybe after a "v" and before a pre-release or build suffix that starts with
 * a letter and holds no dotted quad: "1.0.0.0", "v2.1.0.0-beta"; not "1.0-10.0.0.1" nor "v1+rc.10.0.0.1".
 */
const VERSION_NUMBER = /^[vV]?\d{1,5}(?:\.\d{1,5}){1,4}(?:[-+][A-Za-z](?![\w.-]*\d{1,3}(?:\.\d{1,3}){3})[\w.-]{0,31})?$/;

/**
 * Nine or more digits in a row: in an identifier or a one-line summary that is a value (an SSN or an
 * account number written without separators), even when no detector names its type. Tested on the
 * normalized text (see Scan: "１２３４５６７８９０", "٠١٢٣٤٥٦٧٨٩" and "12345\u200b67890" are such runs)
 * and on the value as written (an escape the normalized text reads as one character, "\u1234567890",
 * leaves fewer digits there).
 */
const LONG_DIGIT_RUN = /\d{9}/;
/**
 * A UUID (RFC 9562: a version digit 1-8 and a variant of 8, 9, a or b where they stand): a request's,
 * a trace's id. Its last group is 12 hex digits, all decimal ones about once in 300, and the digit-run
 * rule read "426614174000" in it as an account number. Read without its UUIDs; a value spelled as one
 * must still take a UUID's version and variant.
 */
const UUID = /(?<![0-9A-Za-z-])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[1-8][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}(?![0-9A-Za-z-])/g;
/**
 * A hex digest or id standing alone: a commit's SHA-1, an image's SHA-256, an MD5, a trace id, a UUID
 * without its dashes; 32 hex digits or more of one case, maybe after "0x". A review found one summary
 * naming a commit in six refused: their hex holds nine decimal digits in a row that often. An attacker's
 * review then found shorter runs let numbers through behind hex-letter words ("ACC1234567890123",
 * "card 4111111111111111abc"): so the run must be a digest's length, and hold a letter. No more than
 * that: real digests hold long decimal runs and few letters (MD5s of 3,000 test files held one with
 * 26 digits in a row, another with two letters). The price: a card or an account number padded past
 * 32 with hex letters on purpose passes this rule, as a number spelled in words passes it; the rule
 * is for values written by mistake.
 */
const HEX_DIGEST = /(?<![0-9A-Za-z])(?:0x)?(?:(?=[0-9]*[a-f])[0-9a-f]{32,}|(?=[0-9]*[A-F])[0-9A-F]{32,})(?![0-9A-Za-z])/g;
/** Whether `text`, its UUIDs and hex digests left out, holds a LONG_DIGIT_RUN. */
function hasLongDigitRun(text: string): boolean {
  if (!LONG_DIGIT_RUN.test(text)) return false;
  return LONG_DIGIT_RUN.test(text.replace(UUID, ' ').replace(HEX_DIGEST, ' '));
}

/**
 * A path segment taken from a submitted document (a property name, also an all-digit one) is echoed
 * only when it is short, plain, and has nothing detectable in it; otherwise it is replaced, so an
 * error message can never leak a value smuggled in as a key.
 */
export function safeSegment(name: string): string {
  // Scanned like a field value (identifier form): "SSN_123_45_6789" as a key is not echoed either.
  // SAFE_SEGMENT admits plain ASCII only (no escape either), so the digit run as written is the run
  // the normalized text holds.
  if (!SAFE_SEGMENT.test(name) || LONG_DIGIT_RUN.test(name) || findingTypes(name).length > 0) return '<redacted-property-name>';
  return name;
}

/**
 * Where a secret could start inside a longer identifier. The detectors refuse to match a token glued
 * to a preceding word character ("pol_ghp_..." is not a GitHub token to them, which keeps preflight
 * findings precise), but a decision record must not carry one that way either: "pol_" + a token, or
 * "pflt_" + a Stripe key, would otherwise be forwarded as-is. So the guard runs the secret detectors
 * over a copy with a space inserted before every such prefix: one more linear pass, however many
 * prefixes a value holds. A JWT start counts only before the rest of a header and its dot: "ewo" is
 * in "framework", and each such word cost a field a second pass of the secret detectors. That is
 * checked by jwtHeaderAt, not by a look-ahead in this pattern: one read from every start to the end
 * of its run made "eyJ" repeated cost time in the square of its length (an attacker's review: a 96 KB
 * field of an audit-events body, 4.3 s of the shared scan thread).
 */
const EMBEDDED_SECRET_START = new RegExp(String.raw`AKIA|ASIA|akia|asia|${TOKEN_PREFIXES}|sk-(?=[A-Za-z0-9]{20}T3BlbkFJ)|AIza|${JWT_STARTS}`, 'g');
const JWT_START = new RegExp(`^(?:${JWT_STARTS})$`);
const TOKEN_RUN = /[A-Za-z0-9_-]*/y;

/**
 * Whether JWT starts (`start`: where each is, in increasing order) stand before the rest of a header
 * and its dot: five token characters or more, then ".". The end of each run of token characters is
 * found once, and every start inside the run reuses it: linear in the text.
 */
function jwtHeaderAt(text: string): (start: number, length: number) => boolean {
  let runEnd = -1;
  return (start, length) => {
    if (start >= runEnd) {
      TOKEN_RUN.lastIndex = start;
      TOKEN_RUN.test(text);
      runEnd = TOKEN_RUN.lastIndex;
    }
    return text[runEnd] === '.' && runEnd - (start + length) >= 5;
  };
}

/**
 * An AWS access key id followed by more letters or digits of its own alphabet ("AKIA...V2"): the
 * detector wants the id standing alone (its 20 characters are all it can tell by), but a record's
 * field must not carry one glued to a suffix either. With a digit among its 16 characters, as real
 * ids nearly always have: "ASIAPACIFICNORTHEAST1" is a region name.
 */
const AWS_KEY_GLUED_AFTER = /(?:AKIA|ASIA)(?=[A-Z]{0,15}[0-9])[A-Z0-9]{16}/;
/**
 * The shortest secret EMBEDDED_SECRET_START begins, glued after one more character: a Slack token,
 * "xoxb-" and 10 (tokens.ts SLACK_RE), is 15. (It was 21, for an AWS key id's 20, and a review found
 * "idxoxb-1234567890" passed.)
 */
const EMBEDDED_SECRET_MIN_LENGTH = 16;

/**
 * Secrets in the value with its "_" kept (tokens keep theirs, and a URL's user part its: the
 * identifier form's space would end "postgres://app_user:pw@db" before its password), with a space before every embedded
 * prefix: over the value as written and over its normalized form (`norm`: zero-width characters and
 * soft hyphens dropped, fullwidth forms folded), so "ghp_\u200b..." is the token it spells. `idForm`
 * is the identifier form of `norm`: when it is `norm` itself, the value as written is `norm`, and no
 * prefix is glued, the detectors over it have already seen every secret, and this pass is skipped.
 */
function secretTypes(value: string, norm: string, idForm: string, foldedNorm: string): FindingType[] {
  const types: FindingType[] = [];
  for (const given of norm === value ? [norm] : [value, norm]) {
    // A prefix typed with a look-alike letter ("pol_gh\u0440_...") is found glued as the token it spells.
    const form = given === norm ? foldedNorm : foldConfusables(given);
    let glued = false;
    // Shorter than any secret EMBEDDED_SECRET_START starts (EMBEDDED_SECRET_MIN_LENGTH): most of a
    // record's fields, which skip the walk of every prefix at each position.
    const isHeader = form.length < EMBEDDED_SECRET_MIN_LENGTH ? null : jwtHeaderAt(form);
    const spaced =
      isHeader === null
        ? form
        : form.replace(EMBEDDED_SECRET_START, (m: string, offset: number) => {
            if (JWT_START.test(m) && !isHeader(offset, m.length)) return m;
            if (offset === 0) return m;
            glued = true;
            return ` ${m}`;
          });
    if (AWS_KEY_GLUED_AFTER.test(form)) types.push('AWS_ACCESS_KEY');
    if (!glued && idForm === form) continue;
    // A prefix can also stand inside another token's random body ("npm_...EAA...", "aeg_...LTAI..."):
    // spaced, that token is two pieces, so the form as given is read too (an attacker's review found
    // one npm or Hugging Face token in about 7,000 passed). Only when something was spaced: rare.
    for (const text of glued ? [spaced, form] : [spaced]) {
      for (const f of [...detectTokens(text), ...detectCloudKeys(text), ...detectUrlPasswords(text)]) types.push(f.type);
    }
  }
  return types;
}

/**
 * A secret right after its name, in the shapes the named-password detector leaves to the guard: glued
 * by an identifier's own separator ("db_password_Zq8vT2xk9", "pflt_password-Zq8vT2xk9",
 * "token.Zq8v...", a type name "PASSWORD_ZQ8VT2XK9"), or assigned a value shorter than that detector's
 * secrets of 16 ("secret=Zq8vT2xk9"), under a name spelled otherwise ("pswd", "p@ssword", "hasło",
 * "parola") or with an arrow ("password -> X"). A record's field names a finding type or a policy; it
 * never needs a value after a secret's name, so any random-looking one there is refused. The value
 * must look random (looksRandom): "password_policy_v2", "api_key_rotation", "token=expired" pass.
 * One list per part, each a regular expression source, any case.
 */
const SECRET_NAMES: readonly { source: string; wordStart?: true }[] = [
  // The password's name and its retypings: password, p@ssword, p4ssw0rd, passw, passwd, pass,
  // passphrase, pswd, pword, pwd. The short ones only as a word's start, after no letter, mark or digit
  // of any script ("bypass", "Fußpass", "登机牌pass" are other words); the others also after a prefix
  // glued to them ("dbpassword", "client_secret").
  { source: String.raw`p[a@4]ssw[o0]rd` },
  { source: String.raw`p[a@4]ss(?:wd|w|phrase)?`, wordStart: true },
  { source: 'ps?wd|pword', wordStart: true },
  // Other languages' (a selection: namedPassword.ts reads its list after ":" and "=").
  // Not Czech "heslo": a slogan or a headword as often, read before its verb only (namedPassword.ts).
  { source: String.raw`has[lł]o` },
  { source: 'parol[aă]?' },
  { source: 'passwort' },
  { source: 'contrase[nñ]a' },
  // "resenha" is a review.
  { source: 'senha', wordStart: true },
  { source: 'wachtwoord' },
  { source: 'пароль' },
  // Other secrets' names.
  { source: String.raw`(?:api|access|auth|private|secret|signing|encryption)[_.-]?key` },
  { source: 'apikey' },
  { source: 'secret' },
  { source: 'token' },
  { source: 'credentials?|creds' },
];
/** Between a name and its value: an assignment, a colon, an arrow, padded, the name maybe quoted. */
const ASSIGNMENT_LINKS = [':=', '=>', '->', '\u2192', '\u00BB', '=', ':'];
/**
 * A table's cell border and a column's gap (two blanks: a tab is one once normalized) between a name
 * and its value, any length: a Markdown table ("| password | X |") and aligned output ("DB_PASSWORD
 * X" with a run of blanks) passed the guard (a review's). One blank alone is prose's ("password
 * reset"), and not read.
 */
const COLUMN_LINKS = [String.raw`\|`, ' {2}'];
/**
 * An assigned value's characters, and its length from which namedPassword.ts judges it (its
 * MIN_SECRET_LENGTH: at 16 and more its rules, which know tokens that are no credential, decide).
 */
const VALUE_CHARS = '[A-Za-z0-9_.~+/=-]';
const NAMED_PASSWORD_JUDGES = 16;
/**
 * An identifier's own separators, glued on both sides: the value is the letters and digits after. A
 * run of them, ":" among them (a review's "password__X", "password--X", "password::X" passed where
 * "password_X" was refused); bounded, as every quantifier here, but far past any spacing by hand.
 */
const IDENTIFIER_LINK = '[_.:-]{1,32}';
/**
 * Both values are bounded in the pattern, not after it: the walk starts again one character after
 * each match, and an unbounded value (read to the end of the text for every name in it) made a
 * field of "token=" repeated cost quadratic time (a review's 256 KiB record: 12.9 s of the scan thread).
 */
const GLUED_MAX = 256;
/** A value after one of `links`, padded, the name maybe quoted: 8 to `max` of VALUE_CHARS, captured. */
const linkedValue = (links: readonly string[], max: number) =>
  String.raw`["']?[ \t]{0,8}(?:${links.join('|')})[ \t]{0,8}["']?(${VALUE_CHARS}{8,${max}})(?!${VALUE_CHARS})`;
const NAMED_SECRET_RE = new RegExp(
  String.raw`(?:${SECRET_NAMES.map((n) => (n.wordStart ? String.raw`(?<![\p{L}\p{N}\p{M}])(?:${n.source})` : n.source)).join('|')})` +
    String.raw`(?:${linkedValue(ASSIGNMENT_LINKS, NAMED_PASSWORD_JUDGES - 1)}|${IDENTIFIER_LINK}([A-Za-z0-9]{8,${GLUED_MAX}})(?![A-Za-z0-9])|${linkedValue(COLUMN_LINKS, GLUED_MAX)})`,
  'giu',
);

/** Units a number in a name carries ("expiry30d", "ttl24h", "cache512mb"): a setting, no secret. */
const UNIT = /^(?:ms|s|m|h|d|w|y|k|kb|mb|gb|tb|px|q[1-4]|st|nd|rd|th)$/i;
/** Where a value's segments meet, and where a segment splits into words: digit runs, CamelCase. */
const JOINERS = /[_.~+/=-]+/;
const WORD_SPLIT = /[0-9]+|(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/;
/** A word of a name: 3 to 12 letters, a vowel, no five consonants in a row. */
const isWord = (w: string) => w.length >= 3 && w.length <= 12 && /[aeiouy]/i.test(w) && !/[b-df-hj-np-tv-xz]{5}/i.test(w);
/** A value filled in for show: a run of six of one character, or the word "example". */
const FILLER = /(.)\1{5}|example/i;

/**
 * Whether a segment between joiners is a random run: 8 characters or more, letters and digits both,
 * and not words and numbers ("rotation2024", "min12chars", "v20240101", "expiry30d": CamelCase words
 * and numbers, a version's "v", a unit after a number). "Zq8vT2xk9" splits into "Zq", "v", "T", "xk";
 * "Winter2024x" leaves an "x" after its number that is no unit.
 */
function randomSegment(segment: string): boolean {
  if (segment.length < 8 || !/[A-Za-z]/.test(segment) || !/[0-9]/.test(segment)) return false;
  const parts = segment.split(WORD_SPLIT).filter((p) => p !== '');
  const last = parts.length - 1;
  return !parts.every(
    (part, k) => isWord(part) || (k === last && UNIT.test(part) && /[0-9]$/.test(segment.slice(0, -part.length))) || (k === 0 && /^v$/i.test(part)),
  );
}

/**
 * Whether a value after a secret's name looks random: no filler, and a random run between its joiners
 * (its first 256 characters): "aes-256-gcm", "sha-256" are names of their parts.
 */
function looksRandom(raw: string): boolean {
  const value = raw.slice(0, 256);
  return !FILLER.test(value) && value.split(JOINERS).some(randomSegment);
}

/**
 * Whether a text may hold a named secret: a digit (every random value has one) and a name. Two plain
 * searches before the walk with look-behinds: the guard reads every field of every record, and the
 * walk alone cost the ingest bench about a fifteenth of its CPU per event.
 */
const NAMED_SECRET_GATE = new RegExp(SECRET_NAMES.map((n) => n.source).join('|'), 'i');
const DIGIT = /[0-9]/;

/**
 * Upper and lower case letters both: what a password or a short key has, and what a generated name
 * does not (a Kubernetes pod's "7d9f8b6c5-x2x4z", a Secret's "5tc4m28d9k", a commit's "3f2a9c1d", a
 * setting's "ttl3600s": a review found "auth-token-7d9f8b6c5-x2x4z" refused).
 */
const mixedCase = (value: string) => /[a-z]/.test(value) && /[A-Z]/.test(value);

/** Whether `text` holds a random-looking value right after a secret's name (see SECRET_NAMES). */
function namedSecretIn(text: string): boolean {
  if (!DIGIT.test(text) || !NAMED_SECRET_GATE.test(text)) return false;
  NAMED_SECRET_RE.lastIndex = 0;
  for (let m = NAMED_SECRET_RE.exec(text); m !== null; m = NAMED_SECRET_RE.exec(text)) {
    // The assigned value, the one glued by an identifier's separator, or a cell's or column's: one group is set.
    const value = m[1] ?? m[2] ?? m[3]!;
    if (mixedCase(value) && looksRandom(value)) return true;
    // The next name may start inside this value ("token_secret_Zq8...").
    NAMED_SECRET_RE.lastIndex = m.index + 1;
  }
  return false;
}

/**
 * Named passwords (detectors/namedPassword.ts) over the forms preflight reads them in: the normalized
 * value, and the value as written for what only it reads whole (a percent escape, an escaped quote).
 * Not over the identifier form: its "_" made blanks, and "YOUR_PASSWORD" read as the value "YOUR",
 * "password_value=X" as a name/value pair, so the guard refused what preflight let through.
 */
function namedPasswordTypes(value: string, norm: string): FindingType[] {
  const found = norm === value ? detectNamedPasswords(norm) : [...detectNamedPasswords(norm), ...detectWrittenNamedPasswords(value)];
  return found.map((f) => f.type);
}

/**
 * The spelling the personal-data detectors see for a record's fields. Identifiers hide values behind
 * their own separators: "pflt_4111111111111111", "ip_10.1.2.3", "SSN_123_45_6789" glue the value to
 * a word with "_", which the detectors (rightly, in prose) take as part of a longer token; and
 * "v4111111111111111" glues it to a letter. So "_" becomes a space, and a run of nine or more digits
 * that is the only digit run of its alphanumeric segment ("v" + digits, digits + "x") is split from
 * its letters. A segment with several digit runs (a base64 id) or of hex digits only (a hash, a UUID
 * part) is left whole: splitting those would turn random ids into false positives. The text is
 * normalized first, so "＿" counts as "_".
 */
const ONE_LONG_DIGIT_RUN = /^([A-Za-z]*)(\d{9,})([A-Za-z]*)$/;
const HEX = /^(?:[0-9a-f]+|[0-9A-F]+)$/;

/**
 * A digit-only IBAN ("NO9386011117947", "fi2112345600000785") is letters then one long digit run too,
 * but its two letters belong to the value: split from its digits, the IBAN detector no longer reads
 * it. So when the letters before the run end in a country code (of one case, as the detector reads
 * it) that makes a valid IBAN with the digits (length and mod-97), the two stay together, set apart
 * from any other letters: "acctNO9386011117947x" reads "acct NO9386011117947 x". Only when the code
 * starts the segment or the case changes at it: within a word ("batch9270151085929734379",
 * "seqno1733364000036") the last two letters are the word's, and one in 97 such ids would pass mod-97
 * by chance.
 */
const IBAN_COUNTRY = /^(?:[A-Z]{2}|[a-z]{2})$/;
const isUpper = (c: string) => c >= 'A' && c <= 'Z';

function splitSegment(segment: string): string {
  const m = ONE_LONG_DIGIT_RUN.exec(segment);
  // Hex segments are hashes and UUID parts: a digit run in one is chance, not a value.
  if (!m || segment.length === (m[2] as string).length || HEX.test(segment)) return segment;
  const after = m[3] as string;
  let before = m[1] as string;
  let digits = m[2] as string;
  // The last two letters only: a test that stays constant-time on a 1 MiB run of letters.
  const country = before.slice(-2);
  const prior = before.at(-3);
  const startsHere = prior === undefined || isUpper(prior) !== isUpper(country[0]!);
  if (startsHere && IBAN_COUNTRY.test(country) && isValidIban(`${country.toUpperCase()}${digits}`)) {
    before = before.slice(0, -2);
    digits = `${country}${digits}`;
  }
  return [before, digits, after].filter((p) => p !== '').join(' ');
}

export function identifierForm(value: string): string {
  return identifierFormOf(normalizeForDetection(value).text);
}

/** identifierForm() of text that is normalized already. */
function identifierFormOf(norm: string): string {
  return norm.replace(/_/g, ' ').replace(/[A-Za-z0-9]+/g, splitSegment);
}

/**
 * An e-mail address spelled out in an identifier, where "@" cannot be written: "JANE_AT_EXAMPLE_COM",
 * "jane(at)example(dot)com", or with the "@" set apart so the address detector no longer reads it
 * ("jane[@]example[.]com", defanged as threat reports write addresses). Words are split on anything
 * not a letter, digit or mark of any script, an "@" being the word "at"; an "at" word with a
 * word before it and a domain word then a common top-level domain after it (within a few words) is
 * an address. The TLDs are email.ts's COMMON_TLDS, short on purpose: type names such as
 * "DATA_AT_REST_IN" must pass.
 */
const MAX_DOMAIN_WORDS = 6;
/**
 * Words that make "at" a phrase in a type's or a policy's name, not an address's "@": PII_AT_REST_EU,
 * CARD_DATA_AT_REST_DE, EXPORT_AT_EDGE_NET, pol_block_at_upload_ca: the phrase word, then a
 * top-level domain and nothing after it that goes on a domain. With a dot or another label it is an
 * address's ("jane at rest dot eu", "jane at upload-server.com").
 */
const AT_PHRASE_WORDS: ReadonlySet<string> = new Set(
  'rest risk edge scale least most runtime source ingest ingress egress upload download login logon signup checkout boundary origin once start end exit entry creation build deploy send write read'.split(
    ' ',
  ),
);

const AT_WORD = /@|(?:^|[^a-z0-9])at(?:[^a-z0-9]|$)/i;

export function hasSpelledEmail(value: string): boolean {
  return spelledEmailIn(normalizeForDetection(value).text);
}

/** hasSpelledEmail() over text that is normalized already. */
function spelledEmailIn(norm: string): boolean {
  if (!AT_WORD.test(norm)) return false;
  const words = norm
    .toLowerCase()
    .replace(/@/g, ' at ')
    // A dot is the word "dot" (a defanged "(dot)" reads as "." once normalized).
    .replace(/\./g, ' dot ')
    // Words of any script: "иван(at)пример(dot)com" and "अनिल_AT_EXAMPLE_COM" are addresses too.
    .split(/[^\p{L}\p{N}\p{M}]+/u)
    .filter((w) => w !== '');
  for (let k = 1; k < words.length; k++) {
    if (words[k] !== 'at') continue;
    // "at rest" then a country code and no more of a domain: a phrase ("PII_AT_REST_EU"); a word or
    // a dot after the phrase word makes it a domain's first label ("jane at upload-server.com").
    if (AT_PHRASE_WORDS.has(words[k + 1] ?? '') && COMMON_TLDS.has(words[k + 2] ?? '') && words[k + 3] !== 'dot') continue;
    let domainWords = 0;
    for (let j = k + 1; j < words.length && j <= k + MAX_DOMAIN_WORDS; j++) {
      const w = words[j] as string;
      if (w === 'dot') continue;
      if (domainWords > 0 && COMMON_TLDS.has(w)) return true;
      domainWords++;
    }
  }
  return false;
}

/** What the guard reads in one field's value: its finding types, and whether it holds a LONG_DIGIT_RUN. */
export interface Scan {
  types: FindingType[];
  longDigitRun: boolean;
}

/**
 * Every finding type in a field's value: the detectors over its identifier form, the secret
 * detectors over the value as written (tokens keep their "_"), and, outside free text, an address
 * spelled out with "at". And the digit-run rule over the same normalized text and the value as
 * written.
 */
function scanField(value: string, freeText = false): Scan {
  const hidden = revealHidden(value);
  let scan = scanReading(value, freeText);
  if (hidden !== null) {
    // Read twice (normalize.ts revealHidden): with the hidden characters dropped and spelled out.
    const spelled = scanReading(hidden, freeText);
    scan = { types: [...new Set([...scan.types, ...spelled.types])], longDigitRun: scan.longDigitRun || spelled.longDigitRun };
  }
  const decoded = encodedJsonIn(value);
  if (decoded.length === 0) return scan;
  // Its finding types only: a JSON object's ids ("sub": "248289761001") are no account number.
  const inside = decoded.flatMap((text) => scanReading(text, true).types);
  return { types: [...new Set([...scan.types, ...inside])], longDigitRun: scan.longDigitRun };
}

/**
 * A JSON object in base64 or base64url standing alone, starting as a JWT's segments do (JWT_STARTS:
 * '{"', and '{' with a blank or a line break, pretty-printed): what Envoy's x-jwt-payload and Kong's
 * X-Userinfo headers carry, a token's claims without its signature. A review's actor_id of one decoded
 * to {"sub": ..., "email": "jane.doe@example.com"} and passed: the first few are decoded and read as
 * text. A whole JWT is found by its own detector.
 */
// Greedy, with nothing after it: each run is read once (a look-ahead after a bounded run backtracked
// through it at every start).
const ENCODED_JSON = new RegExp(String.raw`(?<![A-Za-z0-9+/])(?:${JWT_STARTS})[A-Za-z0-9_+/-]{8,4096}`, 'g');
const MAX_ENCODED_JSON = 4;
function encodedJsonIn(value: string): string[] {
  if (!JWT_START_LIST.some((start) => value.includes(start))) return [];
  const out: string[] = [];
  for (const [run] of value.matchAll(ENCODED_JSON)) {
    // Node's base64url decoder reads the standard alphabet's "+" and "/" as well: one call for both.
    const text = Buffer.from(run, 'base64url').toString('utf8');
    if (JSON_OBJECT_START.test(text) && !text.includes('\ufffd')) out.push(text);
    if (out.length === MAX_ENCODED_JSON) break;
  }
  return out;
}

function scanReading(value: string, freeText: boolean): Scan {
  // Normalized once: the identifier form is canonical text already.
  const norm = normalizeForDetection(value).text;
  const idForm = identifierFormOf(norm);
  const folded = foldConfusables(norm);
  const types = [
    ...detectCanonical(idForm, DETECTORS_BUT_NAMED_PASSWORDS).map((f) => f.type),
    ...namedPasswordTypes(value, norm),
    ...secretTypes(value, norm, idForm, folded),
  ];
  // The name read as written and with its look-alike letters read as Latin ("p\u0430ssword",
  // "\u03A1ASSWORD"); a name of their own script ("пароль") only as written.
  if (namedSecretIn(norm) || (folded !== norm && namedSecretIn(folded))) types.push('PASSWORD');
  if (!freeText && spelledEmailIn(idForm)) types.push('EMAIL');
  // In free text, an address with "at" and a dot spelled as words ("jane at gmail dot com"), which
  // preflight leaves in a user's text: a summary names finding types only (email.ts).
  // (Not read again when an address was found already.)
  else if (freeText && !types.includes('EMAIL') && detectEmailsSpelledInProse(idForm).length > 0) types.push('EMAIL');
  return { types: [...new Set(types)], longDigitRun: hasLongDigitRun(norm) || (value !== norm && hasLongDigitRun(value)) };
}

function findingTypes(value: string, freeText = false): FindingType[] {
  return scanField(value, freeText).types;
}

/** The finding types in an identifier as the guard reads a record's identifier field (an id a client chose). */
export function findingTypesInIdentifier(value: string): FindingType[] {
  return findingTypes(value);
}

/**
 * The secret types (credentials, tokens, keys, passwords) in a configuration value, read as the guard
 * reads a record's field: also a token glued to a word ("prod_ghp_..."). Personal data is left out:
 * settings such as a forwarding destination's name refuse credentials only (destinations/plainFields.ts).
 */
export function secretTypesIn(value: string): SecretType[] {
  return findingTypes(value, true).filter(isSecretType);
}

/** True when the whole value is exactly one email address. */
/**
 * The value normalized, when the address detector reads all of it as one address; else null. The
 * address detector alone: detect() gives a credential in the local part precedence over the address
 * ("ghp_...@example.com" is a GITHUB_TOKEN there), and the parts are scanned below anyway.
 */
function oneEmail(value: string): string | null {
  const norm = normalizeForDetection(value).text;
  return detectEmails(norm).some((f) => f.start === 0 && f.end === norm.length) ? norm : null;
}

function message(type: FindingType): string {
  return `contains a value detected as ${type}; audit records are metadata only and must not carry detected values`;
}

/**
 * actor_id alone: refused unless it is free of findings or exactly one email address. With a batch's
 * memo, an address's domain (the same for most of an organization's actors) is scanned once.
 */
export function guardActorId(value: string, path = '/actor_id', memo?: GuardMemo): Violation[] {
  // Read twice when it hides ASCII (normalize.ts revealHidden): an address read with the hidden
  // characters dropped is scanned in its parts below, which the spelled-out reading never reached.
  const hidden = revealHidden(value);
  const types = hidden !== null ? [...new Set([...actorIdTypes(value, memo), ...actorIdTypes(hidden, memo)])] : actorIdTypes(value, memo);
  return types.map((type) => ({ path, message: type === 'EMAIL' ? EMAIL_AMONG_TEXT : message(type) }));
}

/**
 * An address the field does not hold alone ("Jane Doe <jane@example.com>", " jane@example.com",
 * "mailto:jane@example.com"): the generic "detected as EMAIL" read as if no address were allowed,
 * where one address, alone, is.
 */
const EMAIL_AMONG_TEXT =
  'contains a value detected as EMAIL with other text around it; actor_id may be one e-mail address alone ("jane@example.com"), or an id';

function actorIdTypes(value: string, memo?: GuardMemo): FindingType[] {
  // An address's local part and domain are scanned on their own and must hold nothing: in
  // "ssn.123.45.6789@example.com" the address covers the SSN when overlaps are resolved.
  let types: FindingType[];
  // Normalized, so a fullwidth "＠" splits the address too.
  const norm = oneEmail(value);
  if (norm !== null) {
    const at = norm.lastIndexOf('@');
    types = [...new Set([...memoScan(norm.slice(0, at), false, memo).types, ...memoScan(norm.slice(at + 1), false, memo).types])];
  } else {
    types = memoScan(value, false, memo).types;
  }
  return types;
}

/**
 * Scans every string field (known or not) and every finding_counts_by_type key of a record. `basePath`
 * prefixes the paths, e.g. "/events/3". Non-object input yields no violations (schema validation
 * reports that).
 */
export function guardAgentRecord(record: unknown, basePath = '', memo?: GuardMemo): Violation[] {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return [];
  const out: Violation[] = [];
  const scan = (value: string, freeText = false) => memoScan(value, freeText, memo);
  for (const [key, value] of Object.entries(record as Record<string, unknown>)) {
    // The path is built only for a violation: safeSegment scans the key with every detector, which
    // for a clean record was a second scan of every field name.
    const pathOf = () => `${basePath}/${safeSegment(key)}`;
    if (key === 'finding_counts_by_type' && typeof value === 'object' && value !== null) {
      const scans = Object.keys(value).map((k) => scan(k));
      const types = new Set(scans.flatMap((x) => x.types));
      for (const type of types) out.push({ path: pathOf(), message: `a finding type name ${message(type)}` });
      // A type name is an identifier such as "SSN": a long digit run in one is a value (an account
      // number no detector flags), unless it was already reported as a finding.
      if (types.size === 0 && scans.some((x) => x.longDigitRun)) {
        out.push({ path: pathOf(), message: 'a finding type name contains a run of nine or more digits; type names are identifiers, never values' });
      }
      continue;
    }
    if (typeof value !== 'string') continue;
    if (key === 'actor_id') {
      const found = guardActorId(value, '', memo);
      if (found.length > 0) out.push(...found.map((v) => ({ ...v, path: pathOf() })));
      continue;
    }
    const { types, longDigitRun } = scan(value, key === 'summary');
    for (const type of types) {
      // The field that holds a version: four dotted numbers there are one (.NET's and MSI's "1.0.0.0").
      if (type === 'IP_ADDRESS' && key === 'policy_version' && VERSION_NUMBER.test(value)) continue;
      out.push({ path: pathOf(), message: message(type) });
    }
    // The digit-run rule catches what no detector reports (a 10-digit account number); a run already
    // reported as a finding needs no second message.
    if (key === 'summary' && types.length === 0 && longDigitRun) {
      out.push({ path: pathOf(), message: 'contains a run of nine or more digits; the summary must name finding types only, never values' });
    }
  }
  return out;
}

/**
 * scanField results within one batch of records. Agents repeat the same values in every record
 * (decision, destination, policy id and version, source and input type, a handful of summaries), so
 * a 1,000-record batch scanned each of them 1,000 times. The detectors are pure functions of the
 * text, so a remembered answer is the same answer. Create one per batch and drop it with the batch:
 * it holds submitted values, which must not outlive the request.
 */
export type GuardMemo = Map<string, Scan>;

function memoScan(value: string, freeText: boolean, memo: GuardMemo | undefined): Scan {
  if (!memo) return scanField(value, freeText);
  const k = `${freeText ? 't' : 'i'}${value}`;
  let found = memo.get(k);
  if (found === undefined) {
    found = scanField(value, freeText);
    memo.set(k, found);
  }
  return found;
}
