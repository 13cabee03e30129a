/**
 * Service tokens with a recognisable prefix:
 * - GitHub: ghp_ (classic personal), gho_ (OAuth), ghu_ (user-to-server), ghs_ (server-to-server),
 *   ghr_ (refresh) followed by at least 36 alphanumerics; github_pat_ fine-grained tokens.
 * - Slack: xoxa-, xoxb-, xoxc- (browser session), xoxe- (rotation refresh, and the xoxe.xoxp- /
 *   xoxe.xoxb- access tokens it yields), xoxo-, xoxp-, xoxr-, xoxs- tokens, xapp- app-level tokens,
 *   the browser's "d" session cookie (xoxd-), and webhook URLs, which are credentials too: incoming
 *   webhooks (services/T.../B.../secret), Workflow Builder webhooks (workflows/T.../A.../n/secret) and
 *   workflow triggers (triggers/T.../n/secret), on hooks.slack.com or GovSlack's hooks.slack-gov.com.
 * - Stripe: secret and restricted keys (sk_live_, sk_test_, rk_live_, rk_test_) and webhook signing
 *   secrets (whsec_). Publishable keys (pk_) are public by design and not reported.
 * - JWT: three base64url segments, the first two a JSON object: "eyJ" ('{"'), or "eyA", "ewo", "ew0",
 *   "ewk" ("{" and a blank, a line break or a tab, as a pretty-printer writes it), which must decode to
 *   "{", blanks and a quote; signed, or unsigned ("alg": "none": nothing after the last dot).
 * - OpenAI: project (sk-proj-), service account (sk-svcacct-) and admin (sk-admin-) keys, and legacy
 *   user keys (sk- and 48 letters and digits); all hold "T3BlbkFJ", base64 of "OpenAI".
 * - Anthropic: API (sk-ant-api03-) and Admin API (sk-ant-admin01-) keys.
 * - GitLab: every prefix GitLab's token overview lists (glpat-, gloas-, gldt-, glrt-, glcbt-, glptt-,
 *   glft-, glimt-, glagent-, glsoat-, glffct-), also in the routable form ("glpat-<payload>.01.<crc>").
 * - Hugging Face user access tokens (hf_ and 34 letters) and npm access tokens (npm_ and 36 base62).
 * - Secrets of no type of their own, reported as PASSWORD (a secret, blocked like any other): SendGrid,
 *   PyPI, HashiCorp Vault, DigitalOcean, Postman, age, Terraform Cloud, Telegram bot, Shopify,
 *   Atlassian, Grafana, Sentry, Databricks, Docker Hub, Doppler, Linear, Notion, Google OAuth, Fly.io,
 *   Supabase, Groq, xAI, Perplexity, Heroku and Square tokens, Google OAuth client and Entra ID client
 *   secrets, New Relic, Alibaba Cloud, Tencent Cloud, Mailchimp, Replicate, GitLab runner registration
 *   and Facebook tokens, and this service's own API keys (OTHER_TOKENS, one list). Left out:
 *   shapes with no prefix of their own (Twilio's "SK" and 32 hex digits is any hex id after "SK"; a
 *   legacy Notion "secret_" is the word secret and a name).
 *
 * Every pattern is anchored by a look-behind on the previous character, so a run like "ghp_ghp_..."
 * or "eyJeyJ..." yields one bounded attempt, not one per position.
 *
 * A classic GitHub token, a Stripe secret or restricted key and a JWT are also found broken across
 * lines (a hard wrap, an escaped "\n", a wrap pasted back as spaces): wrappedTokens.ts joins the
 * pieces after the prefix, and the finding covers all of them.
 */
import type { Finding } from '../findings.js';
import { regexFindings } from './common.js';
import { twoClasses, wrappedFindings, type WrappedKind } from './wrappedTokens.js';

/**
 * Cyrillic and Greek letters drawn as a Latin one, and the Latin letter each reads as: a token whose
 * prefix is typed with one ("gh\u0440_...", "\u0410KIA...") is the same credential to whoever reads it,
 * and the normalizer (NFKC) keeps them apart. One list; one code unit for one, so a folded text keeps
 * every position and a finding in it is a span of the text as given.
 */
