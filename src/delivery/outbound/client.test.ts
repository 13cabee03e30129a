import { createServer as createHttpServer } from 'node:http';
import { createSecureServer as createSecureHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  TEST_CA_PEM,
  TEST_SERVER_CERT_PEM,
  TEST_SERVER_KEY_PEM,
  closedPort,
  drip,
  earlyHintsThen,
  unaskedContinue,
  hang,
  ok,
  processingForever,
  redirect,
  cutAnswer,
  resetConnection,
  respondWith,
  slow,
  startReceiver,
  startUntrustedReceiver,
  type Receiver,
} from '../../../test/support/httpsReceiver.js';
import { classifyResult } from '../failure.js';
import { cachedScrubbers } from '../scrubberCache.js';
import { createOutboundClient, GZIP_ON_LOOP_MAX_BYTES, type OutboundClient, type ResolveAddresses } from './client.js';
import { createGuardedLookup } from './guardedLookup.js';
import { POLL } from '../../../test/support/waitFor.js';

const SECRET = 'Splunk 00000000-super-secret-token';
const headers = { authorization: SECRET, 'x-aegis-event-id': 'pflt_1' };

let receiver: Receiver;
const clients: OutboundClient[] = [];

function client(opts: Partial<Parameters<typeof createOutboundClient>[0]> = {}): OutboundClient {
  const c = createOutboundClient({ allowPrivate: true, timeoutMs: 5_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM, ...opts });
  clients.push(c);
  return c;
}

/**
 * A client whose connection to `url` is open already: `timeoutMs` also bounds the TLS handshake, which
 * a loaded machine can stretch past a short deadline, so a test of what a deadline does to an answer
 * opens the connection first (asking again until a handshake fits in it) and times only the answer.
 */
async function connectedClient(opts: Partial<Parameters<typeof createOutboundClient>[0]>, url: string, poolKey?: string): Promise<OutboundClient> {
  const c = client(opts);
  await expect.poll(async () => (await c.send({ url, headers, body: '{}', ...(poolKey ? { poolKey } : {}) })).kind, POLL).toBe('response');
  receiver.requests.length = 0;
  return c;
}

beforeAll(async () => {
  receiver = await startReceiver();
});

afterEach(async () => {
  receiver.requests.length = 0;
  receiver.setHandler(ok());
  receiver.releaseHeld();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await receiver.close();
});

