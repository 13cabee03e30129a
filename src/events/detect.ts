/**
 * detect(): every detector over the text, then one non-overlapping, sorted list of findings.
 *
 * Overlaps are resolved by keeping the set of candidates that covers the most text (see
 * resolveOverlaps): a longer match beats what is inside it (an email beats a phone number in it; an
 * E.164 number beats the NANP number inside it; a PEM block beats anything in its body), and on equal
 * length the more specific type wins (secrets first, then the order of SPECIFICITY below). Detectors
 * report every valid reading of a number (a card of 16 digits and the 19-digit card that swallows the
 * next group), so the resolution can pick the one that leaves no other value uncovered.
 */
import { isSecretType, type Finding, type FindingType } from './findings.js';
import { detectBasicAuthTokens } from './detectors/basicAuth.js';
import { detectCloudKeys } from './detectors/cloudKeys.js';
import { detectCreditCards } from './detectors/creditCard.js';
import { detectEmails } from './detectors/email.js';
import { detectIbans } from './detectors/iban.js';
import { detectIpAddresses } from './detectors/ip.js';
import { detectNamedPasswords, detectWrittenNamedPasswords, SENTENCE_END_MARKS } from './detectors/namedPassword.js';
import { detectPhones } from './detectors/phone.js';
import { detectPrivateKeys } from './detectors/privateKey.js';
import { detectSsn } from './detectors/ssn.js';
import { detectTokens } from './detectors/tokens.js';
import { detectUrlPasswords } from './detectors/urlPassword.js';
import { firstIndex, type Detector } from './detectors/common.js';
import { normalizeForDetection, originalSpan, revealHidden } from './normalize.js';

export { countByType } from './findings.js';
export type { Finding, FindingType } from './findings.js';

const DETECTORS: readonly Detector[] = [
  detectPrivateKeys,
  detectCloudKeys,
  detectTokens,
  detectBasicAuthTokens,
  detectUrlPasswords,
  detectNamedPasswords,
  detectIbans,
  detectCreditCards,
  detectSsn,
  detectEmails,
  detectPhones,
  detectIpAddresses,
];
/**
 * Every detector but the named passwords', for the privacy guard's identifier form (privacyGuard.ts):
 * its "_" made blanks, so "YOUR_PASSWORD" read as the value "YOUR"; the guard reads named passwords in
 * the forms preflight does.
 */
export const DETECTORS_BUT_NAMED_PASSWORDS: readonly Detector[] = DETECTORS.filter((d) => d !== detectNamedPasswords);

/** Lower index = more specific, wins ties on equal length. */
const SPECIFICITY: readonly FindingType[] = [
  'PRIVATE_KEY',
  'AWS_SECRET_KEY',
  'AWS_ACCESS_KEY',
  'GITHUB_TOKEN',
  'SLACK_TOKEN',
  'STRIPE_KEY',
  'GOOGLE_API_KEY',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'GITLAB_TOKEN',
  'HUGGINGFACE_TOKEN',
  'NPM_TOKEN',
  'JWT',
  // A password is told by its place alone: a token standing there ("x-access-token:ghs_...@") is
  // reported as the token it is.
  'PASSWORD',
  'IBAN',
  'CREDIT_CARD',
  'SSN',
  'EMAIL',
  'PHONE',
  'IP_ADDRESS',
];
const rank = new Map(SPECIFICITY.map((t, i) => [t, i]));

/**
 * Weight of a candidate: covered characters first, specificity as a tie-break that can never outweigh
 * a single character of coverage (20 types * 50 < 1000).
 */
function weight(f: Finding): number {
  return (f.end - f.start) * 1000 + (50 - (rank.get(f.type) ?? 49));
}

/**
 * Resolves candidates from several detectors into a sorted list without overlaps, choosing the subset
 * that covers the most text (weighted interval scheduling, O(n log n)). So a longer match beats the
 * shorter ones inside it (an email over a phone number in it), yet two real neighbours beat one
 * spurious match straddling both (an SSN followed by a card, against a Luhn-valid "card" made of the
 * SSN's last group and the card's first three).
 */
