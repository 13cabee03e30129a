// The one rule for which HTTP header names a destination may configure, shared by the API (which
// refuses the rest with a 400), the outbound client (which never sends a caller's value for them)
// and the dashboard's format hint (which warns before saving). No Node imports: the dashboard
// bundles this file.

/** RFC 9110 token characters: what a header field name may contain. */
export const HEADER_NAME_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Headers the HTTP layer sets or that change how a message is framed, routed or read. The outbound
 * client drops any caller value for them and sets its own where it needs one.
 */
export const HTTP_LAYER_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'content-encoding',
  'user-agent',
]);

/**
 * Headers Aegis sets per request: the preset's body type, idempotency, signatures, and the ids some
 * presets send (Sentinel's client request id, Splunk's acknowledgement channel). None can be a
 * destination's credential header: Aegis would send its own value there (or the credential in place
 * of the id), and the outbound client does not scrub their values from answers.
 */
const AEGIS_SET_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'content-type',
  'idempotency-key',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-ms-client-request-id',
  'x-splunk-request-channel',
]);

/**
 * Request headers Aegis sets itself that never carry a credential, lowercase: the outbound client
 * does not scrub their values from answers (a SIEM echoing our event id, Splunk channel or content
 * type stays readable) and keeps them out of its scrubber's key (the event id, the signature and the
 * timestamp change on every request, so as "credentials" they would build a scrubber per request).
 * Every other request header, whatever its name, is treated as a credential; all of these names are
 * reserved (headerNameProblem), so a credential header is never one of them.
 */
export const NON_CREDENTIAL_REQUEST_HEADERS: ReadonlySet<string> = new Set([...HTTP_LAYER_HEADERS, ...AEGIS_SET_HEADERS]);

/**
 * Headers that speak for a client, a browser or a proxy rather than for us: sending them would spoof
 * a hop (X-Forwarded-For, Forwarded, X-Real-IP, Via), a browser session (Cookie) or proxy credentials.
 */
const PROXY_AND_SESSION_HEADERS: ReadonlySet<string> = new Set(['cookie', 'set-cookie', 'forwarded', 'via', 'x-real-ip', 'true-client-ip']);
const PROXY_AND_SESSION_PREFIXES: readonly string[] = ['proxy-', 'x-forwarded-'];

/**
 * Every header name a destination may not configure, lowercase (names starting with one of
 * RESERVED_HEADER_PREFIXES are refused too). What headerNameProblem refuses besides malformed names.
 */
export const RESERVED_HEADER_NAMES: readonly string[] = [...HTTP_LAYER_HEADERS, ...AEGIS_SET_HEADERS, ...PROXY_AND_SESSION_HEADERS];
export const RESERVED_HEADER_PREFIXES: readonly string[] = PROXY_AND_SESSION_PREFIXES;

function isProxyOrSession(lower: string): boolean {
  return PROXY_AND_SESSION_HEADERS.has(lower) || PROXY_AND_SESSION_PREFIXES.some((p) => lower.startsWith(p));
}

/** True when the outbound client must not send a caller's value for this header. */
export function isDroppedOutbound(name: string): boolean {
  const lower = name.toLowerCase();
  return HTTP_LAYER_HEADERS.has(lower) || isProxyOrSession(lower);
}

/** Why `name` cannot be a destination's auth header (one sentence, shown by API and dashboard), or null. */
export function headerNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > 128) return 'The header name must be 1 to 128 characters.';
  if (!HEADER_NAME_TOKEN.test(name)) {
    return "The header name may contain only letters, digits and !#$%&'*+.^_`|~- (no spaces, colons or line breaks).";
  }
  const lower = name.toLowerCase();
  if (HTTP_LAYER_HEADERS.has(lower) || AEGIS_SET_HEADERS.has(lower)) {
    return `Aegis sets ${name} itself; choose the header your SIEM reads the credential from.`;
  }
  if (isProxyOrSession(lower)) {
    return `${name} is a proxy, forwarding or cookie header, never a credential; choose the header your SIEM reads the credential from.`;
  }
  return null;
}