const CONFUSABLE_LATIN: Readonly<Record<string, string>> = {
  // Cyrillic capitals and small letters.
  '\u0410': 'A',
  '\u0412': 'B',
  '\u0421': 'C',
  '\u0415': 'E',
  '\u041D': 'H',
  '\u0406': 'I',
  '\u0408': 'J',
  '\u041A': 'K',
  '\u041C': 'M',
  '\u041E': 'O',
  '\u0420': 'P',
  '\u0405': 'S',
  '\u0422': 'T',
  '\u0425': 'X',
  '\u04AE': 'Y',
  '\u0430': 'a',
  '\u0441': 'c',
  '\u0501': 'd',
  '\u0435': 'e',
  '\u04BB': 'h',
  '\u0456': 'i',
  '\u0458': 'j',
  '\u043E': 'o',
  '\u0440': 'p',
  '\u051B': 'q',
  '\u0455': 's',
  '\u051D': 'w',
  '\u0445': 'x',
  '\u0443': 'y',
  // Greek capitals and small letters.
  '\u0391': 'A',
  '\u0392': 'B',
  '\u0395': 'E',
  '\u0396': 'Z',
  '\u0397': 'H',
  '\u0399': 'I',
  '\u039A': 'K',
  '\u039C': 'M',
  '\u039D': 'N',
  '\u039F': 'O',
  '\u03A1': 'P',
  '\u03A4': 'T',
  '\u03A5': 'Y',
  '\u03A7': 'X',
  '\u03BF': 'o',
  '\u03C1': 'p',
  '\u03BD': 'v',
};
const CONFUSABLE_ANY = new RegExp(`[${Object.keys(CONFUSABLE_LATIN).join('')}]`);
const CONFUSABLE_ALL = new RegExp(CONFUSABLE_ANY.source, 'g');
/** A run without blanks: each is read once (a lazy search for the letter inside was quadratic). */
const WORD = /\S+/g;
const ASCII_ALNUM = /[A-Za-z0-9]/;

/**
 * `text` with the look-alike letters of CONFUSABLE_LATIN read as Latin, in words that hold Latin
 * letters or digits too: a token is written in ASCII, and one letter swapped for its double leaves a
 * word of both scripts. A word of one script (Russian or Greek prose, "\u0410\u041A\u0406\u0410") is
 * left as written. As long as `text`: each letter is one code unit for one. A text without one of
 * them costs one search.
 */
export function foldConfusables(text: string): string {
  if (!CONFUSABLE_ANY.test(text)) return text;
  return text.replace(WORD, (word) =>
    CONFUSABLE_ANY.test(word) && ASCII_ALNUM.test(word) ? word.replace(CONFUSABLE_ALL, (c) => CONFUSABLE_LATIN[c] as string) : word,
  );
}

// Anything may follow a classic token ("ghp_..._v2", or more letters): it is found by its prefix and
// its first 36 characters. A fine-grained one ends where its alphabet does. A classic prefix written
// with "-" or "." for its "_" ("ghp-...", "ghp....") is the same token retyped; its body must then
// look random (twoClasses), as a word glued to "ghp-" does not.
const GITHUB_RE = /(?<![A-Za-z0-9_])(?:gh[pousr][_.-][A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,250}(?![A-Za-z0-9]))/g;
const githubToken = (_s: number, _e: number, m: RegExpExecArray): boolean => m[0][3] === '_' || m[0].startsWith('github_pat_') || twoClasses(m[0].slice(4));
// The letter after "xox" names the kind: a (legacy app), b (bot), c (browser session), e (rotation
// refresh), o (legacy OAuth), p (user), r (legacy refresh), s (legacy session). A rotated access
// token is written "xoxe.xoxp-..." and masked whole. Placeholders ("xoxb-your-token") are reported
// as tokens: masking one costs nothing, and a pattern strict enough to skip them would miss real
// tokens of a shape Slack changes. Workflow tokens ("xwfp-", handed to a workflow step's function
// as its bot_access_token) are the same kind of credential.
const SLACK_RE = /(?<![A-Za-z0-9-])(?:(?:xoxe\.)?xox[abceoprs]-[A-Za-z0-9-]{10,250}|xwfp-[A-Za-z0-9-]{10,250}|xapp-\d-[A-Za-z0-9-]{10,250})(?![A-Za-z0-9-])/g;
// The "d" cookie is base64, which the cookie jar percent-encodes ("%2F", "%2B", "%3D"; the normalizer
// reads one layer, so "/", "+", "=" here, and "%" of a second one), hundreds of characters long. It
// ends where that alphabet does (the ";" before the next cookie): with nothing after the run that
// can fail, a long run costs one pass, and one written after "d=" is found. At least 40 characters
// with a digit among the first 200, as random base64 of that length all but always has: tool and
// repository names ("xoxd-cookie/README.md", "xoxd-backup-2024.tar.gz") and URL paths are no cookie.
const SLACK_COOKIE_RE = /(?<![A-Za-z0-9-])xoxd-(?=[A-Za-z0-9%+/=_-]{0,199}[0-9])[A-Za-z0-9%+/=_-]{40,}/g;