export function resolveOverlaps(candidates: readonly Finding[]): Finding[] {
  const fs = candidates.filter((f) => f.end > f.start).sort((a, b) => a.end - b.end || a.start - b.start);
  const n = fs.length;
  const best = new Float64Array(n + 1); // best[i]: best total weight using the first i candidates
  const take = new Uint8Array(n + 1);
  const prev = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    const f = fs[i - 1] as Finding;
    // Number of candidates ending at or before f.start (sorted by end).
    const lo = firstIndex(i - 1, (k) => (fs[k] as Finding).end > f.start);
    prev[i] = lo;
    const withF = weight(f) + (best[lo] as number);
    const without = best[i - 1] as number;
    if (withF > without) {
      best[i] = withF;
      take[i] = 1;
    } else {
      best[i] = without;
    }
  }
  const out: Finding[] = [];
  for (let i = n; i > 0;) {
    if (take[i] === 1) {
      out.push(fs[i - 1] as Finding);
      i = prev[i] as number;
    } else {
      i--;
    }
  }
  return out.reverse();
}

/**
 * detect() over text that is already normalized (normalizeForDetection(x).text, or a form derived
 * from it such as the privacy guard's identifier form): spans are of that text. Callers that
 * normalize once themselves use it so a string is not normalized twice.
 */
export function detectCanonical(text: string, detectors: readonly Detector[] = DETECTORS): Finding[] {
  const candidates: Finding[] = [];
  for (const d of detectors) {
    for (const f of d(text)) candidates.push(f);
  }
  return resolveOverlaps(withoutDataOverSecrets(candidates));
}

/**
 * The candidates less every one of personal data that overlaps a secret. A credential standing in a
 * URL's user part reads as an address too ("https://x-access-token:ghs_...@github.com/acme/app.git",
 * as CI logs and git's own errors print it), and the longer match, the address, won: the event was
 * masked where it must be blocked. Whatever holds a credential is the credential: the secret decides,
 * and the rest of the address (the host) is no personal data. Sorted sweep: O(n log n) however many.
 */
function withoutDataOverSecrets(candidates: readonly Finding[]): Finding[] {
  const secrets = candidates.filter((f) => isSecretType(f.type)).sort((a, b) => a.start - b.start);
  if (secrets.length === 0) return [...candidates];
  // reach[i]: the furthest end among the first i secrets (by start).
  const reach = new Int32Array(secrets.length + 1);
  for (let i = 0; i < secrets.length; i++) reach[i + 1] = Math.max(reach[i] as number, (secrets[i] as Finding).end);
  return candidates.filter((f) => {
    if (isSecretType(f.type)) return true;
    // Secrets starting before f ends: does any of them end after f starts?
    const before = firstIndex(secrets.length, (k) => (secrets[k] as Finding).start >= f.end);
    return (reach[before] as number) <= f.start;
  });
}

/**
 * An address right after a backslash and a letter JSON reads as an escape ("CORP\nancy@corp.com", a
 * Windows DOMAIN\user; or a line break in a JSON string): the normalizer reads the pair as a
 * separator, so the address starts after it, but the letter may be the address's own first one.
 * The mask takes the letter too (never the backslash): "CORP\[EMAIL]" either way.
 */
function withEscapedLetter(text: string, start: number): number {
  return start >= 2 && text.charCodeAt(start - 2) === 0x5c && 'nrtbf'.includes(text[start - 1] as string) ? start - 1 : start;
}

/**
 * All sensitive values in `text`, sorted by position, never overlapping. The detectors run once over
 * the normalized text (see normalize.ts); the findings are spans of the original `text`, so masking
 * removes the value as the caller wrote it, zero-width characters and all.
 */
export function detect(text: string): Finding[] {
  const hidden = revealHidden(text);
  if (hidden === null) return detectReading(text);
  // Read twice (normalize.ts revealHidden): with the hidden characters dropped and spelled out. A
  // finding of the second reading ends after an ASCII character that stands for a surrogate pair's
  // first half: it takes the pair whole.
  const spelled = detectReading(hidden).map((f) => ({ ...f, end: f.end < text.length && isLowSurrogate(text.charCodeAt(f.end)) ? f.end + 1 : f.end }));
  return resolveOverlaps([...detectReading(text), ...spelled]);
}

const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

