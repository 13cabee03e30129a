/**
 * Cloud provider credentials.
 *
 * - AWS access key ids: AKIA (long-term) or ASIA (temporary, STS) followed by 16 upper-case letters or
 *   digits, not inside a longer run of that alphabet (a suffix in another case, "_" or "-" may
 *   follow); or the same id lower-cased (pasted from a case-folding tool, typed by
 *   hand), one case per id. A real id's 16 characters are base32 and nearly always hold a digit, while
 *   an all-letter lower-case run after "asia" is a word ("asiapacificnortheast"), so the lower-case
 *   form needs a digit. An upper-case id broken across lines ("AKIAIOSFOD\nNN7EXAMPLE") is found
 *   whole, its pieces joined across line breaks, with a digit too (WRAPPED_AWS_ID).
 * - AWS secret access keys: 40 characters of base64 alphabet are far too common to report on their
 *   own, so a secret key is reported when it is the value given to a name that says so, right after
 *   it: assigned (aws_secret_access_key=..., "SecretAccessKey": "...", AWS_SECRET_KEY: ...,
 *   'aws_secret_access_key' => '...', Go's and make's aws_secret_access_key := "...",
 *   AWS_SECRET_ACCESS_KEY ?= ..., a shell's default ${AWS_SECRET_ACCESS_KEY:-...}, padded as aligned
 *   columns pad it), as the quoted name's argument or
 *   subscript (conf.set("fs.s3a.secret.key", "..."), os.environ["AWS_SECRET_ACCESS_KEY"] = "..."), as
 *   an XML element's text (STS and IAM answer <SecretAccessKey>...</SecretAccessKey>) or a Hadoop
 *   property's value (<name>fs.s3a.secret.key</name><value>...</value>), as the value of a Kubernetes
 *   or ECS name/value pair (- name: AWS_SECRET_ACCESS_KEY / value: ...), in the table cell after the
 *   name's (|| SecretAccessKey | ... ||, as the CLI's --output table prints it), or after a space, as a
 *   command line takes it (aws configure set aws_secret_access_key ..., setenv AWS_SECRET_ACCESS_KEY
 *   ...). A space is enough because the value must be exactly 40 characters of the alphabet followed
 *   by none: prose that names the key ("the aws_secret_access_key parameter") goes on with words. The
 *   name may be written as words ("AWS Secret Access Key: ..."), or as a property path or its
 *   environment variable with aws, or an S3 client's name, up to six segments before it
 *   (cloud.aws.credentials.secret-key=..., -Daws.secretKey=..., SPRING_CLOUD_AWS_CREDENTIALS_SECRET_KEY,
 *   camel.component.aws2-s3.secret-key=..., fs.s3a.secret.key=..., s3.secret-key: ...); it must start
 *   a word ("jaws.secret.key" names nothing; "myawssecretkey" and "DBSecretAccessKey" do), and its
 *   words may be wrapped onto the next line. Where the name says less (path segments, bare "s3") or
 *   the value is only listed beside it (an argument, a CSV row), the value must also hold both cases.
 *   It may be linked to the value by "is" or "was" as prose
 *   and chat write it ("the aws secret access key was ..."; "is missing" is no 40-character value), or
 *   by "set to" (or "changed", "updated", "reset to", "setting <name> to") as logs write it, where the value
 *   must also hold both cases (logs set anything to a SHA-1 in hex); or followed by the bracketed
 *   current value of the aws configure prompt ("AWS Secret Access Key [None]: ..."). A generic
 *   secret_key counts only inside a Terraform aws provider or s3 backend block (provider "aws" {
 *   secret_key = "..." }, past nested blocks two levels deep; "provider": {"aws": {...}} in
 *   Terraform's JSON syntax, terraformJson.ts) or given to the s3 backend on the command line
 *   (-backend-config="secret_key=..."). A value may be in a placeholder's angle brackets
 *   (AWS_SECRET_ACCESS_KEY=<...>). A value of both cases right after its access key id
 *   ("AKIA...,<secret>", as the console's credentials.csv writes the pair), or right before it (a
 *   query that lists the secret first), also with a time between them (the key's creation as
 *   `aws iam create-access-key --output text` prints it, a session's expiry), needs no name. Cognito's SecretKey counts beside an access key id. Only the
 *   value is reported, so masking keeps the name for context.
 * - Google API keys: "AIza" followed by 35 characters of the URL-safe alphabet, also when more follow.
 */