// Slack's webhook hosts, commercial and GovSlack, as configs and chat write them: with or without a
// scheme ("webhook_url: hooks.slack.com/services/..."), http, any case, an explicit port (":443").
const SLACK_HOOK_HOST = String.raw`(?:https?:\/\/)?hooks\.slack(?:-gov)?\.com(?::\d{1,5})?`;
// A workspace (T...) or, for workflow triggers, an Enterprise Grid organisation (E...).
const SLACK_WORKSPACE_ID = '[TE][A-Z0-9]{6,12}';
/** The ids before the secret, one path per kind of webhook. */
const SLACK_HOOK_IDS = [
  // Incoming webhook: workspace, bot.
  String.raw`services\/${SLACK_WORKSPACE_ID}\/B[A-Z0-9]{6,12}`,
  // Workflow Builder webhook: workspace, app, workflow number.
  String.raw`workflows\/${SLACK_WORKSPACE_ID}\/A[A-Z0-9]{6,12}\/\d{6,20}`,
  // Workflow trigger: workspace, trigger number.
  String.raw`triggers\/${SLACK_WORKSPACE_ID}\/\d{6,20}`,
];
// The random last segment: 24 letters and digits, 32 hex digits for a trigger.
const SLACK_HOOK_SECRET = '[A-Za-z0-9]{20,64}(?![A-Za-z0-9])';
// Case-insensitive for an upper-cased URL ("HOOKS.SLACK.COM"); the secret's class allows both cases
// anyway. Anchored after anything that would make "hooks" part of another host name or word.
const SLACK_WEBHOOK_RE = new RegExp(String.raw`(?<![A-Za-z0-9_.-])${SLACK_HOOK_HOST}\/(?:${SLACK_HOOK_IDS.join('|')})\/${SLACK_HOOK_SECRET}`, 'gi');
const STRIPE_RE = /(?<![A-Za-z0-9_])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}|whsec_[A-Za-z0-9+/=]{24,128})(?![A-Za-z0-9])/g;
/**
 * How base64url of a JSON object starts: '{"' ("eyJ"), and "{" then a blank ("eyA"), a line break
 * ("ewo", "ew0": LF, CR) or a tab ("ewk"), as JSON.stringify(x, null, 2) and other pretty-printers
 * write a header ("{ \"alg\": ...", "{\n  \"alg\""). The last three letters also start words ("ewok"),
 * so a segment of those starts counts only when it decodes to a JSON object's start (jsonObjectStart).
 * Also where the privacy guard looks for a token glued to an identifier (EMBEDDED_SECRET_START).
 */
export const JWT_START_LIST = ['eyJ', 'eyA', 'ewo', 'ew0', 'ewk'];
export const JWT_STARTS = JWT_START_LIST.join('|');
/**
 * Whether a text may hold a JWT, whole or wrapped: one of JWT_START_LIST in it. A text without one
 * skips the three walks for a token (plain searches cost a fraction of one regex walk; a second
 * wrapped walk over every text cost the API a thirtieth of its CPU per event). A gate on what an
 * unsigned header spells in base64 missed a header split inside it, or "none" spelled otherwise.
 */
const mayHoldJwt = (text: string): boolean => JWT_START_LIST.some((start) => text.includes(start)) && JWT_START_AS_WORD.test(text);
/**
 * A JWT start that starts a word: "framework" and "homework" hold "ewo" mid-word, and sent every text
 * naming them through the three walks (checked only after the plain searches found a start).
 */
const JWT_START_AS_WORD = new RegExp(`(?<![A-Za-z0-9_-])(?:${JWT_STARTS})`);
const JWT_HEAD = String.raw`(?:${JWT_STARTS})[A-Za-z0-9_-]{5,8000}\.(?:${JWT_STARTS})[A-Za-z0-9_-]{2,8000}\.`;
// Signed: a signature of 10 characters or more (HMAC-SHA-256's is 43). Unsigned ("alg": "none"): the
// last dot and nothing after it, as RFC 7519 section 6.1 writes one; it carries the claims as a signed
// one does (a subject, an e-mail address). Only a header that says "none" makes one (unsignedHeader):
// a signed header and payload with their signature cut off, or a sentence's full stop after them,
// are no token.
const JWT_SIGNED_SHAPE = String.raw`${JWT_HEAD}[A-Za-z0-9_-]{10,8000}`;
const JWT_UNSIGNED_SHAPE = JWT_HEAD;
const JWT_RE = new RegExp(`(?<![A-Za-z0-9_-])${JWT_HEAD}(?:[A-Za-z0-9_-]{10,8000})?(?![A-Za-z0-9_-])`, 'g');

/** A JSON object's start, decoded: "{", blanks, and the first member's quote. */
export const JSON_OBJECT_START = /^\{[ \t\r\n]*"/;
/** Whether a base64url segment decodes to a JSON object's start (its first 24 characters: 18 bytes). */
function jsonObjectStart(segment: string): boolean {
  return JSON_OBJECT_START.test(Buffer.from(segment.slice(0, 24), 'base64url').toString('latin1'));
}
/** Whether a token's header and payload (pieces of a wrapped one joined) are JSON objects. */
function jwtSegments(token: string): boolean {
  const [header = '', payload = ''] = token.split('.');
  return jsonObjectStart(header) && jsonObjectStart(payload);
}

/** Whether a token's header is JSON naming no algorithm: "alg": "none" (in any case, as alg=none attacks write it). */
function unsignedHeader(token: string): boolean {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
    const alg = typeof header === 'object' && header !== null ? (header as { alg?: unknown }).alg : undefined;
    return typeof alg === 'string' && alg.toLowerCase() === 'none';
  } catch {
    return false;
  }
}

/** A JWT as the one-run regex reads it: JSON segments, and "none" in the header of an unsigned one. */
function jwtWhole(token: string): boolean {
  return jwtSegments(token) && (!token.endsWith('.') || unsignedHeader(token));
}