describe('outbound client against a real HTTPS receiver', () => {
  it('POSTs the body with our headers and returns status, headers and body', async () => {
    receiver.setHandler(respondWith(202, '{"accepted":true}', { 'content-type': 'application/json', 'x-thing': 'y' }));
    const result = await client().send({ url: `${receiver.url}/ingest?a=1`, headers, body: '{"hello":"world"}' });
    expect(result).toMatchObject({ kind: 'response', status: 202, body: '{"accepted":true}' });
    if (result.kind !== 'response') throw new Error('unreachable');
    // Only the headers something reads are kept (credentialScrub.ts: READ_ANSWER_HEADERS).
    expect(result.headers).toEqual({});
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(receiver.requests).toHaveLength(1);
    const got = receiver.requests[0]!;
    expect(got.method).toBe('POST');
    expect(got.path).toBe('/ingest?a=1');
    expect(got.body.toString()).toBe('{"hello":"world"}');
    expect(got.headers['user-agent']).toBe('aegis-test/1');
    expect(got.headers['content-length']).toBe(String('{"hello":"world"}'.length));
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['authorization']).toBe(SECRET);
    expect(got.headers['x-aegis-event-id']).toBe('pflt_1');
  });

  // Small bodies are compressed on the event loop, big ones in the thread pool: both sides of the
  // threshold, and the threshold itself, reach the receiver intact.
  it.each([
    ['small', 200],
    ['at the threshold', -1],
    ['big', 20_000],
  ])('gzips a %s body when asked, and the receiver gets it intact', async (_, n) => {
    const many = (k: number) => JSON.stringify({ events: Array.from({ length: k }, (__, i) => ({ id: `pflt_${i}`, note: 'é✓' })) });
    let payload = many(n);
    if (n < 0) {
      payload = `${'a'.repeat(GZIP_ON_LOOP_MAX_BYTES - 5)}é✓`;
      expect(Buffer.byteLength(payload)).toBe(GZIP_ON_LOOP_MAX_BYTES);
    } else if (n > 1000) expect(Buffer.byteLength(payload)).toBeGreaterThan(GZIP_ON_LOOP_MAX_BYTES);
    const result = await client().send({ url: receiver.url, headers, body: payload, gzip: true });
    expect(result).toMatchObject({ kind: 'response', status: 200 });
    const got = receiver.requests[0]!;
    expect(got.headers['content-encoding']).toBe('gzip');
    expect(got.rawBody.length).toBeLessThan(Buffer.byteLength(payload));
    expect(got.headers['content-length']).toBe(String(got.rawBody.length));
    expect(gunzipSync(got.rawBody).toString('utf8')).toBe(payload);
    expect(got.body.toString('utf8')).toBe(payload);
  });

  it('accepts a Buffer body and drops headers the HTTP layer owns', async () => {
    await client().send({
      url: receiver.url,
      headers: { ...headers, host: 'evil.example', 'content-length': '1', 'transfer-encoding': 'chunked' },
      body: Buffer.from('abc'),
    });
    const got = receiver.requests[0]!;
    expect(got.headers['host']).toBe(`127.0.0.1:${receiver.port}`);
    expect(got.body.toString()).toBe('abc');
    expect(got.headers['transfer-encoding']).toBeUndefined();
  });

  it('reuses keep-alive connections', async () => {
    const before = receiver.connections;
    const c = client();
    for (let i = 0; i < 10; i++) {
      expect(await c.send({ url: receiver.url, headers, body: String(i) })).toMatchObject({ status: 200 });
    }
    // undici may open a second socket while the first finishes settling; never one per request.
    expect(receiver.connections - before).toBeLessThanOrEqual(2);
  });

  it('never follows a redirect: a 3xx is returned and the receiver sees one request', async () => {
    receiver.setHandler(redirect(`${receiver.url}/elsewhere`, 301));
    const result = await client().send({ url: `${receiver.url}/old`, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'response', status: 301 });
    if (result.kind === 'response') expect(result.headers['location']).toBe(`${receiver.url}/elsewhere`);
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.requests.map((r) => r.path)).toEqual(['/old']);
  });

  it('caps the response body it reads', async () => {
    receiver.setHandler(respondWith(500, 'x'.repeat(1_000_000)));
    const result = await client({ maxResponseBytes: 1024 }).send({ url: receiver.url, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'response', status: 500 });
    if (result.kind === 'response') expect(result.body).toBe('x'.repeat(1024));
  });

  it("a request's own cap replaces the client's, less or more", async () => {
    receiver.setHandler(respondWith(500, 'x'.repeat(100_000)));
    const less = await client({ maxResponseBytes: 1024 }).send({ url: receiver.url, headers, body: '{}', maxResponseBytes: 100 });
    expect(less).toMatchObject({ kind: 'response', status: 500, truncated: true });
    if (less.kind === 'response') expect(less.body).toBe('x'.repeat(100));
    receiver.setHandler(respondWith(200, 'x'.repeat(100_000)));
    const more = await client({ maxResponseBytes: 1024 }).send({ url: receiver.url, headers, body: '{}', maxResponseBytes: 50_000 });
    if (more.kind === 'response') expect(more.body).toBe('x'.repeat(50_000));
    else throw new Error(`expected a response, got ${more.message}`);
  });

  it("a refusal is read up to the client's cap only, whatever more the request allows an acceptance", async () => {
    // A SIEM answering a 1,000-event Elastic request (1 KiB allowed per item of a 2xx) with a megabyte
    // refusal: every byte read is scrubbed on the worker's one thread, for a sentence of it kept.
    for (const status of [400, 429, 503]) {
      receiver.setHandler(respondWith(status, 'x'.repeat(1_100_000)));
      const result = await client({ maxResponseBytes: 1024 }).send({ url: receiver.url, headers, body: '{}', maxResponseBytes: 1_064_000 });
      expect(result).toMatchObject({ kind: 'response', status, truncated: true });
      if (result.kind === 'response') expect(result.body.length).toBe(1024);
    }
  });

  it('does not split a multi-byte character at the cap', async () => {
    receiver.setHandler(respondWith(400, 'é'.repeat(100)));
    const result = await client({ maxResponseBytes: 5 }).send({ url: receiver.url, headers, body: '{}' });
    if (result.kind !== 'response') throw new Error(`expected a response, got ${result.message}`);
    expect(result.body).toBe('éé');
  });

  it('times out against a receiver that never answers', async () => {
    receiver.setHandler(hang());
    const result = await client({ timeoutMs: 300 }).send({ url: receiver.url, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'timeout' });
    expect(result.durationMs).toBeGreaterThanOrEqual(250);
  });

  it('times out against a receiver that sends only "102 Processing", one every 200 ms', async () => {
    // Each 1xx restarts undici's own headers timeout; the request has a connection free, so no
    // overall cap is armed for it either. It must still end, as a timeout.
    const c = await connectedClient({ timeoutMs: 1_000 }, `${receiver.url}/processing`, 'fwd_processing');
    receiver.setHandler(processingForever());
    const result = await c.send({ url: `${receiver.url}/processing`, headers, body: '{}', poolKey: 'fwd_processing' });
    expect(result).toMatchObject({ kind: 'network', failure: 'timeout', message: expect.stringContaining('no answer within 1000 ms') });
  });

  it('an Early Hints answer does not make a request queued for a connection time out', async () => {
    // One connection, five requests at once, each answered "103 Early Hints" at once and 200 after
    // 1.5 s of a 5 s timeout (3.5 s to spare on a busy machine): the fifth gets its hints about 6 s
    // after it was asked for. Its clock starts with its own informational answer, not at the call.
    receiver.setHandler(earlyHintsThen(1_500));
    const c = client({ timeoutMs: 5_000, connections: 1 });
    const results = await Promise.all(Array.from({ length: 5 }, () => c.send({ url: `${receiver.url}/hints`, headers, body: '{}', poolKey: 'fwd_hints' })));
    expect(results.map((r) => (r.kind === 'response' ? r.status : r.message))).toEqual([200, 200, 200, 200, 200]);
  });

  it("a SIEM whose connections all end resumes the destination's TLS session, not a full handshake each time", async () => {
    // Each answer closes its connection, so every request opens a new one and the destination's pool
    // has no connection left in between (as with a silent SIEM, whose every connection ends in a
    // timeout). The first handshake is full; every later one resumes its session.
    receiver.setHandler(respondWith(200, 'ok', { connection: 'close' }));
    const c = client();
    const before = { connections: receiver.connections, resumed: receiver.resumedSessions };
    for (let i = 0; i < 5; i++) {
      expect(await c.send({ url: receiver.url, headers, body: String(i), poolKey: 'fwd_closing', connections: 2 })).toMatchObject({ status: 200 });
    }
    expect(receiver.connections - before.connections).toBe(5);
    expect(receiver.resumedSessions - before.resumed).toBe(4);
    // Another destination on the same origin does not resume the first one's session.
    expect(await c.send({ url: receiver.url, headers, body: 'other', poolKey: 'fwd_other_tenant' })).toMatchObject({ status: 200 });
    expect(receiver.resumedSessions - before.resumed).toBe(4);
  });

  it('time spent queued for a pooled connection is not charged to the SIEM', async () => {
    // One connection to the origin, four requests at once, each answered in 1.5 s of a 5 s timeout:
    // the fourth is sent ~4.5 s after it was asked for and answered ~6 s after. A clock started at the
    // call (as before) took that for a timeout; each request's own wait is well within it.
    receiver.setHandler(slow(1_500));
    const c = client({ timeoutMs: 5_000, connections: 1 });
    const results = await Promise.all(Array.from({ length: 4 }, () => c.send({ url: receiver.url, headers, body: '{}' })));
    expect(results.map((r) => (r.kind === 'response' ? r.status : r.failure))).toEqual([200, 200, 200, 200]);
  });

  it('a request queued behind a silent SIEM is still bounded: the overall cap ends its wait', async () => {
    // One connection, five requests at once to a SIEM that never answers: each request that gets the
    // connection ends by its own headers timeout (300 ms), so the last ones wait in the queue for
    // longer than the overall cap (3 x 300 ms) and end on it, not after 5 x 300 ms.
    receiver.setHandler(hang());
    const c = client({ timeoutMs: 300 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => c.send({ url: `${receiver.url}/silent`, headers, body: '{}', poolKey: 'fwd_silent', connections: 1 })),
    );
    expect(results.every((r) => r.kind === 'network' && r.failure === 'timeout')).toBe(true);
    const messages = results.map((r) => (r.kind === 'network' ? r.message : ''));
    const onCap = messages.filter((m) => m.includes('waiting for a free connection included'));
    // The first request had a connection free: its own phase's timeout ended it (headers, or connect
    // on a very busy machine), not the cap, which was never armed for it.
    expect(onCap.length).toBeGreaterThanOrEqual(1);
    expect(onCap.length).toBeLessThan(messages.length);
  });

  it("a destination whose SIEM holds every connection open never queues another destination's request to the same origin", async () => {
    // Two customers of one SIEM origin: one's requests hang on every connection its pool may open,
    // the other's must still go straight out on connections of its own.
    receiver.setHandler((r) => (r.path.startsWith('/silent') ? { action: 'hang' } : { status: 200, body: 'ok' }));
    const c = client({ timeoutMs: 60_000, connections: 1 });
    const stop = new AbortController();
    const silent = [1, 2].map(() => c.send({ url: `${receiver.url}/silent`, headers, body: '{}', poolKey: 'fwd_silent', signal: stop.signal }));
    await expect.poll(() => receiver.requests.filter((r) => r.path === '/silent').length, { timeout: 30_000 }).toBe(1);
    // With one shared pool this request would wait behind the hanging one (up to 3 minutes here).
    const healthy = await c.send({ url: `${receiver.url}/healthy`, headers, body: '{}', poolKey: 'fwd_healthy' });
    expect(healthy).toMatchObject({ kind: 'response', status: 200 });
    // The silent destination's second request is still queued behind its own first one.
    expect(receiver.requests.filter((r) => r.path === '/silent')).toHaveLength(1);
    stop.abort();
    expect((await Promise.all(silent)).map((r) => r.kind)).toEqual(['network', 'network']);
  });

  it("a destination's own pool opens no more connections than its max_concurrent_requests", async () => {
    receiver.setHandler((r) => (r.path.startsWith('/held') ? { action: 'hang' } : { status: 200, body: 'ok' }));
    const c = client({ timeoutMs: 60_000 });
    const stop = new AbortController();
    const held = Array.from({ length: 5 }, () =>
      c.send({ url: `${receiver.url}/held`, headers, body: '{}', poolKey: 'fwd_two', connections: 2, signal: stop.signal }),
    );
    await expect.poll(() => receiver.requests.filter((r) => r.path === '/held').length, { timeout: 30_000 }).toBe(2);
    // Another destination's request going through proves the event loop moved on: still only two.
    expect(await c.send({ url: `${receiver.url}/other`, headers, body: '{}', poolKey: 'fwd_other' })).toMatchObject({ status: 200 });
    expect(receiver.requests.filter((r) => r.path === '/held')).toHaveLength(2);
    stop.abort();
    expect((await Promise.all(held)).map((r) => r.kind)).toEqual(['network', 'network', 'network', 'network', 'network']);
  });

  it('many destinations: the number of pools is capped, least recently used idle ones closed first', async () => {
    const c = client({ maxPools: 3 });
    for (let i = 0; i < 10; i++) {
      expect(await c.send({ url: receiver.url, headers, body: String(i), poolKey: `fwd_${i}`, connections: 4 })).toMatchObject({ status: 200 });
      expect(c.poolCount()).toBeLessThanOrEqual(3);
    }
    expect(c.poolCount()).toBe(3);
  });

  it('at the cap with every pool busy, a new destination still sends (through the shared pool)', async () => {
    receiver.setHandler((r) => (r.path.startsWith('/busy') ? { action: 'hang' } : { status: 200, body: 'ok' }));
    const c = client({ maxPools: 1, timeoutMs: 60_000 });
    const stop = new AbortController();
    const busy = c.send({ url: `${receiver.url}/busy`, headers, body: '{}', poolKey: 'fwd_busy', signal: stop.signal });
    await expect.poll(() => receiver.requests.filter((r) => r.path === '/busy').length, { timeout: 30_000 }).toBe(1);
    expect(await c.send({ url: `${receiver.url}/new`, headers, body: '{}', poolKey: 'fwd_new' })).toMatchObject({ status: 200 });
    expect(c.poolCount()).toBe(1);
    stop.abort();
    expect(await busy).toMatchObject({ kind: 'network' });
  });

  it('a hostile receiver echoing the credential in response headers: only Retry-After and Location kept, redacted', async () => {
    receiver.setHandler((r) => {
      const auth = String(r.headers['authorization']);
      return {
        status: 307,
        headers: {
          'retry-after': '7',
          location: `https://siem.example/moved/${encodeURIComponent(auth)}/ingest`,
          'content-type': 'application/json',
          'x-request-id': 'req-8c1f2a',
          'x-echo': auth,
          'www-authenticate': `Bearer error="invalid_token", token="${Buffer.from(auth).toString('base64')}"`,
        },
        body: '{}',
      };
    });
    const result = await client().send({ url: receiver.url, headers, body: '{}', poolKey: 'fwd_echo' });
    if (result.kind !== 'response') throw new Error(`expected a response, got ${result.message}`);
    expect(result.status).toBe(307);
    expect(result.headers).toEqual({ 'retry-after': '7', location: 'https://siem.example/moved/[redacted]/ingest' });
  });

  // A review's: every answer header was scrubbed on the event loop, outside any budget, and a hostile
  // SIEM's 16 KiB of slow-to-scrub header values took 25-30 ms of it per answer.
  it('scrubs only the start of a long Location, as cut: a credential begun at the cut goes too', async () => {
    const padding = 'p'.repeat(512 - '/'.length - 12);
    receiver.setHandler((r) => ({
      status: 301,
      headers: {
        location: `/${padding}${String(r.headers['authorization']).replace(' ', '%20')}/after`,
        'x-slow': 'k9Fz2QmX7pLw%0A&#x34;\\u0052'.repeat(500),
      },
      body: '',
    }));
    const result = await client().send({ url: receiver.url, headers, body: '{}', poolKey: 'fwd_long_location' });
    if (result.kind !== 'response') throw new Error(`expected a response, got ${result.message}`);
    expect(Object.keys(result.headers)).toEqual(['location']);
    // The first 512 characters: the padding and the credential's first 12 ("Splunk%20000"), which go
    // (read whole, it would end "[redacted]/after").
    expect(result.headers['location']).toMatch(new RegExp(`^/${padding}\\[redacted\\]$`));
  });

  it("a custom webhook's Idempotency-Key (the event id) echoed back stays readable; the credential does not", async () => {
    receiver.setHandler((r) => ({
      status: 308,
      headers: { location: `https://siem.example/dup/${String(r.headers['idempotency-key'])}?auth=${encodeURIComponent(String(r.headers['authorization']))}` },
      body: '{}',
    }));
    const c = client();
    const send = (eventId: string) =>
      c.send({ url: receiver.url, headers: { authorization: SECRET, 'Idempotency-Key': eventId }, body: '{}', poolKey: 'fwd_idem' });
    const first = await send('evt_0001aaaabbbbcccc');
    if (first.kind !== 'response') throw new Error(`expected a response, got ${first.message}`);
    expect(first.headers['location']).toBe('https://siem.example/dup/evt_0001aaaabbbbcccc?auth=[redacted]');
    // The event id differs on every request; it must not key a new scrubber each time (cost per event,
    // and other destinations' scrubbers evicted from the bounded cache).
    const held = cachedScrubbers();
    for (let i = 2; i <= 5; i++) expect(await send(`evt_000${i}aaaabbbbcccc`)).toMatchObject({ status: 308 });
    expect(cachedScrubbers()).toBe(held);
  });

  it('times out against a slow receiver', async () => {
    receiver.setHandler(slow(2_000));
    const result = await client({ timeoutMs: 200 }).send({ url: receiver.url, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'timeout' });
  });

  it('reports a reset connection', async () => {
    receiver.setHandler(resetConnection());
    const result = await client().send({ url: receiver.url, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'reset' });
  });

  it('a 200 whose connection ends before its body is whole is not an acceptance: a reset, sent again', async () => {
    receiver.setHandler(cutAnswer(200, '{"text":"Succ'));
    const result = await client().send({ url: receiver.url, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'reset', code: 'EBODYCUT' });
    expect(receiver.requests).toHaveLength(1);
  });

  it('a 200 whose body drips past the deadline is not an acceptance: a timeout', async () => {
    const c = await connectedClient({ timeoutMs: 300 }, receiver.url);
    receiver.setHandler(drip());
    const result = await c.send({ url: receiver.url, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'timeout', code: 'UND_ERR_BODY_TIMEOUT' });
    if (result.kind === 'network') expect(result.message).toMatch(/body did not arrive within 300 ms/);
  });

  it('a 200 torn by our own cancellation is reported as cancelled, not as a reset', async () => {
    receiver.setHandler(drip());
    const controller = new AbortController();
    const sending = client({ timeoutMs: 60_000 }).send({ url: receiver.url, headers, body: '{}', signal: controller.signal });
    await expect.poll(() => receiver.held, { timeout: 30_000 }).toBe(1);
    controller.abort();
    expect(await sending).toMatchObject({ kind: 'network', failure: 'other', code: 'ABORTED' });
  });

  it('a refusal cut short stays a refusal, with its Retry-After and the part of its body that came', async () => {
    receiver.setHandler(cutAnswer(429, '{"text":"slow'));
    const result = await client().send({ url: receiver.url, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'response', status: 429, body: '{"text":"slow' });
    if (result.kind === 'response') expect(result.headers['retry-after']).toBe('1');
  });

  it('a 100 Continue the request never asked for is reported as an answer that is not valid HTTP, not as a reset', async () => {
    receiver.setHandler(unaskedContinue());
    const result = await client().send({ url: receiver.url, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'other', code: 'UND_ERR_SOCKET' });
    const message = result.kind === 'network' ? result.message : '';
    expect(message).toMatch(/not a valid HTTP response/);
    expect(message).toMatch(/100 Continue/);
    // The client also sends alert webhooks and OAuth2 token requests, which are no SIEM, and it
    // retries nothing itself: the text names neither.
    expect(message).not.toMatch(/SIEM/);
    expect(message).not.toMatch(/retry/i);
  });

  it('a compressed answer the request never asked for is a sentence, not its bytes read as text', async () => {
    receiver.setHandler(respondWith(400, gzipSync('{"error":"bad event"}'), { 'content-encoding': 'gzip', 'content-type': 'application/json' }));
    const result = await client().send({ url: `${receiver.url}/ingest`, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'response', status: 400, body: '(an answer compressed with gzip, not read: we ask for none)' });
    // A hostile peer's header carries no text of its own into the sentence: the compression's name alone.
    receiver.setHandler(respondWith(400, gzipSync('x'), { 'content-encoding': 'gzip, Bearer.Zq8vT2xk9Lm3Np5R' }));
    expect(await client().send({ url: `${receiver.url}/ingest`, headers, body: '{}' })).toMatchObject({
      body: '(an answer compressed with gzip, not read: we ask for none)',
    });
    // No compression named, the body as it came: a 2xx's is read (Elastic's errors, a Splunk ack id).
    for (const encoding of ['identity', 'none', 'UTF-8']) {
      receiver.setHandler(respondWith(200, '{"ackId":7}', { 'content-encoding': encoding }));
      expect(await client().send({ url: `${receiver.url}/ingest`, headers, body: '{}' }), encoding).toMatchObject({ body: '{"ackId":7}' });
    }
  });

  it('reports a refused connection', async () => {
    const port = await closedPort();
    const result = await client().send({ url: `https://127.0.0.1:${port}/`, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'refused', code: 'ECONNREFUSED', host: '127.0.0.1' });
  });

  it('reports an unknown host as a DNS failure', async () => {
    const result = await client().send({ url: 'https://no-such-host.invalid/', headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'dns', host: 'no-such-host.invalid' });
  });

  it('fails TLS against an untrusted self-signed certificate', async () => {
    const untrusted = await startUntrustedReceiver();
    try {
      const result = await client().send({ url: untrusted.url, headers, body: '{}' });
      expect(result).toMatchObject({ kind: 'network', failure: 'tls' });
      expect(untrusted.requests).toHaveLength(0);
    } finally {
      await untrusted.close();
    }
  });

  it('fails TLS when the private CA is not trusted', async () => {
    const result = await client({ ca: undefined }).send({ url: receiver.url, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'tls' });
    expect(receiver.requests).toHaveLength(0);
  });

  it('never puts request headers in an error message', async () => {
    receiver.setHandler(resetConnection());
    const results = [
      await client().send({ url: receiver.url, headers, body: '{}' }),
      await client().send({ url: 'https://no-such-host.invalid/', headers, body: '{}' }),
      await client().send({ url: receiver.url, headers: { ...headers, 'x-bad': `${SECRET}\r\nx: y` }, body: '{}' }),
    ];
    for (const r of results) {
      expect(r.kind).toBe('network');
      expect(JSON.stringify(r)).not.toContain('super-secret');
    }
  });

  it('resolves (never throws) for invalid URLs and after close', async () => {
    const c = client();
    expect(await c.send({ url: 'not a url', headers, body: '' })).toMatchObject({ kind: 'network', failure: 'other', code: 'invalid_url' });
    await c.close();
    expect(await c.send({ url: receiver.url, headers, body: '' })).toMatchObject({ kind: 'network', failure: 'other' });
  });

  it("honours the caller's abort signal", async () => {
    receiver.setHandler(hang());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await client().send({ url: receiver.url, headers, body: '{}', signal: controller.signal });
    expect(result).toMatchObject({ kind: 'network', failure: 'other', code: 'ABORTED' });
  });
});