import type { Finding } from '../findings.js';
import { firstIndex, regexFindings } from './common.js';
import { terraformJsonSecrets } from './terraformJson.js';
import { foldConfusables } from './tokens.js';
import { wrappedFindings, type WrappedKind } from './wrappedTokens.js';

// An id ends where its own alphabet does: "AKIA...v2" and "akia...V2" are ids with a suffix.
// The id in each case: upper, or lower with a digit (an all-letter lower-case run is a word).
const AWS_ID_UPPER = '(?:AKIA|ASIA)[A-Z0-9]{16}';
const AWS_ID_LOWER = '(?:akia|asia)(?=[a-z]{0,15}[0-9])[a-z0-9]{16}';
const AWS_ACCESS_KEY_RE = new RegExp(`(?<![A-Za-z0-9])(?:${AWS_ID_UPPER}(?![A-Z0-9])|${AWS_ID_LOWER}(?![a-z0-9]))`, 'g');
// An upper-case id written in groups of four, as a reader copies it out or a form splits it ("AKIA IOSF
// ODNN 7EXA MPL2", "AKIA-IOSF-..."): one separator, the same between every group, and a digit and a
// letter among the 16, as for a wrapped id (headings and labels in upper-case groups have no digit).
const AWS_ID_GROUPED_RE = /(?<![A-Za-z0-9])(?:AKIA|ASIA)([ -])[A-Z0-9]{4}(?:\1[A-Z0-9]{4}){3}(?![A-Za-z0-9])/g;
/** A digit and a letter among an id's 16 characters (and its separators). */
const digitAndLetter = (body: string): boolean => /[0-9]/.test(body) && /[A-Z]/.test(body);
const groupedId = (_s: number, _e: number, m: RegExpExecArray): boolean => digitAndLetter(m[0].slice(5));
// An upper-case id broken across lines ("AKIAIOSFOD\nNN7EXAMPLE", wrappedTokens.ts): joined, exactly
// the id's 20 characters. Its pieces are upper case and digits, which headings and acronyms spell
// too, so only a line break joins them (never a lone space: "ASIAN MARKETS Q3 REPORT"), and, as for
// the lower-case form, the 16 must hold a digit (random base32 lacks one about once in 28; all-caps
// lines, "ASIA\nPACIFIC\nEXPANSION", nearly always do).
const AWS_ID_WHOLE_RE = new RegExp(`^${AWS_ID_UPPER}$`);
const WRAPPED_AWS_ID: WrappedKind = {
  type: 'AWS_ACCESS_KEY',
  prefix: /(?<![A-Za-z0-9])(?:AKIA|ASIA)/g,
  holds: ['AKIA', 'ASIA'],
  bodyChar: (code) => (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a),
  length: 20,
  maxLength: 20,
  lineBreaksOnly: true,
  wordsEnd: false,
  // A digit and a letter: "Region ASIA\n1234567890123456 units" is a region and a number.
  whole: (token) => AWS_ID_WHOLE_RE.test(token) && digitAndLetter(token.slice(4)),
};
// A secret's value: exactly 40 characters of the base64 alphabet, followed by none (group 1, the span
// reported), maybe quoted (in backticks too, as chat and Markdown quote a value), or in the angle
// brackets of a placeholder filled in ("AWS_SECRET_ACCESS_KEY=<...>").
// The brackets are a pair: a "<" with no ">" after the value is a shell's redirection
// ("read AWS_SECRET_ACCESS_KEY </run/secrets/...").
const QUOTE = `["'${'`'}]?`;
const ANGLE_OPEN = '(?:<(?=[A-Za-z0-9/+]{40}>))?';
const AWS_SECRET_BARE = '([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])';
const AWS_SECRET_VALUE = `${ANGLE_OPEN}${AWS_SECRET_BARE}`;
// Both cases among 40 characters of the alphabet, as 40 random base64 characters all but always hold
// them: where the context alone is weak, a SHA-1 in hex or a run of digits is no secret. A lookahead
// source for a case-sensitive regex.
const BOTH_CASES_40 = '(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[A-Z])';
const BOTH_CASES_40_RE = new RegExp(`^${BOTH_CASES_40}`);
// The name: "secret key" or "secret access key" after "aws" (run together, or separated by a space,
// "_", "-" or, as a property path writes it, "."), or "secret access key" alone. Between "aws" and
// the name a property path may hold up to six segments, separated by "." or, as its environment
// variable writes it, "_" ("cloud.aws.credentials.secret-key", "-Daws.secretKey",
// SPRING_CLOUD_AWS_CREDENTIALS_SECRET_KEY, a bucket "logs.example.com" in an S3A path); "aws" may be
// a component's name ("camel.component.aws2-s3.secret-key"), and S3 clients' own names stand for it
// ("fs.s3a.secret.key", Flink's "s3.secret-key", Druid's "druid.s3.secretKey"). The name must start
// a word (nameStartsWord): "jaws.secret.key" and "laws secret key" name nothing. Words may also be
// two spaces apart: a line break between them reads so (events/normalize.ts). A name with path
// segments, or with S3's bare "s3", says less than aws_secret_access_key does, so its value must
// hold both cases too (secretNameAccepted). Every quantifier is bounded, so the work per start is too.
const WORD_GAP = '(?:[._-]|[ \\t]{1,2})?';
const SECRET_KEY_WORDS = `secret${WORD_GAP}(?:access${WORD_GAP})?key`;
const SECRET_ACCESS_KEY = `secret${WORD_GAP}access${WORD_GAP}key`;
// "aws", or a component's ("aws2", "aws-s3"); S3 clients' "s3" and "s3a" stand for it in AWS_SCOPE.
const AWS_COMPONENT = 'aws[0-9]?(?:-[a-z0-9]{1,16})?';
const AWS_SCOPE = `(?:${AWS_COMPONENT}|s3a?)`;
// Shorter names some tools give it, which say less (the value must hold both cases): Pulumi's config
// key "aws:secretKey", the CI variable "AWS_SECRET", Fluentd's S3 parameter "aws_sec_key". Each was
// a whole key in the clear.
const AWS_SHORT_NAME = `aws(?::secret(?:access)?key|[_ .-]sec(?:ret)?(?:[_ .-]key)?)(?![A-Za-z0-9_])`;
const AWS_SECRET_NAME = `(?:${AWS_SCOPE}(?:(?:[._][a-z0-9-]{1,63}){0,6}[._]|${WORD_GAP})${SECRET_KEY_WORDS}|${SECRET_ACCESS_KEY}|${AWS_SHORT_NAME})`;
// The names that need no more than themselves: aws (or a component's aws, or S3A) and the words
// right after it, or "secret access key" (what secretNameAccepted tells apart).
const DIRECT_NAME_RE = new RegExp(`^(?:(?:${AWS_COMPONENT}|s3a)${WORD_GAP}${SECRET_KEY_WORDS}|${SECRET_ACCESS_KEY})`, 'i');
// A name run together, as an identifier glues it ("myawssecretkey").
const GLUED_NAME_RE = /^(?:aws[0-9]?|s3a?)?secret(?:access)?key/i;
// A table's cell border: ASCII (the CLI's --output table, Markdown) or box drawing (psql, rich,
// tabulate's grids).
const BORDER_CHARS = '[|│┃║¦┆]';
const CELL_BORDER = `${BORDER_CHARS}{1,2}`;
// From a name's cell to its value's: the border, padded as columns pad it.
const CELL_LINK = `[ \\t]{0,64}${CELL_BORDER}[ \\t]{0,64}`;
// Markdown's emphasis around a name or a value ("**SecretAccessKey**", "__...__", "*...*").
const EMPHASIS = '[*_]{1,2}';
// A link that only lists the value beside the name (an argument, a subscript, a CSV row, a table's
// next cell, a bold name's asterisks before it).
const LISTING_LINK_RE = new RegExp(`^["'\`]?(?:${EMPHASIS})?(?:[ \\t]{0,4}[,\\]]|:?(?:${EMPHASIS})?[ \\t]{0,64}${BORDER_CHARS})`);
// Blanks around an assignment, as aligned columns pad them (terraform fmt, tfvars, YAML).
const PAD = '[ \\t]{0,32}';
// Between name and value:
// - an assignment (":", "=", "=>", Go's and make's ":=", "::=", "?=", and a shell's or compose
//   file's default, "${AWS_SECRET_ACCESS_KEY:-...}");
// - the quoted name's argument or subscript ('set("fs.s3a.secret.key", "..."',
//   'environ["..."] = "..."');
// - the end of an XML start tag (the text may start on the next, indented line), or of a Hadoop
//   property's name and the start of its value (<name>fs.s3a.secret.key</name><value>...); a "<"
//   there starts a tag, never a value in brackets;
// - the value of a name/value pair, as Kubernetes and ECS list environment variables
//   ("- name: AWS_SECRET_ACCESS_KEY" then "value: ...", or {"name": "...", "value": "..."});
// - "is" or "was" (with or without a colon);
// - the aws configure prompt's bracket ("[None]", or the old key masked to its last four:
//   "[****************EKEY]") and colon;
// - a table's cell border, padded as columns pad it ("||  SecretAccessKey |  ...  ||", as
//   `aws ... --output table` prints an answer, a Markdown row with the name or value in bold, psql's
//   and tabulate's box drawing); a cell only lists the value beside the name, so the value must hold
//   both cases. The name may be emphasised in any of these, in or out of its quotes, and so may the
//   value ("**AWS Secret Access Key**: ...", "| **`SecretAccessKey`** | ...", "...: **<value>**",
//   "| SecretAccessKey: | ...");
// - or spaces.
const AWS_SECRET_KEY_RE = new RegExp(
  String.raw`${AWS_SECRET_NAME}${QUOTE}(?:${EMPHASIS})?(?:${PAD}(?:=>|::?=|\?=|:-|[:=])(?:${EMPHASIS})?${PAD}(?:${EMPHASIS})?${QUOTE}|[ \t]{0,4}(?:,|\][ \t]{0,4}=)${PAD}${QUOTE}|[ \t]{0,4}(?:,[ \t]{0,4}["']?)?value["']?[ \t]{0,4}[:=][ \t]{0,4}${QUOTE}|>[ \t]{0,16}(?!<)|<\/name>[ \t]{0,32}<value>[ \t]{0,16}(?!<)|[ \t]{1,4}(?:is|was)(?:[ \t]{0,4}:)?[ \t]{1,4}${QUOTE}|[ \t]{0,4}\[(?:None|\*{0,20}[A-Za-z0-9/+]{0,4})\][ \t]{0,4}:[ \t]{0,4}${QUOTE}|:?(?:${EMPHASIS})?${CELL_LINK}(?:${QUOTE}|${EMPHASIS})|[ \t]{1,4}${QUOTE})${AWS_SECRET_VALUE}`,
  'dgi',
);
// "set to" (or "changed", "updated", "rotated", "reset to"; after "is", "was", "has been", "had
// been", "now" too), and "setting <name> to" (or "resetting", "updating", "changing"), as logs write
// the value of a setting. Logs write it of any setting ("HEAD set to <sha1>"), so the value must
// also have both cases; the regex is case-insensitive for the name, so that is checked on the value
// (secretSetToAccepted).
const AWS_SECRET_SET_TO_RE = new RegExp(
  String.raw`(?:(?:(?:re)?setting|updating|changing)[ \t]{1,4}${AWS_SECRET_NAME}${QUOTE}[ \t]{1,4}to|${AWS_SECRET_NAME}${QUOTE}[ \t]{1,4}(?:(?:is|was|ha[sd][ \t]{1,4}been)[ \t]{1,4})?(?:now[ \t]{1,4})?(?:set|changed|updated|rotated|reset)[ \t]{1,4}to)(?:[ \t]{0,4}:)?[ \t]{1,4}${QUOTE}${AWS_SECRET_VALUE}`,
  'dgi',
);
/**
 * Whether the name matched at `at` starts a word. Only a small letter right before a small first
 * letter joins it to a word ("jaws.secret.key", "laws secret key"), and even then a name run together
 * starts one, as identifiers glue words ("myawssecretkey"). A capital or a digit before it starts one
 * ("MYAWS_SECRET_KEY", "user1SecretAccessKey"), and so does a capital after a small letter
 * ("myAwsSecretKey"). Checked here because the name's regex is case-insensitive, where a look-behind
 * cannot tell the cases apart.
 */