// OpenAI documents the prefixes only. The body is base64url around the "T3BlbkFJ" marker: 124
// characters after an admin key's prefix and 156 after a project or service account key's in the
// keys gitleaks' rule (openai-api-key) is tested on. The range around those leaves room for a length
// change without reading prose: nothing else puts a hundred base64url characters after "sk-proj-",
// and a prefixed key is taken on its prefix and a random-looking body (twoClasses), the marker not
// required: a key of a new kind without it is a key all the same. A legacy key is exactly 20 letters
// and digits, the marker, and 20 more.
const OPENAI_RE = /(?<![A-Za-z0-9_-])(?:sk-(?:proj|svcacct|admin)-([A-Za-z0-9_-]{100,400})|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})(?![A-Za-z0-9_-])/g;
// 93 base64url characters and "AA" (108 in all with the API key's prefix), as gitleaks' rules
// anthropic-api-key and anthropic-admin-api-key read them.
const ANTHROPIC_RE = /(?<![A-Za-z0-9_-])sk-ant-(?:api03|admin01)-([A-Za-z0-9_-]{93})AA(?![A-Za-z0-9_-])/g;
// Legacy GitLab tokens are 20 base64url characters after the prefix (a trigger token 40 hex digits,
// an incoming mail token 25, an agent token 50, an OAuth application secret 64); a routable one is a
// payload of 27-300 and ".", a two-character length and a CRC32 of seven, base 36, in newer versions
// with a two-character version and "." before them ("glpat-<payload>.01.0w1abc2de"). The payload ends
// where base64url does, so the version and CRC are read only after it; a sentence's full stop after a
// legacy token is no part of it.
const GITLAB_RE =
  /(?<![A-Za-z0-9_-])gl(?:pat|oas|dt|rt|cbt|ptt|ft|imt|agent|soat|ffct)-([A-Za-z0-9_-]{20,300})(?:\.[0-9a-z]{2}\.[0-9a-z]{9}|\.[0-9a-z]{9})?(?![A-Za-z0-9_-])/g;
// Letters only, exactly 34 (gitleaks' huggingface-access-token); "_" may not glue one to more of a
// name ("hf_hub_download", "hf_requiredCharacteristicTypes..."), nor follow it.
const HUGGINGFACE_RE = /(?<![A-Za-z0-9_])hf_([A-Za-z]{34})(?![A-Za-z0-9_])/g;
// GitHub's format for npm: 36 base62 characters, the last six a CRC32 checksum (github.blog,
// "Announcing npm's new access token format"). The checksum is not verified: its base62 alphabet is
// not documented.
const NPM_RE = /(?<![A-Za-z0-9_])npm_([A-Za-z0-9]{36})(?![A-Za-z0-9_])/g;

/**
 * Tokens of providers with no finding type of their own (findings.ts has no type per provider), each
 * in its documented shape as gitleaks' rules read it, anchored on both sides by the characters its
 * alphabet could glue to. Group 1 is the random part, which must not be a placeholder (twoClasses).
 * `holds`: what every token of the kind holds, as a pattern: one search for them all gates the
 * regexes (OTHER_TOKENS_GATE), and when it starts the token (`prefixed`) it joins TOKEN_PREFIXES.
 */
/**
 * Two shapes the destination check also names by their vendor (destinations/plainFields.ts
 * VENDOR_SHAPES), spelled once: an Entra ID client secret, and a New Relic user key (its body the
 * capture group each, for randomBody).
 */
export const ENTRA_CLIENT_SECRET = String.raw`[A-Za-z0-9_~.]{3}[0-9]Q~([A-Za-z0-9_~.-]{31,34})`;
export const NEW_RELIC_USER_KEY = String.raw`NRAK-([A-Z0-9]{27})`;

