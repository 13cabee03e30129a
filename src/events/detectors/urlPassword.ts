/**
 * A password in a URL's user part: `postgres://admin:S3cr3t@db-primary:5432/prod`, as connection
 * strings (DATABASE_URL, a broker's or a cache's URL, a proxy's) carry it into logs, errors and
 * prompts. A password has no shape of its own; its place in the URL is what tells it. Only the
 * password is reported, so the mask keeps the rest readable
 * (`postgres://admin:[PASSWORD]@db-primary:5432/prod`), and the event is blocked.
 *
 * The URL needs a scheme (`[a-z][a-z0-9+.-]*://`, any case: `jdbc:postgresql://`, `MongoDB+SRV://`),
 * then a user part `user:password@` with a non-empty password (the user may be empty:
 * `redis://:password@cache`). As a URL parser reads it, the authority runs to the first `/`, `?`, `#`
 * or `\`, the user part to its last `@`, and the user to the first `:` of that; so a password may
 * hold `:` and, once the normalizer has decoded `%40`, `@` (`p%40ss` reads `p@ss`).
 *
 * The normalizer decodes `%2F`, `%3F` and `%23` too, so a password holding one of them reads as if
 * the authority ended inside it (`u:p%2Fs@db` is `u:p/s@db`). When no `@` ends the authority, and
 * what follows its `:` is not a port (digits, or a placeholder: `:${PORT}/`), the password runs on past that character to the
 * first `@` (never past another `:`, a blank or a quote); `https://host:443/users/@jane` is a port
 * and a path.
 *
 * Placeholders are not reported: the guard refuses a record holding any secret, and a template's
 * `${DB_PASSWORD}`, `$DB_PASSWORD`, `%(password)s`, `{{password}}`, `<password>`, `[PASSWORD]` (this
 * project's own mask), runs of `*`, `x` or `.`, and the word `password` itself (as every README's
 * example writes it) are no value. A `<` or `>` ends the authority, as it cannot stand in a URL
 * unencoded.
 *
 * Linear time: the scan starts at each `://`; an authority ends at the next `/` at the latest (so the
 * authorities of two `://` never overlap), and a password run on past one at the next `:`, which
 * every later `://` starts with. Both are bounded as well.
 */
import type { Finding } from '../findings.js';
import { isAsciiLetter, isDigit } from './common.js';

const MAX_SCHEME = 32;
/** Longer than any user, password and host; a run past it is read up to it. */
const MAX_AUTHORITY = 1024;
/** How far a password may run on past a decoded `/`, `?`, `#` or `\`. */
const MAX_SPLIT_PASSWORD = 256;

/** Characters a URL parser ends the authority at. */
const AUTHORITY_END = '/?#\\';
/** Characters that end a URL in text: blanks (the normalizer made every blank a space), quotes, angle brackets. */
const URL_END = ' "\'`<>';

// An environment variable bare ("$DB_PASSWORD", "%DB_PASSWORD%") only in capitals: a password may
// start with "$" ("$ecr3t").
const PLACEHOLDER =
  /^(?:\$\{\{.*\}\}|\$\{[^{}]*\}|\$\([^()]*\)|\$[A-Z_][A-Z0-9_]*|%[A-Z_][A-Z0-9_]*%|%\([A-Za-z_][A-Za-z0-9_]*\)s|\{\{.*\}\}|\{[^{}]*\}|#\{[^{}]*\}|<[^<>]*>|\[[^[\]]*\]|\*+|x+|X+|\.+|…+|[•·]+|#+)$/;
/** A redaction as loggers write it ("***REDACTED***", "[FILTERED]" is a bracket above). */
const REDACTION = /^\**(?:redacted|filtered|masked|hidden|removed)\**$/i;
/** A word that names the field instead of filling it, bare or as "your_password", "DB-PASSWORD". */
const PLACEHOLDER_WORD = /^(?:(?:your|my|the|db|database)[-_.]?)?(?:password|passwd|pass|pwd|redacted|token|secret|null|undefined|none)$/i;

/** Whether a password is a template's or an example's stand-in (see above), no value. Also read for a Basic pair (basicAuth.ts). */
export function isPlaceholder(password: string): boolean {
  if (PLACEHOLDER.test(password) || PLACEHOLDER_WORD.test(password) || REDACTION.test(password)) return true;
  // As a URL writes a template in its user part ("$%7BDB_PASSWORD%7D", "%3Cpassword%3E").
  if (!password.includes('%')) return false;
  try {
    const decoded = decodeURIComponent(password);
    return PLACEHOLDER.test(decoded) || PLACEHOLDER_WORD.test(decoded) || REDACTION.test(decoded);
  } catch {
    return false;
  }
}

function isSchemeChar(c: string | undefined): boolean {
  return isAsciiLetter(c) || isDigit(c) || c === '+' || c === '.' || c === '-';
}

/** Whether a scheme ends right before `sep` (a run of scheme characters with a letter in it). */
function schemeBefore(text: string, sep: number): boolean {
  for (let k = sep - 1; k >= 0 && sep - k <= MAX_SCHEME && isSchemeChar(text[k]); k--) if (isAsciiLetter(text[k])) return true;
  return false;
}

function allDigits(text: string, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (!isDigit(text[k])) return false;
  return true;
}

/** The password's span in the authority starting at `start`, or null. */
function passwordSpan(text: string, start: number): [number, number] | null {
  let end = start;
  let colon = -1;
  let lastAt = -1;
  for (; end < text.length && end - start < MAX_AUTHORITY; end++) {
    const c = text[end] as string;
    if (AUTHORITY_END.includes(c) || URL_END.includes(c)) break;
    // An IPv6 host ("http://[::1]:5173/@vite/client"): its colons are no user part's, which holds no "[".
    if (c === '[' && lastAt === -1 && colon === -1) return null;
    if (c === ':' && colon === -1) colon = end;
    else if (c === '@') lastAt = end;
  }
  if (lastAt !== -1) return colon !== -1 && colon < lastAt ? [colon + 1, lastAt] : null;
  // No "@" in the authority: a password holding a decoded "/", "?", "#" or "\" runs on to its "@".
  // What stands before that character must be no port, not even a template's (`:${PORT}/`).
  // Nor a port's name (":PORT/", ":port/"): letters alone before the decoded character are read as one;
  // a password holding an encoded "/" is still found in the text as written (detect.ts reads both).
  if (
    colon === -1 ||
    !AUTHORITY_END.includes(text[end] ?? ' ') ||
    allDigits(text, colon + 1, end) ||
    /^[A-Za-z_]*$/.test(text.slice(colon + 1, end)) ||
    isPlaceholder(text.slice(colon + 1, end))
  )
    return null;
  for (let k = end + 1; k < text.length && k - colon <= MAX_SPLIT_PASSWORD; k++) {
    const c = text[k] as string;
    if (c === '@') return [colon + 1, k];
    if (c === ':' || URL_END.includes(c)) return null;
  }
  return null;
}

export function detectUrlPasswords(text: string): Finding[] {
  const out: Finding[] = [];
  for (let sep = text.indexOf('://'); sep !== -1; sep = text.indexOf('://', sep + 1)) {
    if (!schemeBefore(text, sep)) continue;
    const span = passwordSpan(text, sep + 3);
    if (span === null || span[1] <= span[0] || isPlaceholder(text.slice(span[0], span[1]))) continue;
    out.push({ type: 'PASSWORD', start: span[0], end: span[1] });
  }
  return out;
}