function nameStartsWord(text: string, at: number): boolean {
  if (!isSmallLetter(text.charCodeAt(at - 1)) || !isSmallLetter(text.charCodeAt(at))) return true;
  return GLUED_NAME_RE.test(text.slice(at, at + 24));
}
function isSmallLetter(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}
/** A name that starts a word; one that says less than a direct name (see above) needs both cases too. */
// A SHA-1 in hex, of one case.
const HEX_DIGEST = /^(?:[0-9a-f]{40}|[0-9A-F]{40})$/;
// Only blanks (and the value's quote) between the name and the value.
const BLANK_LINK_RE = /^["'`]?[ \t]+["'`]?$/;

/**
 * A direct name makes its value a key whatever its cases (an S3-compatible store's secret may be
 * hex: `openssl rand -hex 20`), except a one-case hex value after no more than blanks: that is a
 * commit's SHA-1 after a subject or a message naming the key ("Rotate AWS secret key" then the next
 * line of `git log --oneline`, "Removed AWS_SECRET_ACCESS_KEY <sha>"), as security engineers tracing
 * a leak paste them.
 */
function secretNameAccepted(_start: number, _end: number, m: RegExpExecArray): boolean {
  if (!nameStartsWord(m.input, m.index)) return false;
  const head = m.input.slice(m.index, m.indices?.[1]?.[0] ?? m.index);
  const direct = DIRECT_NAME_RE.exec(head);
  const link = direct ? head.slice(direct[0].length) : '';
  if (direct && !LISTING_LINK_RE.test(link)) return !(BLANK_LINK_RE.test(link) && HEX_DIGEST.test(m[1] as string));
  return BOTH_CASES_40_RE.test(m[1] as string);
}
function secretSetToAccepted(_start: number, _end: number, m: RegExpExecArray): boolean {
  return nameStartsWord(m.input, m.index) && BOTH_CASES_40_RE.test(m[1] as string);
}
// secret_key in a Terraform aws provider or s3 backend block, where the block says what the generic
// name is for (HCL is case-sensitive, so is the regex): up to the block's end, past its nested blocks,
// maps and interpolations ("${var.region}", "assume_role { ... }", "tags = { ... }", two levels
// deep), with "=" aligned as terraform fmt pads it. A match starts only at "provider" or "backend",
// and a body's scan stops at the brace that ends it or at a third level: linear per start.
const TF_BLOCK = String.raw`\{(?:[^{}]|\{[^{}]{0,500}\}){0,500}\}`;
// The shortest run of a block's body, its nested blocks skipped whole, up to what follows it.
const TF_SKIP = String.raw`(?:[^{}]|${TF_BLOCK}){0,1000}?`;
const AWS_TERRAFORM_SECRET_RE = new RegExp(
  String.raw`(?:provider|backend)[ \t]{1,4}"?(?:aws|s3)"?[ \t]{0,4}\{${TF_SKIP}(?<![A-Za-z0-9_])secret_key[ \t]{0,64}=[ \t]{0,64}"${AWS_SECRET_VALUE}>?"`,
  'dg',
);
// The same blocks in Terraform's JSON syntax, as a bounded regex beside terraformJson.ts's walk: the
// walk reads JSON, and stops where a string held an escaped quote or JSON of its own (the normalizer
// decoded them: an assume_role policy, "Team \"Blue\"" in a tag); this reads braces only, two
// levels deep, and finds the first secret_key of an aws object whatever its strings hold. A list's
// scan stops at a "[" outside its objects, where a next "provider": [ starts, so each start scans its
// own list only.
const TF_JSON_GAP = '[ \\t]{0,64}';
const AWS_TERRAFORM_JSON_SECRET_RE = new RegExp(
  String.raw`"(?:provider|backend)"${TF_JSON_GAP}:${TF_JSON_GAP}(?:\[(?:[^{}[\]]|${TF_BLOCK}){0,100}?)?\{${TF_SKIP}"(?:aws|s3)"${TF_JSON_GAP}:${TF_JSON_GAP}(?:\[${TF_JSON_GAP})?\{${TF_SKIP}"secret_key"${TF_JSON_GAP}:${TF_JSON_GAP}"${AWS_SECRET_VALUE}>?"`,
  'dg',
);
// The s3 backend's settings given on the command line: terraform init -backend-config="secret_key=...",
// the value maybe on the next line after a shell's "\" (a line break reads as blanks), quoted for a
// shell, or for PowerShell with a backtick.
const AWS_BACKEND_CONFIG_SECRET_RE = new RegExp(
  String.raw`-backend-config(?:=|[ \t]{1,16}(?:\\[ \t]{1,16})?)${'`'}?["']?secret_key[ \t]{0,4}=[ \t]{0,4}(?:\\|${'`'})?["']?${AWS_SECRET_VALUE}`,
  'dg',
);
// A secret right after its access key id, as the console's credentials.csv ("AKIA...,<secret>"),
// a table or a pasted pair writes them: the pair is printed together, and no name says which is which.
// The id ends where its alphabet does and something separates the two; the value has both cases, so
// a SHA-1 in hex or a run of digits beside an id is no secret.
//
// Between them (PAIR_SEPARATOR): blanks (a line break reads as two), a CSV's or config's separator, a
// table's cell borders (one on each line when the CLI prints a --query's list as a table, one value a
// row, its column padded), or a YAML list's dash (--output yaml). A run of blanks is read whole or not
// at all (it may not have a blank on either side), so that no input can make a match try every
// shorter part of every run, forwards or, in the look-behind of AWS_SECRET_BEFORE_ID_RE, backwards:
// each id then costs a bounded number of steps. Up to 1,024 blanks: the CLI pads a --query's list
// printed as a table to its widest value, and a session token is hundreds of characters wide.
const BLANKS = String.raw`(?<![ \t])[ \t]{0,1024}(?![ \t])`;
const PAIR_SEPARATOR = String.raw`(?=[^A-Za-z0-9/+])${QUOTE}${BLANKS}(?:(?:[,;:=]|${CELL_BORDER}(?:[ \t]{0,8}${CELL_BORDER})?|-(?=[ \t]))${BLANKS})?${QUOTE}`;
// A time may stand between them (KEY_CREATED): `aws iam create-access-key --output text` (and a table
// of its answer) prints the columns in name order, AccessKeyId, CreateDate, SecretAccessKey, Status,
// UserName, and a session's answer its Expiration there. The time as ISO 8601 (the AWS CLI, v1 with
// milliseconds; logs' "," and " UTC"), as a locale's date
// and time (PowerShell's "12/3/2026 5:11:17 AM", "03.12.2026 05:11:17", "2026/12/03 5:11:17",
// "3-12-2026", "5:11:17 a.m."), or as epoch seconds or milliseconds (Cognito's and SSO's credentials,
// `aws sso get-role-credentials --output text`).
const AM_PM = String.raw`(?: ?(?:[AP]M|[ap]\.m\.))?`;
const KEY_CREATED = [
  String.raw`\d{4}-\d{2}-\d{2}(?:[Tt ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?${AM_PM}(?:[Zz]|[+-]\d{2}(?::?\d{2})?| UTC)?)?`,
  String.raw`(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}/\d{1,2}/\d{1,2})(?: \d{1,2}:\d{2}(?::\d{2})?${AM_PM})?`,
  String.raw`\d{10}(?:\d{3}|\.\d{1,9})?`,
].join('|');
const PAIR_GAP = `(?:${PAIR_SEPARATOR}(?:${KEY_CREATED}))?${PAIR_SEPARATOR}`;
const AWS_SECRET_AFTER_ID_RE = new RegExp(
  String.raw`(?<![A-Za-z0-9])(?:${AWS_ID_UPPER}|${AWS_ID_LOWER})${PAIR_GAP}${ANGLE_OPEN}${BOTH_CASES_40}${AWS_SECRET_BARE}`,
  'dg',
);
// The same pair the other way round, the secret first (a --query that lists SecretAccessKey before
// AccessKeyId, a table of those columns): tried at each id found, sticky, the secret read back from
// it by a look-behind. A pattern starting at the secret would try both cases' lookaheads at every
// character of every long run of letters and digits, and one starting with the look-behind would run
// it at every character of the text (half the detectors' speed on prose).
const AWS_SECRET_BEFORE_ID_RE = new RegExp(
  String.raw`(?<=(?<![A-Za-z0-9/+])${QUOTE}${ANGLE_OPEN}${BOTH_CASES_40}${AWS_SECRET_BARE}>?${PAIR_GAP})(?:${AWS_ID_UPPER}(?![A-Z0-9])|${AWS_ID_LOWER}(?![a-z0-9]))`,
  'dy',
);

function secretsBeforeIds(text: string, ids: readonly Finding[]): Finding[] {
  const out: Finding[] = [];
  for (const id of ids) {
    AWS_SECRET_BEFORE_ID_RE.lastIndex = id.start;
    const span = AWS_SECRET_BEFORE_ID_RE.exec(text)?.indices?.[1];
    if (span) out.push({ type: 'AWS_SECRET_KEY', start: span[0], end: span[1] });
  }
  return out;
}

// Cognito's name for the secret: GetCredentialsForIdentity answers {"AccessKeyId": ..., "SecretKey":
// ..., "SessionToken": ...}, and its SDKs' credentials have accessKeyId and secretKey. A bare SecretKey
// names too many things (every payment and API service has one), so it counts only with an access
// key id near it (idNear) and a value of both cases. Linked as the SDKs, PHP (=>, print_r's
// [SecretKey] => ...) and tables write it; the name may be in bold.
const COGNITO_SECRET_RE = new RegExp(
  String.raw`(?<![A-Za-z0-9_])[Ss]ecretKey${QUOTE}\]?(?:${EMPHASIS})?(?:${PAD}(?:=>|[:=])(?:${EMPHASIS})?${PAD}|${CELL_LINK})${QUOTE}${ANGLE_OPEN}${BOTH_CASES_40}${AWS_SECRET_BARE}`,
  'dg',
);
const BORDER_RE = new RegExp(BORDER_CHARS);
/**
 * How far the access key id may be: 300 characters, or in a table 4,096, since the CLI's --output
 * table pads every row to the session token's width (over a thousand characters), two rows apart.
 */
const COGNITO_ID_REACH = 300;
const COGNITO_TABLE_ID_REACH = 4096;

/** Whether one of `ids` (in text order) ends or starts within `reach` of [start, end). */
function idNear(ids: readonly Finding[], start: number, end: number, reach: number): boolean {
  // The first id that ends at or after start - reach.
  const first = firstIndex(ids.length, (k) => ids[k]!.end >= start - reach);
  return first < ids.length && ids[first]!.start <= end + reach;
}

function cognitoSecrets(text: string, ids: readonly Finding[]): Finding[] {
  if (ids.length === 0) return [];
  return regexFindings(text, COGNITO_SECRET_RE, 'AWS_SECRET_KEY', (start, end, m) => {
    // Between the name and its value: a table's border, or an assignment.
    const table = BORDER_RE.test(text.slice(m.index, start));
    return idNear(ids, start, end, table ? COGNITO_TABLE_ID_REACH : COGNITO_ID_REACH);
  });
}

// A key is exactly 39 characters: whatever follows them ("AIza...-x", "..._prod") is a suffix.
const GOOGLE_API_KEY_RE = /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}/g;