const OTHER_TOKENS: readonly { name: string; holds: string; prefixed: boolean; re: RegExp }[] = [
  // SendGrid API key: "SG.", a 22-character key id and a 43-character secret, base64url.
  { name: 'SendGrid', holds: String.raw`SG\.`, prefixed: true, re: /(?<![A-Za-z0-9_.-])SG\.([A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/g },
  // PyPI API token: "pypi-" and a macaroon in base64url; a macaroon (version 2) starts "AgE", and
  // PyPI's carry the location "pypi.org" ("AgEIcHlwaS5vcmc") or "test.pypi.org" right after: 150
  // characters and more, with a caveat or two. At least 80 here: shorter is no macaroon.
  { name: 'PyPI', holds: 'pypi-', prefixed: true, re: /(?<![A-Za-z0-9_-])pypi-(AgE[A-Za-z0-9_-]{80,})/g },
  // HashiCorp Vault service (hvs.), batch (hvb.) and recovery (hvr.) tokens of Vault 1.10 and later:
  // 90 characters and more of base64url (a batch token 138 to 212).
  { name: 'Vault', holds: String.raw`hv[sbr]\.`, prefixed: true, re: /(?<![A-Za-z0-9_.-])hv[sbr]\.([A-Za-z0-9_-]{90,})/g },
  // DigitalOcean personal access (dop_), OAuth (doo_) and refresh (dor_) tokens: 64 hex digits.
  { name: 'DigitalOcean', holds: 'do[por]_v1_', prefixed: true, re: /(?<![A-Za-z0-9_])do[por]_v1_([a-f0-9]{64})(?![A-Za-z0-9_])/g },
  // Postman API key: "PMAK-", 24 hex digits (an id), "-" and 34 more.
  { name: 'Postman', holds: 'PMAK-', prefixed: true, re: /(?<![A-Za-z0-9_-])PMAK-([a-fA-F0-9]{24}-[a-fA-F0-9]{34})(?![A-Za-z0-9_-])/g },
  // age secret key: Bech32 of human-readable part "AGE-SECRET-KEY-" written in upper case: "1" and 58
  // characters of Bech32's alphabet (32 bytes and the checksum).
  {
    name: 'age',
    holds: 'AGE-SECRET-KEY-1',
    prefixed: true,
    re: /(?<![A-Za-z0-9_-])AGE-SECRET-KEY-1([QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})(?![A-Za-z0-9_-])/g,
  },
  // Terraform Cloud / Enterprise API token: a 14-character id, ".atlasv1." and 60 to 70 characters.
  {
    name: 'Terraform Cloud',
    holds: String.raw`\.atlasv1\.`,
    prefixed: false,
    re: /(?<![A-Za-z0-9_.-])[A-Za-z0-9]{14}\.atlasv1\.([A-Za-z0-9_-]{60,70})(?![A-Za-z0-9_-])/g,
  },
  // Telegram bot token: the bot's id (8 to 10 digits), ":" and a secret of "AA" and 33 base64url
  // characters. Glued after letters, as the Bot API's URLs write it ("/bot123456789:AA.../getMe"); not
  // after more digits. The whole token is one secret: its id alone must not read as an SSN.
  { name: 'Telegram', holds: ':AA', prefixed: false, re: /(?<![0-9])[0-9]{8,10}:AA([A-Za-z0-9_-]{33})(?![A-Za-z0-9_-])/g },
  // Shopify access (shpat_), custom app (shpca_), private app (shppa_) tokens and app shared secrets
  // (shpss_): 32 hex digits.
  { name: 'Shopify', holds: 'shp(?:at|ca|pa|ss)_', prefixed: true, re: /(?<![A-Za-z0-9_])shp(?:at|ca|pa|ss)_([a-fA-F0-9]{32})(?![A-Za-z0-9_])/g },
  // Atlassian API token (Jira, Confluence): "ATATT3" and 186 base64url characters, the last of them
  // "=" and a checksum of eight hex digits. A range around that length, for one Atlassian lengthens.
  { name: 'Atlassian', holds: 'ATATT3', prefixed: true, re: /(?<![A-Za-z0-9_=-])ATATT3([A-Za-z0-9_=-]{150,250})(?![A-Za-z0-9_=-])/g },
  // Grafana service account token: 32 letters and digits, "_" and a CRC32 of 8 hex digits.
  { name: 'Grafana service account', holds: 'glsa_', prefixed: true, re: /(?<![A-Za-z0-9_])glsa_([A-Za-z0-9]{32}_[A-Fa-f0-9]{8})(?![A-Za-z0-9_])/g },
  // Grafana Cloud access policy token: base64 of a JSON object, 32 characters and more.
  { name: 'Grafana Cloud', holds: 'glc_', prefixed: true, re: /(?<![A-Za-z0-9_])glc_([A-Za-z0-9+/]{32,400}={0,3})(?![A-Za-z0-9+/=_])/g },
  // Sentry organization token: base64 of a JSON object ('{"iat":'), "_" and a 43-character secret;
  // user auth token: 64 hex digits.
  // Its parts spelled out (base64 without "_", one "_", the secret), as gitleaks reads them: "/" and
  // "=" may precede a start and belong to a body, and a body read as any run of its characters took in
  // the starts after it ("/sntrys_eyJ" repeated: each start read and backtracked up to 2,000
  // characters, a review's 1.5 s a MiB). The base64 part is read whole or not at all (a lookahead's
  // capture, matched again).
  {
    name: 'Sentry org',
    holds: 'sntrys_',
    prefixed: true,
    re: /(?<![A-Za-z0-9_])sntrys_(?=(eyJ[A-Za-z0-9+/]{40,1500}={0,2}))(\1_[A-Za-z0-9+/]{43})(?![A-Za-z0-9+/=_])/g,
  },
  { name: 'Sentry user', holds: 'sntryu_', prefixed: true, re: /(?<![A-Za-z0-9_])sntryu_([a-f0-9]{64})(?![A-Za-z0-9_])/g },
  // Databricks personal access token: "dapi", 32 hex digits, sometimes "-" and a digit. Lower-case hex
  // only: "dapiDataGet..." is a method's name.
  { name: 'Databricks', holds: 'dapi', prefixed: true, re: /(?<![A-Za-z0-9_])dapi([a-f0-9]{32})(?:-[0-9])?(?![A-Za-z0-9_])/g },
  // Docker Hub personal access token: 27 base64url characters.
  { name: 'Docker', holds: 'dckr_pat_', prefixed: true, re: /(?<![A-Za-z0-9_])dckr_pat_([A-Za-z0-9_-]{27})(?![A-Za-z0-9_-])/g },
  // Doppler personal (dp.pt.), CLI (dp.ct.) and service (dp.st., maybe naming its environment) tokens:
  // 40 to 44 letters and digits.
  {
    name: 'Doppler',
    holds: String.raw`dp\.[pcs]t\.`,
    prefixed: true,
    re: /(?<![A-Za-z0-9_.-])dp\.(?:pt|ct|st(?:\.[a-z0-9_-]{2,35})?)\.([A-Za-z0-9]{40,44})(?![A-Za-z0-9])/g,
  },
  // Linear API key: 40 letters and digits.
  { name: 'Linear', holds: 'lin_api_', prefixed: true, re: /(?<![A-Za-z0-9_])lin_api_([A-Za-z0-9]{40})(?![A-Za-z0-9_])/g },
  // Notion integration token: 11 digits and 35 letters and digits.
  { name: 'Notion', holds: 'ntn_', prefixed: true, re: /(?<![A-Za-z0-9_])ntn_([0-9]{11}[A-Za-z0-9]{35})(?![A-Za-z0-9_])/g },
  // Google OAuth 2.0 access token: "ya29." (a service account's "ya29.c.") and base64url, about 150
  // to 2,000 characters.
  { name: 'Google OAuth', holds: String.raw`ya29\.`, prefixed: true, re: /(?<![A-Za-z0-9_.-])ya29\.(?:[a-z]\.)?([A-Za-z0-9_-]{30,4096})(?![A-Za-z0-9_-])/g },
  // Fly.io access token (fo1_ and 43 base64url characters) and macaroon tokens (fm1a_, fm1r_, fm2_).
  { name: 'Fly.io', holds: 'fo1_', prefixed: true, re: /(?<![A-Za-z0-9_])fo1_([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/g },
  { name: 'Fly.io macaroon', holds: 'fm(?:1[ar]|2)_', prefixed: true, re: /(?<![A-Za-z0-9_])fm(?:1[ar]|2)_([A-Za-z0-9+/]{100,}={0,3})/g },
  // Supabase management API access token: 40 hex digits.
  { name: 'Supabase', holds: 'sbp_', prefixed: true, re: /(?<![A-Za-z0-9_])sbp_([a-f0-9]{40})(?![A-Za-z0-9_])/g },
  // Groq API key: 52 letters and digits.
  { name: 'Groq', holds: 'gsk_', prefixed: true, re: /(?<![A-Za-z0-9_])gsk_([A-Za-z0-9]{52})(?![A-Za-z0-9_])/g },
  // xAI API key: 80 letters and digits.
  { name: 'xAI', holds: 'xai-', prefixed: true, re: /(?<![A-Za-z0-9_-])xai-([A-Za-z0-9]{80})(?![A-Za-z0-9_-])/g },
  // Perplexity API key: 48 letters and digits.
  { name: 'Perplexity', holds: 'pplx-', prefixed: true, re: /(?<![A-Za-z0-9_-])pplx-([A-Za-z0-9]{48})(?![A-Za-z0-9_-])/g },
  // Heroku API key: "HRKU-" and a UUID, or (v2) "HRKU-AA" and 58 base64url characters.
  {
    name: 'Heroku',
    holds: 'HRKU-',
    prefixed: true,
    re: /(?<![A-Za-z0-9_-])HRKU-(AA[A-Za-z0-9_-]{58}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})(?![A-Za-z0-9_-])/g,
  },
  // Square access token (sq0atp-, 22 base64url characters, up to 60 in newer ones) and OAuth secret
  // (sq0csp-, 43): one range for both.
  { name: 'Square', holds: 'sq0(?:atp|csp)-', prefixed: true, re: /(?<![A-Za-z0-9_-])sq0(?:atp|csp)-([A-Za-z0-9_-]{22,60})(?![A-Za-z0-9_-])/g },
  // The kinds below are not read after "+", "/" or "=" either: inside base64 (a font or a wasm module
  // as a data: URI) "EAA" and the others start by chance, after a letter most often but not only
  // (an attacker's review found a font's base64 blocked as a Facebook token).
  // Google OAuth client secret (a web or desktop client's, since 2021): "GOCSPX-" and 28 base64url.
  { name: 'Google OAuth client', holds: 'GOCSPX-', prefixed: true, re: /(?<![A-Za-z0-9_+/=-])GOCSPX-([A-Za-z0-9_-]{28})(?![A-Za-z0-9_-])/g },
  // Microsoft Entra ID (Azure AD) client secret: three characters, a digit and "Q~" (the format's
  // marker), then 31 to 34 more of its alphabet; 40 in all today.
  {
    name: 'Entra ID client secret',
    holds: String.raw`\dQ~`,
    prefixed: false,
    re: new RegExp(String.raw`(?<![A-Za-z0-9_~.+/=-])${ENTRA_CLIENT_SECRET}(?![A-Za-z0-9_~.-])`, 'g'),
  },
  // New Relic user API key: "NRAK-" and 27 capitals and digits.
  { name: 'New Relic', holds: 'NRAK-', prefixed: true, re: new RegExp(String.raw`(?<![A-Za-z0-9_+/=-])${NEW_RELIC_USER_KEY}(?![A-Za-z0-9_-])`, 'g') },
  // Alibaba Cloud AccessKey id: "LTAI" and 20 letters and digits (the id is half of a pair, and the
  // pair's other half is rarely far: the id alone is refused as AWS's are).
  { name: 'Alibaba Cloud', holds: 'LTAI', prefixed: true, re: /(?<![A-Za-z0-9_+/=])LTAI([A-Za-z0-9]{20})(?![A-Za-z0-9_])/g },
  // Tencent Cloud SecretId: "AKID" and 32 letters and digits.
  { name: 'Tencent Cloud', holds: 'AKID', prefixed: true, re: /(?<![A-Za-z0-9_+/=])AKID([A-Za-z0-9]{32})(?![A-Za-z0-9_])/g },
  // Mailchimp API key: 32 hex digits, "-us" and the data centre's number.
  { name: 'Mailchimp', holds: '-us[0-9]', prefixed: false, re: /(?<![A-Za-z0-9_+/=-])([0-9a-f]{32})-us[0-9]{1,2}(?![A-Za-z0-9_-])/g },
  // Replicate API token: "r8_" and 37 letters and digits.
  { name: 'Replicate', holds: 'r8_', prefixed: true, re: /(?<![A-Za-z0-9_+/=])r8_([A-Za-z0-9]{37})(?![A-Za-z0-9_])/g },
  // GitLab runner registration token (deprecated, still issued): "GR1348941" and 20 base64url.
  { name: 'GitLab runner registration', holds: 'GR1348941', prefixed: true, re: /(?<![A-Za-z0-9_+/=-])GR1348941([A-Za-z0-9_-]{20})(?![A-Za-z0-9_-])/g },
  // This service's own API key (auth/apiKeys.ts): "aeg_" and 32 random bytes in base64url. An agent
  // or a pasted config holding one must not carry it to the SIEM any more than another vendor's.
  { name: 'Aegis API key', holds: 'aeg_', prefixed: true, re: /(?<![A-Za-z0-9_+/=])aeg_([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/g },
  // Facebook (Meta) access token: "EAA", a letter naming its kind, and 100 or more letters and digits.
  { name: 'Facebook', holds: 'EAA', prefixed: true, re: /(?<![A-Za-z0-9_+/=])EAA[A-Za-z]([A-Za-z0-9]{100,2000})(?![A-Za-z0-9_])/g },
];

/**
 * What any token of OTHER_TOKENS holds: one search of each field's text, instead of one per kind
 * (eight more passes over every text cost the API an eighth of its CPU per event).
 */
const OTHER_TOKENS_GATE = new RegExp(OTHER_TOKENS.map((t) => t.holds).join('|'));
/**
 * No token of OTHER_TOKENS is shorter (Square's, "sq0atp-" and 22, is 29): shorter texts (most of a
 * record's fields) skip even the gate, an alternation of every prefix tried at each position.
 */
const OTHER_TOKEN_MIN_LENGTH = 24;

/**
 * A token's random body, not a placeholder written in its place ("glpat-xxxxxxxxxxxxxxxxxxxx", "hf_"
 * and 34 x's, "npm_" and 36 zeros, "glpat-your_access_token_here"): see twoClasses. A Hugging Face
 * token's letters must so hold both cases.
 */
const randomBody = (_start: number, _end: number, m: RegExpExecArray) => twoClasses(m[1] ?? '');

/**
 * The prefixes of the tokens above, as a regular expression source: where the agent-record guard
 * looks for a token glued to an identifier ("pol_" + a token), and which prefixes the destination
 * check folds to lower case ("GHP_...", "HF_..."). One list, so a new kind of token is found there too.
 */
export const TOKEN_PREFIXES = [
  String.raw`gh[pousr]_|github_pat_|xox[abcdeoprs]-|xapp-|xwfp-|[sr]k_(?:live|test)_|whsec_|sk-(?:proj|svcacct|admin)-|sk-ant-(?:api03|admin01)-|gl(?:pat|oas|dt|rt|cbt|ptt|ft|imt|agent|soat|ffct)-|hf_|npm_`,
  ...OTHER_TOKENS.filter((t) => t.prefixed).map((t) => t.holds),
].join('|');

/** A word between a GitLab body's separators: letters of one case (a capital first), digits after. */
const WORD_SEGMENT = /^[A-Z]?[a-z]{4,}[0-9]*$/;
/** A segment prose has: a word (a capital first, digits after), or a number. */
const PLAIN_SEGMENT = /^(?:[A-Z]?[a-z]+[0-9]*|[0-9]+)$/;

/**
 * A GitLab body that reads as words ("glsoat-Service-Account-Token", "glft-feed-token-1234") is
 * GitLab's documentation naming a kind of token, not one: two word segments between "-" or "_", and
 * every segment plain. A random body has a separator in one character of 32, and a segment of mixed
 * case or letters after digits in nearly every run: none of 200,000 simulated bodies of 20, 64 or
 * 300 characters reads so.
 */
const gitlabBody = (start: number, end: number, m: RegExpExecArray) => {
  if (!randomBody(start, end, m)) return false;
  const segments = (m[1] ?? '').split(/[-_]/);
  return !(segments.filter((part) => WORD_SEGMENT.test(part)).length >= 2 && segments.every((part) => part === '' || PLAIN_SEGMENT.test(part)));
};

function isAlnum(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

// The wrapped forms. A classic GitHub token is its prefix and exactly 36 characters (what follows the
// last piece is the sentence); the joined body must look random (twoClasses), as prose glued
// together does not.
const GITHUB_CLASSIC_WHOLE_RE = /^gh[pousr]_[A-Za-z0-9]{36}$/;
const WRAPPED_GITHUB: WrappedKind = {
  type: 'GITHUB_TOKEN',
  prefix: /(?<![A-Za-z0-9_])gh[pousr]_/g,
  holds: ['gh'],
  bodyChar: isAlnum,
  length: 40,
  maxLength: 40,
  wordsEnd: true,
  whole: (token) => GITHUB_CLASSIC_WHOLE_RE.test(token) && twoClasses(token.slice(4)),
};
const STRIPE_WHOLE_RE = /^[sr]k_(?:live|test)_([A-Za-z0-9]{16,247})$/;
const WRAPPED_STRIPE: WrappedKind = {
  type: 'STRIPE_KEY',
  prefix: /(?<![A-Za-z0-9_])[sr]k_(?:live|test)_/g,
  holds: ['k_live_', 'k_test_'],
  bodyChar: isAlnum,
  // The prefix and the 16 characters the one-run regex wants.
  minLength: 24,
  maxLength: 255,
  wordsEnd: true,
  whole: (token) => {
    const body = STRIPE_WHOLE_RE.exec(token)?.[1];
    return body !== undefined && twoClasses(body);
  },
};
// A JWT's dots may have a break on either side ("...J9.\neyJ...", a token split into its segments).
// Two kinds: a signed token's first run may be whole as an unsigned one ("<header>.<payload>." with
// the signature on the next line), and the reader joins no run that is whole already.
const JWT_SIGNED_WHOLE_RE = new RegExp(`^${JWT_SIGNED_SHAPE}$`);
const JWT_UNSIGNED_WHOLE_RE = new RegExp(`^${JWT_UNSIGNED_SHAPE}$`);
const JWT_PREFIX_RE = new RegExp(JWT_START_AS_WORD.source, 'g');
const WRAPPED_JWT: WrappedKind = {
  type: 'JWT',
  prefix: JWT_PREFIX_RE,
  holds: JWT_START_LIST,
  bodyChar: (code) => isAlnum(code) || code === 0x2d || code === 0x5f,
  dots: 2,
  // Its three segments at their longest, and the two dots.
  maxLength: 3 * 8003 + 2,
  wordsEnd: true,
  whole: (token) => JWT_SIGNED_WHOLE_RE.test(token) && jwtSegments(token),
};
const WRAPPED_UNSIGNED_JWT: WrappedKind = {
  ...WRAPPED_JWT,
  maxLength: 2 * 8003 + 2,
  whole: (token) => JWT_UNSIGNED_WHOLE_RE.test(token) && jwtWhole(token),
};

export function detectTokens(given: string): Finding[] {
  const text = foldConfusables(given);
  return [
    ...regexFindings(text, GITHUB_RE, 'GITHUB_TOKEN', githubToken),
    ...wrappedFindings(text, WRAPPED_GITHUB),
    ...regexFindings(text, SLACK_RE, 'SLACK_TOKEN'),
    ...regexFindings(text, SLACK_COOKIE_RE, 'SLACK_TOKEN'),
    ...regexFindings(text, SLACK_WEBHOOK_RE, 'SLACK_TOKEN'),
    ...regexFindings(text, STRIPE_RE, 'STRIPE_KEY'),
    ...wrappedFindings(text, WRAPPED_STRIPE),
    ...(mayHoldJwt(text)
      ? [
          ...regexFindings(text, JWT_RE, 'JWT', (_s, _e, m) => jwtWhole(m[0])),
          ...wrappedFindings(text, WRAPPED_JWT),
          ...wrappedFindings(text, WRAPPED_UNSIGNED_JWT),
        ]
      : []),
    ...regexFindings(text, OPENAI_RE, 'OPENAI_API_KEY', (_s, _e, m) => m[1] === undefined || twoClasses(m[1])),
    ...regexFindings(text, ANTHROPIC_RE, 'ANTHROPIC_API_KEY', randomBody),
    ...regexFindings(text, GITLAB_RE, 'GITLAB_TOKEN', gitlabBody),
    ...regexFindings(text, HUGGINGFACE_RE, 'HUGGINGFACE_TOKEN', randomBody),
    ...regexFindings(text, NPM_RE, 'NPM_TOKEN', randomBody),
    ...(text.length >= OTHER_TOKEN_MIN_LENGTH && OTHER_TOKENS_GATE.test(text)
      ? OTHER_TOKENS.flatMap((t) => regexFindings(text, t.re, 'PASSWORD', randomBody))
      : []),
  ];
}
