import { describe, expect, it } from 'vitest';
import { classifyResult, clip, parseRetryAfter } from './failure.js';
import type { NetworkFailure, OutboundResult } from './outbound/types.js';

function response(status: number, headers: Record<string, string> = {}, body = ''): OutboundResult {
  return { kind: 'response', status, headers, body, durationMs: 12 };
}

function network(failure: NetworkFailure, message = 'boom', host = 'siem.example.com'): OutboundResult {
  return { kind: 'network', failure, message, host, durationMs: 5 };
}

describe('classifyResult: responses', () => {
  it.each([200, 201, 202, 204, 299])('%i is delivered', (status) => {
    expect(classifyResult(response(status))).toEqual({ ok: true, statusCode: status, error: null });
  });

  it.each([
    [301, /^HTTP 301: The URL redirects \(HTTP 301\).*redirects are never followed\.$/],
    [302, /^HTTP 302: The URL redirects/],
    [307, /use the final URL/],
    [400, /^HTTP 400: The SIEM rejected the event format/],
    [401, /^HTTP 401: Authentication failed — check the token hasn't been revoked and carries the required prefix\.$/],
    [403, /^HTTP 403: .*the key was refused: check it has permission to send logs and belongs to this site\/region/],
    [404, /^HTTP 404: Not found — check the path; each SIEM needs its own ingest path \(e\.g\. \/services\/collector\/event for Splunk HEC\)\.$/],
    [408, /^HTTP 408: /],
    [413, /^HTTP 413: Payload too large/],
    [418, /^HTTP 418: The SIEM refused the request/],
    [429, /^HTTP 429: Rate limited/],
    [500, /^HTTP 500: The SIEM had a server error; Aegis will retry\.$/],
    [503, /^HTTP 503: The SIEM had a server error; Aegis will retry\.$/],
    [100, /^HTTP 100: Unexpected HTTP status/],
  ])('%i is a failure with a hint', (status, pattern) => {
    const c = classifyResult(response(status));
    expect(c.ok).toBe(false);
    expect(c.statusCode).toBe(status);
    expect(c.error).toMatch(pattern);
    expect(c.error!.length).toBeLessThanOrEqual(300);
  });

  it('names the redirect target without its query string', () => {
    const c = classifyResult(response(301, { location: 'https://new.example.com/ingest?token=secret' }));
    expect(c.error).toContain('https://new.example.com/ingest');
    expect(c.error).not.toContain('secret');
  });

  it('quotes a short, single-line snippet of a 400 body', () => {
    const c = classifyResult(response(400, {}, '{"text":"Invalid data format",\n"code":6}' + 'x'.repeat(1000)));
    expect(c.error).toContain('Invalid data format');
    expect(c.error).not.toContain('\n');
    expect(c.error!.length).toBeLessThanOrEqual(300);
  });

  it('a SIEM hint replaces the generic sentence, keeping the status prefix', () => {
    const hint = 'Splunk HEC: the token must be sent as "Splunk <token>".';
    expect(classifyResult(response(401), hint).error).toBe(`HTTP 401: ${hint}`);
    expect(classifyResult(response(401), '   ').error).toMatch(/Authentication failed/);
  });

  it('clips long hints to 300 characters', () => {
    const c = classifyResult(response(500), 'h'.repeat(1000));
    expect(c.error!.length).toBe(300);
  });

  it('honours Retry-After on 429 and 503, clamped', () => {
    expect(classifyResult(response(429, { 'retry-after': '30' })).retryAfterMs).toBe(30_000);
    expect(classifyResult(response(503, { 'retry-after': '0' })).retryAfterMs).toBe(1_000);
    expect(classifyResult(response(429, { 'retry-after': '999999' })).retryAfterMs).toBe(3_600_000);
    expect(classifyResult(response(429)).retryAfterMs).toBeUndefined();
    expect(classifyResult(response(429, { 'retry-after': 'soon' })).retryAfterMs).toBeUndefined();
    expect(classifyResult(response(401, { 'retry-after': '30' })).retryAfterMs).toBeUndefined();
  });
});

describe('classifyResult: network errors', () => {
  it.each([
    ['dns', /^DNS lookup failed for host siem\.example\.com — check the hostname\.$/],
    ['timeout', /^Timeout: /],
    ['tls', /^TLS handshake failed: the certificate is not trusted.*ask the service's operator to trust your private CA\.$/],
    ['refused', /^Connection refused: /],
    ['reset', /^Connection reset: /],
    ['other', /^Network error: boom$/],
  ] as const)('%s is a failure with a hint', (failure, pattern) => {
    const c = classifyResult(network(failure));
    expect(c).toMatchObject({ ok: false, statusCode: null });
    expect(c.error).toMatch(pattern);
    expect(c.error!.length).toBeLessThanOrEqual(300);
  });

  // Retried like any network error (outcome.test.ts): the one decision lives there.
  it('a forbidden address keeps its security message despite a hint', () => {
    const c = classifyResult(network('forbidden_address', 'siem.example.com resolves to an address refused for outbound delivery'), 'some hint');
    expect(c.ok).toBe(false);
    expect(c.statusCode).toBeNull();
    expect(c.error).toMatch(/resolves to a private\/loopback address, which is refused/);
    expect(c.error).toContain('siem.example.com resolves to an address refused');
  });

  it('a SIEM hint replaces the generic sentence for network errors', () => {
    expect(classifyResult(network('tls'), 'Use the *.splunkcloud.com endpoint on port 443.').error).toBe(
      'TLS handshake failed: Use the *.splunkcloud.com endpoint on port 443.',
    );
  });

  it('a peer that sent too many informational (1xx) answers is named, with its host, for each peer', () => {
    const result: OutboundResult = {
      kind: 'network',
      failure: 'other',
      code: 'EAEGISTOOMANY1XX',
      message: 'the peer sent more than 8 informational (1xx) answers without a final one',
      host: 'siem.example.com',
      durationMs: 5,
    };
    expect(classifyResult(result).error).toBe(
      'Network error: the SIEM siem.example.com sent more than 8 informational (1xx) answers without a final one — check any proxy or load balancer in front of it; Aegis will retry.',
    );
    expect(classifyResult(result, undefined, 'alert webhook').error).toMatch(/^Network error: the alert webhook siem\.example\.com sent more than 8 /);
    expect(classifyResult(result, undefined, 'token endpoint').error).toMatch(/^Network error: the token endpoint siem\.example\.com sent more than 8 /);
    expect(classifyResult(result).error).not.toMatch(/timeout/i);
  });

  it('clips a long network message', () => {
    const c = classifyResult(network('other', 'y'.repeat(5000)));
    expect(c.error!.length).toBeLessThanOrEqual(300);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-05-15T10:00:00Z');
  it.each([
    ['5', 5_000],
    [' 120 ', 120_000],
    ['0', 1_000],
    ['7200', 3_600_000],
    ['Fri, 15 May 2026 10:00:30 GMT', 30_000],
    ['Fri, 15 May 2026 09:00:00 GMT', 1_000],
    ['Sat, 16 May 2026 10:00:00 GMT', 3_600_000],
  ])('%j -> %i ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
    expect(parseRetryAfter(value, new Date(now))).toBe(ms);
  });

  it.each([undefined, null, '', 'soon', '-5', '1.5', 'Thu, 99 Foo 2026'])('%j is ignored', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('clip: the one helper for text quoted from a SIEM or a token endpoint', () => {
  it('puts a hostile multi-line answer on one line within the bound', () => {
    const hostile = `line one\r\n\tinjected: header\n${'x'.repeat(500)}`;
    const out = clip(hostile, 40);
    expect(out).toHaveLength(40);
    expect(out).not.toMatch(/[\r\n\t]/);
    expect(out.endsWith('…')).toBe(true);
    expect(clip('  short  \n text ')).toBe('short text');
  });
});