/**
 * Fewer distinct characters than this among a value's 40 is a placeholder ("xxxx...", "0000...",
 * "XXXXXXXXXX" in an .env.example or the docs), not a key: 40 random characters of the 64-letter
 * alphabet hold about 30 distinct ones, and fewer than 12 comes up less than once in 10^20 keys.
 */
const MIN_DISTINCT_SECRET_CHARS = 12;

/** Whether a value a secret rule found can be a key at all: not a placeholder. */
function mayBeSecret(value: string): boolean {
  return new Set(value).size >= MIN_DISTINCT_SECRET_CHARS;
}

export function detectCloudKeys(given: string): Finding[] {
  // An id's prefix typed with a look-alike letter ("\u0410KIA...") is the id (tokens.ts foldConfusables).
  const text = foldConfusables(given);
  const ids = [...regexFindings(text, AWS_ACCESS_KEY_RE, 'AWS_ACCESS_KEY'), ...regexFindings(text, AWS_ID_GROUPED_RE, 'AWS_ACCESS_KEY', groupedId)];
  const wrappedIds = wrappedFindings(text, WRAPPED_AWS_ID);
  const secrets = [
    ...regexFindings(text, AWS_SECRET_KEY_RE, 'AWS_SECRET_KEY', secretNameAccepted),
    ...regexFindings(text, AWS_SECRET_SET_TO_RE, 'AWS_SECRET_KEY', secretSetToAccepted),
    ...regexFindings(text, AWS_TERRAFORM_SECRET_RE, 'AWS_SECRET_KEY'),
    ...terraformJsonSecrets(text),
    ...regexFindings(text, AWS_TERRAFORM_JSON_SECRET_RE, 'AWS_SECRET_KEY'),
    ...regexFindings(text, AWS_BACKEND_CONFIG_SECRET_RE, 'AWS_SECRET_KEY'),
    ...regexFindings(text, AWS_SECRET_AFTER_ID_RE, 'AWS_SECRET_KEY'),
    ...secretsBeforeIds(text, ids),
    ...cognitoSecrets(text, ids),
  ];
  return [
    ...ids,
    ...wrappedIds,
    ...secrets.filter((f) => mayBeSecret(text.slice(f.start, f.end))),
    ...regexFindings(text, GOOGLE_API_KEY_RE, 'GOOGLE_API_KEY'),
  ];
}
