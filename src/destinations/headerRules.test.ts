import { describe, expect, it } from 'vitest';
import { headerNameProblem, isDroppedOutbound, NON_CREDENTIAL_REQUEST_HEADERS } from './headerRules.js';
import { checkHeaderName } from './headers.js';
import { formatHints } from '../siem/catalog.js';
import { AppError } from '../errors.js';

// Issue 14: Cookie, X-Forwarded-For and X-Forwarded-Host were accepted as auth header names, and the
// dashboard hint accepted User-Agent while the API refused it (three lists that had drifted apart).
const REFUSED = [
  'Cookie',
  'cookie',
  'Set-Cookie',
  'X-Forwarded-For',
  'X-Forwarded-Host',
  'x-forwarded-proto',
  'Forwarded',
  'X-Real-IP',
  'Via',
  'Proxy-Authorization',
  'Proxy-Connection',
  'proxy-anything',
  'Host',
  'Content-Length',
  'Transfer-Encoding',
  'Connection',
  'Keep-Alive',
  'Upgrade',
  'TE',
  'Trailer',
  'Expect',
  'Content-Type',
  'Content-Encoding',
  'User-Agent',
  'Idempotency-Key',
  'webhook-signature',
  'Accept',
  'X-Splunk-Request-Channel',
  'x-ms-client-request-id',
];
const ALLOWED = ['Authorization', 'DD-API-KEY', 'X-Api-Key', 'x-sumo-token', 'Api-Key', 'X-License-Key', 'X-Forwarded', 'Cookie-Token'];

describe('header name rules (one list for API, outbound client and dashboard)', () => {
  it.each(REFUSED)('refuses %s in the API with a 400 naming the field, and the dashboard hint says the same', (name) => {
    const problem = headerNameProblem(name);
    expect(problem).not.toBeNull();
    let thrown: unknown;
    try {
      checkHeaderName(name);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).status).toBe(400);
    expect((thrown as AppError).message).toBe(`auth_header_name: ${problem}`);
    const hints = formatHints('custom', { url: 'https://siem.example.com/in', authHeaderName: name, authHeaderValue: 'Bearer abcdefgh' });
    expect(hints).toContainEqual({ field: 'auth_header_name', severity: 'error', message: problem });
  });

  it.each(ALLOWED)('accepts %s', (name) => {
    expect(headerNameProblem(name)).toBeNull();
    expect(checkHeaderName(name)).toBe(name);
    expect(isDroppedOutbound(name)).toBe(false);
  });

  it('the outbound client drops the HTTP-layer, proxy and cookie headers, and keeps the ones Aegis sets per request', () => {
    for (const name of ['Host', 'Content-Length', 'User-Agent', 'Cookie', 'X-Forwarded-For', 'Proxy-Authorization', 'Forwarded']) {
      expect(isDroppedOutbound(name), name).toBe(true);
    }
    for (const name of ['Content-Type', 'Idempotency-Key', 'webhook-signature', 'Authorization']) expect(isDroppedOutbound(name), name).toBe(false);
  });

  it('the headers Aegis sets per request are not credentials to scrub; a configurable credential header always is', () => {
    for (const name of ['Idempotency-Key', 'webhook-id', 'webhook-signature', 'webhook-timestamp', 'Content-Type', 'User-Agent', 'X-Splunk-Request-Channel']) {
      expect(NON_CREDENTIAL_REQUEST_HEADERS.has(name.toLowerCase()), name).toBe(true);
    }
    for (const name of ALLOWED) expect(NON_CREDENTIAL_REQUEST_HEADERS.has(name.toLowerCase()), name).toBe(false);
    // None of them can be configured as the credential header, so none escapes the client's scrubbing.
    for (const name of NON_CREDENTIAL_REQUEST_HEADERS) expect(headerNameProblem(name), name).not.toBeNull();
  });

  it('refuses names that are not RFC 9110 tokens', () => {
    for (const name of ['', 'X Token', 'X-Token:', 'X-Tökén', 'X\r\nY', 'X'.repeat(129)]) expect(headerNameProblem(name), JSON.stringify(name)).not.toBeNull();
  });
});