const EARLY_HINTS = 'HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n';
const PROCESSING = 'HTTP/1.1 102 Processing\r\n\r\n';

interface InformationalPeer {
  url: string;
  /** Informational answers written so far, over every connection. */
  readonly written: number;
  /** Connections that have closed. */
  readonly closed: number;
  close(): Promise<void>;
}

/**
 * A raw TLS peer (the test certificates) that answers each request with `burst` informational answers
 * (103 Early Hints and 102 Processing in turn) at once, then `final` if given; without one it keeps
 * sending more, 20 every 20 ms, until the connection closes: a hostile SIEM, token endpoint or webhook.
 */
async function startInformationalPeer(burst: number, final?: string): Promise<InformationalPeer> {
  let written = 0;
  let closed = 0;
  const sockets = new Set<TLSSocket>();
  const informational = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? EARLY_HINTS : PROCESSING)).join('');
  const server = createTlsServer({ key: TEST_SERVER_KEY_PEM, cert: TEST_SERVER_CERT_PEM }, (socket) => {
    sockets.add(socket);
    let received = Buffer.alloc(0);
    let answering = false;
    let more: NodeJS.Timeout | undefined;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed++;
      clearInterval(more);
      sockets.delete(socket);
    });
    socket.on('data', (chunk: Buffer) => {
      if (answering) return;
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(received.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (received.length < end + 4 + length) return;
      answering = true;
      socket.write(informational(burst));
      written += burst;
      if (final !== undefined) {
        socket.write(final);
        return;
      }
      more = setInterval(() => {
        if (socket.destroyed || !socket.writable) return;
        socket.write(informational(20));
        written += 20;
      }, 20);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/ingest`,
    get written() {
      return written;
    },
    get closed() {
      return closed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('informational (1xx) answers', () => {
  it('a peer storming informational answers is cut off after 8, reported as such and not as a timeout', async () => {
    // 300 at once, then 20 more every 20 ms for as long as the connection stays open. The timeout is a
    // minute, so only the count can end the request within the test's ceiling; a timeout would not
    // name the informational answers either.
    const peer = await startInformationalPeer(300);
    try {
      const result = await client({ timeoutMs: 60_000 }).send({ url: peer.url, headers, body: '{}', poolKey: 'fwd_storm' });
      expect(result).toMatchObject({ kind: 'network', failure: 'other', code: 'EAEGISTOOMANY1XX', host: '127.0.0.1' });
      if (result.kind !== 'network') throw new Error('unreachable');
      expect(result.message).toMatch(/more than 8 informational \(1xx\) answers without a final one/);
      expect(JSON.stringify(result)).not.toContain('super-secret');
      // What users see (last_error, the delivery log), for each peer the client serves.
      expect(classifyResult(result).error).toMatch(/^Network error: the SIEM 127\.0\.0\.1 sent more than 8 informational \(1xx\) answers without a final one/);
      expect(classifyResult(result, undefined, 'token endpoint').error).toMatch(/the token endpoint 127\.0\.0\.1 sent more than 8 informational/);
      expect(classifyResult(result).error).not.toMatch(/timeout/i);
      // The connection is dropped, not kept for another request: the peer sees it close.
      await expect.poll(() => peer.closed, { timeout: 30_000 }).toBe(1);
    } finally {
      await peer.close();
    }
  });

  it.each([2, 8])('%i informational answers and then a 200 is still an answer', async (n) => {
    const peer = await startInformationalPeer(n, 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}');
    try {
      const result = await client({ timeoutMs: 60_000 }).send({ url: peer.url, headers, body: '{}', poolKey: `fwd_hints_${n}` });
      expect(result).toMatchObject({ kind: 'response', status: 200, body: '{"ok":true}' });
      expect(peer.written).toBe(n);
    } finally {
      await peer.close();
    }
  });
});

describe('outbound guard (allowPrivate = false)', () => {
  it.each([
    (r: Receiver) => r.url,
    (r: Receiver) => `https://localhost:${r.port}/`,
    (r: Receiver) => `https://2130706433:${r.port}/`,
    (r: Receiver) => `https://[::ffff:127.0.0.1]:${r.port}/`,
    (r: Receiver) => `https://[::1]:${r.port}/`,
  ])('refuses a loopback destination before any connection (%#)', async (toUrl) => {
    // Counted from here: an earlier test's request (the aborted one) may reach the shared receiver late.
    const before = receiver.connections;
    const requestsBefore = receiver.requests.length;
    const result = await client({ allowPrivate: false }).send({ url: toUrl(receiver), headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'forbidden_address' });
    expect(receiver.requests).toHaveLength(requestsBefore);
    expect(receiver.connections).toBe(before);
  });

  it('refuses http:// without allowPrivate', async () => {
    const result = await client({ allowPrivate: false }).send({ url: 'http://example.com/', headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'other', code: 'https_required' });
  });

  it('refuses at connect time a host name that resolves to a private address', async () => {
    const resolveAddresses: ResolveAddresses = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    const before = receiver.connections;
    const result = await client({ allowPrivate: false, resolveAddresses }).send({
      url: `https://siem.example.com:${receiver.port}/`,
      headers,
      body: '{}',
    });
    expect(result).toMatchObject({ kind: 'network', failure: 'forbidden_address', code: 'EAEGISFORBIDDEN', host: 'siem.example.com' });
    if (result.kind === 'network') expect(result.message).toBe('siem.example.com resolves to an address refused for outbound delivery');
    expect(receiver.connections).toBe(before);
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses when ANY resolved address is forbidden (rebinding with a mixed answer)', async () => {
    const resolveAddresses: ResolveAddresses = () =>
      Promise.resolve([
        { address: '93.184.215.14', family: 4 },
        { address: '::ffff:169.254.169.254', family: 6 },
      ]);
    const result = await client({ allowPrivate: false, resolveAddresses }).send({
      url: 'https://siem.example.com/',
      headers,
      body: '{}',
    });
    expect(result).toMatchObject({ kind: 'network', failure: 'forbidden_address' });
    if (result.kind === 'network') expect(result.message).not.toMatch(/169\.254|metadata/);
  });

  it('checks every new connection, so a later rebinding answer is refused too', async () => {
    let answer = '127.0.0.1';
    const resolveAddresses: ResolveAddresses = () => Promise.resolve([{ address: answer, family: 4 }]);
    // allowPrivate=true lets the first resolution through; the guard itself is exercised below.
    const permissive = client({ allowPrivate: true, resolveAddresses });
    const first = await permissive.send({ url: `https://localhost:${receiver.port}/`, headers, body: '{}' });
    expect(first).toMatchObject({ kind: 'response', status: 200 });
    answer = '10.0.0.1';
    const strict = client({ allowPrivate: false, resolveAddresses, timeoutMs: 1_000 });
    const second = await strict.send({ url: `https://siem.example.com:${receiver.port}/`, headers, body: '{}' });
    expect(second).toMatchObject({ kind: 'network', failure: 'forbidden_address' });
  });

  it('the injected resolver really drives the connection (allowPrivate = true reaches the receiver)', async () => {
    const resolveAddresses: ResolveAddresses = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    const result = await client({ allowPrivate: true, resolveAddresses }).send({
      url: `https://localhost:${receiver.port}/via-resolver`,
      headers,
      body: '{}',
    });
    expect(result).toMatchObject({ kind: 'response', status: 200 });
    expect(receiver.requests.map((r) => r.path)).toEqual(['/via-resolver']);
  });
});

