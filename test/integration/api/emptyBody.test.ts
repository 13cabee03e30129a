// A zero-length request body carries nothing: whatever type it is labelled with, it is no body. Many
// HTTP clients and harnesses send `Content-Type: application/json` on every request, and
// `curl -X POST -d ''` sends `Content-Type: application/x-www-form-urlencoded` with
// `Content-Length: 0`; the body-optional routes (.../test, .../replay) answered those with 400
// invalid_json and 415. A route that requires a body still refuses a missing one, as it always has,
// and nothing with bytes in it is read any more leniently than before.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { respondWith, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { jobRows, seedEvents } from '../delivery/support.js';

interface RawAnswer {
  status: number;
  body: { error?: { code: string; message: string; details?: unknown }; [k: string]: unknown };
}

describe.each(DB_KINDS)('a zero-length body is no body (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let okReceiver: Receiver;
  let failingReceiver: Receiver;
  let orgId: string;
  let apiKey: string;
  const base = () => `/api/orgs/${orgId}/forwarding-destinations`;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
    okReceiver = await startReceiver();
    failingReceiver = await startReceiver(respondWith(503, 'maintenance'));
    ({ orgId, apiKey } = await svc.newOrg());
  });
  afterAll(async () => {
    await svc?.stop();
    await okReceiver?.close();
    await failingReceiver?.close();
    await tdb?.close();
  });

  /**
   * A request with exactly these headers and these bytes, with a Content-Length or, for `{ chunked }`,
   * sent chunked (no bytes: only the last chunk), as curl and other clients send them.
   */
  type Body = string | { chunked: string };
  function raw(method: string, path: string, headers: Record<string, string>, body: Body = ''): Promise<RawAnswer> {
    const url = new URL(svc.baseUrl + path);
    const all: Record<string, string> = { authorization: `Bearer ${apiKey}`, ...headers };
    if (typeof body === 'string') all['content-length'] = String(Buffer.byteLength(body));
    else all['transfer-encoding'] = 'chunked';
    return new Promise((resolve, reject) => {
      const req = httpRequest({ hostname: url.hostname, port: url.port, path: url.pathname, method, headers: all }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : {}) as RawAnswer['body'] });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      const bytes = typeof body === 'string' ? body : body.chunked;
      req.end(bytes === '' ? undefined : bytes);
    });
  }

  const EMPTY_BODIES: Array<[string, Record<string, string>, Body]> = [
    ['application/json, Content-Length: 0', { 'content-type': 'application/json' }, ''],
    ['application/json; charset=utf-8, Content-Length: 0', { 'content-type': 'application/json; charset=utf-8' }, ''],
    ['application/json, chunked with no bytes', { 'content-type': 'application/json' }, { chunked: '' }],
    // What `curl -X POST -d ''` sends.
    ['application/x-www-form-urlencoded, Content-Length: 0', { 'content-type': 'application/x-www-form-urlencoded' }, ''],
    ['text/plain, Content-Length: 0', { 'content-type': 'text/plain' }, ''],
    ['application/x-www-form-urlencoded, chunked with no bytes', { 'content-type': 'application/x-www-form-urlencoded' }, { chunked: '' }],
    ['no content type, chunked with no bytes', {}, { chunked: '' }],
  ];

  async function destination(receiver: Receiver): Promise<string> {
    const res = await svc.request('POST', base(), { apiKey, body: { url: `${receiver.url}/hook` } });
    expect(res.status, res.text).toBe(201);
    return res.body.destination_id as string;
  }

  it('POST .../test with an empty body of any of these types answers as with no body', async () => {
    const destId = await destination(okReceiver);
    const none = await raw('POST', `${base()}/${destId}/test`, {});
    expect(none.status, JSON.stringify(none.body)).toBe(200);
    expect(none.body).toMatchObject({ ok: true, status_code: 200, error: null });
    // At most 5 probes a minute per destination: the other four here.
    for (const [name, headers, body] of EMPTY_BODIES.slice(0, 4)) {
      const res = await raw('POST', `${base()}/${destId}/test`, headers, body);
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.body, name).toEqual(none.body);
    }
  });

  it('POST .../replay with an empty body of any of these types replays the dead letters, as with no body', async () => {
    // One destination per way of sending nothing, each with one dead letter of the same event.
    const ids: string[] = [];
    for (let i = 0; i < EMPTY_BODIES.length; i++) ids.push(await destination(failingReceiver));
    await seedEvents(tdb.db, orgId, 1);
    for (const id of ids) await expect.poll(async () => (await jobRows(tdb.db, id))[0]?.status, { timeout: 90_000 }).toBe('failed');
    for (const [i, [name, headers, body]] of EMPTY_BODIES.entries()) {
      const res = await raw('POST', `${base()}/${ids[i]}/replay`, headers, body);
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.body.replayed, name).toBe(1);
      expect((await jobRows(tdb.db, ids[i]!))[0]?.status, name).not.toBe('failed');
    }
  });

  it('a request empty by its framing (neither Content-Length nor Transfer-Encoding, or a length of 00) is no body either', async () => {
    const destId = await destination(okReceiver);
    const url = new URL(svc.baseUrl);
    /** The request's head as written, on a socket of its own: Node's client would add a Content-Length. */
    const rawHead = (lines: string[]) =>
      new Promise<number>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () =>
          socket.write(
            [`POST ${base()}/${destId}/test HTTP/1.1`, `Host: ${url.host}`, `Authorization: Bearer ${apiKey}`, 'Connection: close', ...lines, '', ''].join(
              '\r\n',
            ),
          ),
        );
        let answer = '';
        socket.on('data', (c: Buffer) => (answer += c.toString('utf8')));
        socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
        socket.on('error', reject);
      });
    // RFC 9112, 6.3: a request with neither header has no body.
    expect(await rawHead(['Content-Type: application/x-www-form-urlencoded'])).toBe(200);
    expect(await rawHead(['Content-Type: application/xml', 'Content-Length: 00'])).toBe(200);
    expect((await svc.request('DELETE', `${base()}/${destId}`, { apiKey })).status).toBe(200);
  });

  it('a route that requires a body refuses an empty one as it refuses a missing one: 400 validation_failed', async () => {
    const missing = await raw('POST', base(), {});
    expect(missing.status).toBe(400);
    expect(missing.body.error?.code).toBe('validation_failed');
    for (const [name, headers, body] of EMPTY_BODIES) {
      const res = await raw('POST', base(), headers, body);
      expect(res.status, name).toBe(400);
      expect(res.body, name).toEqual(missing.body);
    }
    expect((await svc.request('GET', base(), { apiKey })).body.filter((d: { url: string }) => d.url.startsWith(okReceiver.url)).length).toBe(1);
  });

  it('a body with anything in it is read as strictly as before', async () => {
    const destId = await destination(okReceiver);
    const replay = `${base()}/${destId}/replay`;
    // Whitespace is not nothing: it is not JSON.
    const blank = await raw('POST', replay, { 'content-type': 'application/json' }, ' ');
    expect(blank.status).toBe(400);
    expect(blank.body.error?.code).toBe('invalid_json');
    // A form, text, another media type, or bytes without a type: 415, as ever.
    for (const [headers, body] of [
      [{ 'content-type': 'application/x-www-form-urlencoded' }, 'a=1'],
      [{ 'content-type': 'text/plain' }, '{}'],
      [{ 'content-type': 'application/xml' }, '<a/>'],
      [{}, '{}'],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, { chunked: 'a=1' }],
      [{}, { chunked: '{}' }],
    ] as Array<[Record<string, string>, Body]>) {
      const res = await raw('POST', replay, headers, body);
      expect(res.status, JSON.stringify(headers)).toBe(415);
      expect(res.body.error?.code).toBe('unsupported_media_type');
    }
    // Another charset or a compressed body with something in it: 415, as ever. With nothing in it
    // there is nothing to decode, and it is no body like any other empty one.
    expect((await raw('POST', replay, { 'content-type': 'application/json; charset=iso-8859-1' }, '{}')).status).toBe(415);
    expect((await raw('POST', replay, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, '{}')).status).toBe(415);
    const declared: Array<Record<string, string>> = [
      { 'content-type': 'application/json; charset=iso-8859-1' },
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    ];
    for (const headers of declared) {
      const res = await raw('POST', replay, headers, '');
      expect(res.status, JSON.stringify(headers)).toBe(200);
      expect(res.body.replayed).toBe(0);
    }
    // A path that is no route stays a 404 whatever the body.
    const nowhere = await raw('POST', `${base()}/${destId}/nowhere`, { 'content-type': 'application/xml' }, '<a/>');
    expect(nowhere.status).toBe(404);
  });
});
