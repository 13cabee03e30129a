/**
 * Cloud provider credentials.
 *
 * - AWS access key ids: AKIA (long-term) or ASIA (temporary, STS) followed by 16 upper-case letters or
 *   digits, not inside a longer run of that alphabet (a suffix in another case, "_" or "-" may
 *   follow); or the same id lower-cased (pasted from a case-folding tool, typed by
 *   hand), one case per id. A real id's 16 characters are base32 and nearly always hold a digit, while
 *   an all-letter lower-case run after "asia" is a word ("asiapacificnortheast"), so the lower-case
 *   form needs a digit.
 * - AWS secret access keys: 40 characters of base64 alphabet are far too common to report on their
 *   own, so a secret key is reported when it is the value given to a name that says so, right after
 *   it: assigned (aws_secret_access_key=..., "SecretAccessKey": "...", AWS_SECRET_KEY: ...,
 *   'aws_secret_access_key' => '...'), as an XML element's text (STS and IAM answer
 *   <SecretAccessKey>...</SecretAccessKey>), or after a space, as a command line takes it
 *   (aws configure set aws_secret_access_key ..., setenv AWS_SECRET_ACCESS_KEY ...). A space is
 *   enough because the value must be exactly 40 characters of the alphabet followed by none: prose
 *   that names the key ("the aws_secret_access_key parameter") goes on with words. The name may be
 *   written as words ("AWS Secret Access Key: ..."), linked to the value by "is" or "was" as prose
 *   and chat write it ("the aws secret access key was ..."; "is missing" is no 40-character value),
 *   or followed by the bracketed current value of the aws configure prompt
 *   ("AWS Secret Access Key [None]: ..."). Only the value is reported, so masking keeps the name for
 *   context.
 * - Google API keys: "AIza" followed by 35 characters of the URL-safe alphabet, also when more follow.
 */
import type { Finding } from '../findings.js';
import { regexFindings } from './common.js';

// An id ends where its own alphabet does: "AKIA...v2" and "akia...V2" are ids with a suffix.
// The id in each case: upper, or lower with a digit (an all-letter lower-case run is a word).
const AWS_ID_UPPER = '(?:AKIA|ASIA)[A-Z0-9]{16}';
const AWS_ID_LOWER = '(?:akia|asia)(?=[a-z]{0,15}[0-9])[a-z0-9]{16}';
const AWS_ACCESS_KEY_RE = new RegExp(`(?<![A-Za-z0-9])(?:${AWS_ID_UPPER}(?![A-Z0-9])|${AWS_ID_LOWER}(?![a-z0-9]))`, 'g');
// Between name and value: an assignment (":", "=", "=>"), the end of an XML start tag (the text may
// start on the next, indented line), "is" or "was" (with or without a colon), the aws configure
// prompt's bracket ("[None]", or the old key masked to its last four: "[****************EKEY]") and
// colon, or spaces. The words of the name may be separated by a space as well. The value may be
// quoted, in backticks too (chat and Markdown quote a value so).
const AWS_SECRET_KEY_RE =
  /(?:aws[ _-]?secret[ _-]?(?:access[ _-]?)?key|secret[ _-]?access[ _-]?key)["'`]?(?:[ \t]{0,4}(?:=>|[:=])[ \t]{0,4}["'`]?|>[ \t]{0,16}|[ \t]{1,4}(?:is|was)(?:[ \t]{0,4}:)?[ \t]{1,4}["'`]?|[ \t]{0,4}\[(?:None|\*{0,20}[A-Za-z0-9/+]{0,4})\][ \t]{0,4}:[ \t]{0,4}["'`]?|[ \t]{1,4}["'`]?)([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dgi;
// A secret right after its access key id, as the console's credentials.csv ("AKIA...,<secret>"),
// a table or a pasted pair writes them: the pair is printed together, and no name says which is which.
// The id ends where its alphabet does and something separates the two; the value has both cases, as
// 40 random base64 characters all but always do, so a SHA-1 in hex or a run of digits beside an id
// is no secret.
const AWS_SECRET_AFTER_ID_RE = new RegExp(
  String.raw`(?<![A-Za-z0-9])(?:${AWS_ID_UPPER}|${AWS_ID_LOWER})(?=[^A-Za-z0-9/+])["'${'`'}]?[ \t]{0,4}[,;|:=]?[ \t]{0,4}["'${'`'}]?(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[A-Z])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
  'dg',
);
// A key is exactly 39 characters: whatever follows them ("AIza...-x", "..._prod") is a suffix.
const GOOGLE_API_KEY_RE = /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}/g;

export function detectCloudKeys(text: string): Finding[] {
  return [
    ...regexFindings(text, AWS_ACCESS_KEY_RE, 'AWS_ACCESS_KEY'),
    ...regexFindings(text, AWS_SECRET_KEY_RE, 'AWS_SECRET_KEY'),
    ...regexFindings(text, AWS_SECRET_AFTER_ID_RE, 'AWS_SECRET_KEY'),
    ...regexFindings(text, GOOGLE_API_KEY_RE, 'GOOGLE_API_KEY'),
  ];
}