describe('createGuardedLookup with the system resolver', () => {
  function lookup(allowPrivate: boolean, host: string, all: boolean) {
    return new Promise<{ code?: string; message?: string; address: unknown }>((resolve) => {
      createGuardedLookup(allowPrivate)(host, { all }, (err, address) => resolve({ code: err?.code, message: err?.message, address }));
    });
  }

  it('fails the connection when the real DNS answer for a name is loopback', async () => {
    const r = await lookup(false, 'localhost', true);
    expect(r.code).toBe('EAEGISFORBIDDEN');
    expect(r.message).toBe('localhost resolves to an address refused for outbound delivery');
  });

  it('passes the addresses through when private destinations are allowed, in both callback forms', async () => {
    const all = await lookup(true, 'localhost', true);
    expect(all.code).toBeUndefined();
    expect(Array.isArray(all.address)).toBe(true);
    const one = await lookup(true, 'localhost', false);
    expect(typeof one.address).toBe('string');
  });

  it('reports unknown names with the resolver error code', async () => {
    expect((await lookup(false, 'no-such-host.invalid', true)).code).toBe('ENOTFOUND');
  });
});

// A review's: a receiver that speaks no TLS, no HTTP/1.1 or no HTTP at all was reported with the
// certificate's advice or undici's own words; each is a setup mistake with a sentence of its own.
describe('peers that speak another protocol', () => {
  const servers: { close(): unknown }[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });
  const listening = async (server: import('node:net').Server): Promise<number> => {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };

  it('an https:// URL pointed at a plain-HTTP port is named as such, not as an untrusted certificate', async () => {
    const port = await listening(createHttpServer((_req, res) => res.end('ok')));
    const result = await client().send({ url: `https://127.0.0.1:${port}/in`, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'tls' });
    const error = classifyResult(result).error!;
    expect(error).toMatch(/^TLS handshake failed: the SIEM at 127\.0\.0\.1 answered without TLS/);
    expect(error).toMatch(/plain HTTP/);
    expect(error).not.toMatch(/certificate/);
  });

  it('a server that offers HTTP/2 only is told apart from a certificate problem', async () => {
    const h2 = createSecureHttp2Server({ key: TEST_SERVER_KEY_PEM, cert: TEST_SERVER_CERT_PEM, allowHTTP1: false });
    const port = await listening(h2);
    const result = await client().send({ url: `https://127.0.0.1:${port}/in`, headers, body: '{}' });
    const error = classifyResult(result).error!;
    expect(error).toMatch(/^TLS handshake failed: the SIEM at 127\.0\.0\.1 accepts none of the protocols Aegis speaks \(HTTP\/1\.1\)/);
    expect(error).not.toMatch(/certificate/);
  });

  it("a TLS port that answers with something that is not HTTP (an SSH banner) gets a sentence, not the parser's words", async () => {
    const port = await listening(
      createTlsServer({ key: TEST_SERVER_KEY_PEM, cert: TEST_SERVER_CERT_PEM }, (socket) => {
        socket.on('error', () => undefined);
        socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.6\r\n'));
      }),
    );
    const result = await client().send({ url: `https://127.0.0.1:${port}/in`, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'other' });
    const error = classifyResult(result).error!;
    expect(error).toMatch(/^Network error: the SIEM at 127\.0\.0\.1 answered with something that is not HTTP/);
    expect(error).not.toMatch(/RTSP|ICE|HPE_/);
  });

  it("answer headers past what the client reads are named, not reported as undici's overflow", async () => {
    receiver.setHandler(respondWith(200, 'ok', { 'x-big': 'a'.repeat(20_000) }));
    const result = await client().send({ url: `${receiver.url}/in`, headers, body: '{}' });
    expect(result).toMatchObject({ kind: 'network', failure: 'other' });
    const error = classifyResult(result).error!;
    expect(error).toMatch(/^Network error: the SIEM at 127\.0\.0\.1 answered with headers larger than Aegis reads/);
    expect(error).not.toMatch(/UND_ERR/);
  });
});