function detectReading(text: string): Finding[] {
  const norm = normalizeForDetection(text);
  const resolved = detectCanonical(norm.text);
  if (norm.origStart === null) return withRepeatedPasswords(text, resolved);
  const out: Finding[] = [];
  for (const f of resolved) {
    const [spanStart, end] = originalSpan(norm, f.start, f.end);
    const start = f.type === 'EMAIL' ? withEscapedLetter(text, spanStart) : spanStart;
    const last = out[out.length - 1];
    // One original character can expand to several ("㉑" is "21"), so two findings can meet inside it:
    // the earlier one then grows to cover both rather than leave part of either unmasked.
    if (last && start < last.end) last.end = Math.max(last.end, end);
    else out.push({ type: f.type, start, end });
  }
  // A password as written too: decoded, an encoded space, quote, "&" or "<" in it ("app:Zq8%22v%3C
  // T2%20x@db", as encodeURIComponent writes one; a form body's "&password=Ab%26c1xyz99") ends the
  // value early, and so does a JSON string's escaped quote ("Zq8vT2\"-xk9"): the rest was left in
  // the text. Read whole as written, it is the secret, over whatever was found in its pieces.
  const written = [...detectUrlPasswords(text), ...detectWrittenNamedPasswords(text)];
  return withRepeatedPasswords(text, written.length === 0 ? out : resolveOverlaps(withoutDataOverSecrets([...out, ...written])));
}

/** Distinct passwords whose repeats are looked for: each costs one search of the text. */
const MAX_REPEATED_PASSWORDS = 32;
/** Shorter values repeat by chance ("abc12" in a word), so their repeats are not taken. */
const MIN_REPEATED_PASSWORD = 6;
/** Repeats taken in all: a periodic text of many values found would otherwise add millions. */
const MAX_REPEATS = 1000;
/**
 * Values whose repeats are no password's: a word of letters alone is the URL's own user, scheme or
 * database as often as its password ("postgres://postgres:postgres@db/postgres"), and one character
 * repeated ("111111") is inside every longer run of it.
 */
const COMMON_VALUE = /^(?:[A-Za-z]+|(.)\1*)$/;
const isWordChar = (c: string | undefined) => c !== undefined && /\w/.test(c);
/** A sentence's end right after a password it ends with (one list: namedPassword.ts's). */
const SENTENCE_END = new RegExp(`[${SENTENCE_END_MARKS}]+$`, 'u');

/**
 * The findings plus every other occurrence, verbatim, of a password found in the text: a form's
 * confirmation field under a name of its own, a log line echoing it ("login failed for Zq8vT2xk")
 * left it readable next to its mask. At most MAX_REPEATED_PASSWORDS distinct values, one indexOf
 * scan each: linear, however many findings.
 */
function withRepeatedPasswords(text: string, findings: Finding[]): Finding[] {
  const values = new Set<string>();
  // A value that ends a question or an order keeps its "?" or "!" (a password may end so: it is
  // masked whole), and is repeated without them ("change my password to X? I typed X twice"). Looked
  // for too, outside the bound: they take no found value's place.
  const bares = new Set<string>();
  for (const f of findings) {
    if (f.type !== 'PASSWORD' || f.end - f.start < MIN_REPEATED_PASSWORD) continue;
    const value = text.slice(f.start, f.end);
    if (COMMON_VALUE.test(value)) continue;
    values.add(value);
    const bare = value.replace(SENTENCE_END, '');
    if (bare !== value && bare.length >= MIN_REPEATED_PASSWORD && !COMMON_VALUE.test(bare)) bares.add(bare);
    if (values.size === MAX_REPEATED_PASSWORDS) break;
  }
  for (const bare of bares) values.add(bare);
  if (values.size === 0) return findings;
  // An occurrence that is a finding already adds nothing: findings are sorted by start, and so are
  // a value's occurrences, so one pointer per value tells. Only a whole word is a repeat: "123456"
  // inside an order number "99123456781" is part of that number, not the password again.
  const repeats: Finding[] = [];
  for (const v of values) {
    let j = 0;
    for (let k = text.indexOf(v); k !== -1 && repeats.length < MAX_REPEATS; k = text.indexOf(v, k + v.length)) {
      if (isWordChar(text[k - 1]) || isWordChar(text[k + v.length])) continue;
      while (j < findings.length && (findings[j] as Finding).start < k) j++;
      const f = findings[j];
      if (f === undefined || f.start !== k || f.end !== k + v.length) repeats.push({ type: 'PASSWORD', start: k, end: k + v.length });
    }
  }
  if (repeats.length === 0) return findings;
  // Not withoutDataOverSecrets: a repeat inside an address ("Zq8vT2xk@example.com") is masked with
  // the longer address rather than leave its domain standing beside "[PASSWORD]".
  return resolveOverlaps([...findings, ...repeats]);
}
