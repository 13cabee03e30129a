import { invalid } from '../errors.js';

// RFC 9110 token characters for field names; field values are visible ASCII, space and tab.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/** Headers the HTTP layer owns (or that would change how the body is framed or read). */
const RESERVED = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
  'expect', 'content-type', 'content-encoding', 'user-agent', 'proxy-authorization', 'proxy-connection',
  'idempotency-key', 'webhook-id', 'webhook-timestamp', 'webhook-signature',
]);

export function checkHeaderName(name: string, field = 'auth_header_name'): string {
  if (name.length === 0 || name.length > 128) throw invalid(field, 'must be 1 to 128 characters');
  if (!TOKEN.test(name)) throw invalid(field, 'is not a valid HTTP header name (letters, digits and !#$%&\'*+.^_`|~- only; no spaces, colons or line breaks)');
  if (RESERVED.has(name.toLowerCase())) throw invalid(field, `"${name}" is set by Aegis itself and cannot be configured`);
  return name;
}

/** Never echoes the value in the message: it is a credential. */
export function checkHeaderValue(value: string, field = 'auth_header_value'): string {
  if (value.length > 8192) throw invalid(field, 'must be at most 8192 characters');
  if (!FIELD_VALUE.test(value)) throw invalid(field, 'contains a line break, control or non-ASCII character, which HTTP header values cannot carry');
  if (value !== value.trim()) throw invalid(field, 'must not start or end with whitespace');
  return value;
}
