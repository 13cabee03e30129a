// Issue 2: bad input is a 4xx {"error": {"code", "message"}} naming the field, never a 5xx; auth and
// tenancy (401 / 404); a refused request writes nothing.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';

describe.each(DB_KINDS)('input validation, authentication and tenancy (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;
  let orgId: string;
  let apiKey: string;
  let destId: string;
  const base = () => `/api/orgs/${orgId}/forwarding-destinations`;
  const url = () => `${receiver.url}/ingest`;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
    receiver = await startReceiver();
    ({ orgId, apiKey } = await svc.newOrg());
    const d = await svc.request('POST', base(), { apiKey, body: { url: url(), auth_header_name: 'Authorization', auth_header_value: 'Bearer keep-me' } });
    destId = d.body.destination_id;
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  async function snapshot(): Promise<string> {
    const { rows } = await tdb.db.query<{ j: string }>(
      `SELECT row_to_json(t)::text AS j FROM (SELECT id, url, auth_header_name, encode(auth_header_sealed, 'hex') AS sealed, enabled, siem, options, updated_at FROM destinations ORDER BY id) t`,
    );
    return rows.map((r) => r.j).join('\n');
  }
  function expectError(res: { status: number; body: { error: { code: unknown; message: unknown } }; headers: Headers }, status: number, field?: string) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(Object.keys(res.body)).toEqual(['error']);
    expect(typeof res.body.error.code).toBe('string');
    expect(typeof res.body.error.message).toBe('string');
    if (field) expect(res.body.error.message).toContain(field);
  }

  const createCases: Array<[string, unknown, string]> = [
    ['unknown field', { url: 'https://siem.example/x', colour: 'red' }, 'colour'],
    ['unknown nested field', { url: 'https://siem.example/x', options: { index: 'a', evil: 'b' } }, 'evil'],
    ['missing url', { auth_header_name: 'Authorization' }, 'url'],
    ['url of the wrong type', { url: 123 }, 'url'],
    ['enabled of the wrong type', { url: 'https://siem.example/x', enabled: 'yes' }, 'enabled'],
    ['auth_header_value of the wrong type', { url: 'https://siem.example/x', auth_header_name: 'Authorization', auth_header_value: 42 }, 'auth_header_value'],
    ['over-long url', { url: `https://siem.example/${'a'.repeat(3000)}` }, 'url'],
    ['over-long header name', { url: 'https://siem.example/x', auth_header_name: 'X'.repeat(200), auth_header_value: 'v' }, 'auth_header_name'],
    ['over-long header value', { url: 'https://siem.example/x', auth_header_name: 'Authorization', auth_header_value: 'v'.repeat(9000) }, 'auth_header_value'],
    ['not a URL', { url: 'not a url' }, 'url'],
    ['ftp URL', { url: 'ftp://siem.example/x' }, 'url'],
    ['javascript URL', { url: 'javascript:alert(1)' }, 'url'],
    ['URL with credentials', { url: 'https://user:pass@siem.example/x' }, 'url'],
    ['header name with CR/LF', { url: 'https://siem.example/x', auth_header_name: 'X-Token\r\nX-Evil: 1', auth_header_value: 'v' }, 'auth_header_name'],
    ['header name with a space', { url: 'https://siem.example/x', auth_header_name: 'X Token', auth_header_value: 'v' }, 'auth_header_name'],
    ['header name with a colon', { url: 'https://siem.example/x', auth_header_name: 'X-Token:', auth_header_value: 'v' }, 'auth_header_name'],
    ['header name with non-ASCII', { url: 'https://siem.example/x', auth_header_name: 'X-Tökén', auth_header_value: 'v' }, 'auth_header_name'],
    [
      'header value with CR/LF',
      { url: 'https://siem.example/x', auth_header_name: 'Authorization', auth_header_value: 'Bearer a\r\nX-Evil: 1' },
      'auth_header_value',
    ],
    ['header value with LF only', { url: 'https://siem.example/x', auth_header_name: 'Authorization', auth_header_value: 'Bearer a\nb' }, 'auth_header_value'],
    ['header value with NUL', { url: 'https://siem.example/x', auth_header_name: 'Authorization', auth_header_value: 'Bearer a\u0000b' }, 'auth_header_value'],
    [
      'header value with non-ASCII',
      { url: 'https://siem.example/x', auth_header_name: 'Authorization', auth_header_value: 'Bearer ümlaut' },
      'auth_header_value',
    ],
    ['Host header', { url: 'https://siem.example/x', auth_header_name: 'Host', auth_header_value: 'evil.example' }, 'auth_header_name'],
    ['Content-Length header', { url: 'https://siem.example/x', auth_header_name: 'content-length', auth_header_value: '0' }, 'auth_header_name'],
    ['Transfer-Encoding header', { url: 'https://siem.example/x', auth_header_name: 'Transfer-Encoding', auth_header_value: 'chunked' }, 'auth_header_name'],
    ['Connection header', { url: 'https://siem.example/x', auth_header_name: 'CONNECTION', auth_header_value: 'close' }, 'auth_header_name'],
    ['Cookie header', { url: 'https://siem.example/x', auth_header_name: 'Cookie', auth_header_value: 'session=abc' }, 'auth_header_name'],
    ['X-Forwarded-For header', { url: 'https://siem.example/x', auth_header_name: 'X-Forwarded-For', auth_header_value: '10.0.0.1' }, 'auth_header_name'],
    ['X-Forwarded-Host header', { url: 'https://siem.example/x', auth_header_name: 'X-Forwarded-Host', auth_header_value: 'internal' }, 'auth_header_name'],
    [
      'Proxy-Authorization header',
      { url: 'https://siem.example/x', auth_header_name: 'Proxy-Authorization', auth_header_value: 'Basic abc' },
      'auth_header_name',
    ],
    ['unknown siem', { url: 'https://siem.example/x', siem: 'syslog' }, 'siem'],
    [
      'Sumo Logic header option with CR/LF',
      { url: 'https://siem.example/receiver/v1/http/t', siem: 'sumo_logic', options: { sourceName: 'aegis\r\nX-Evil: 1' } },
      'options.sourceName',
    ],
    ['body is an array', [{ url: 'https://siem.example/x' }], 'body'],
  ];
  it.each(createCases)('create refuses %s with a 400 naming the field, and writes nothing', async (_name, body, field) => {
    const before = await snapshot();
    const res = await svc.request('POST', base(), { apiKey, body });
    expectError(res, 400, field);
    expect(await snapshot()).toBe(before);
  });

  // Issue 14: PostgreSQL cannot store NUL, and a lone surrogate is not Unicode; both were a 500.
  const unstorable: Array<[string, string]> = [
    ['NUL', 'a\\u0000b'],
    ['a lone high surrogate', 'a\\ud800b'],
    ['a lone low surrogate', '\\udc00'],
  ];
  it.each(unstorable)('create and PATCH refuse %s in options with a 400 naming the field, and write nothing', async (_name, bad) => {
    const before = await snapshot();
    const splunk = {
      url: 'https://siem.example/services/collector/event',
      siem: 'splunk_hec',
      auth_header_name: 'Authorization',
      auth_header_value: 'Splunk 0f6c1a2e-1234-4b5c-9d8e-aabbccddeeff',
    };
    // rawBody: the escapes reach the server as JSON escapes, exactly as a client would send them.
    const create = await svc.request('POST', base(), { apiKey, rawBody: JSON.stringify({ ...splunk, options: { index: 'IDX' } }).replace('IDX', bad) });
    expectError(create, 400, 'options.index');
    const patch = await svc.request('PATCH', `${base()}/${destId}`, { apiKey, rawBody: `{"options":{"index":"${bad}"}}` });
    expectError(patch, 400, 'options.index');
    const other = await svc.request('PATCH', `${base()}/${destId}`, { apiKey, rawBody: `{"url":"https://siem.example/${bad}"}` });
    expectError(other, 400, 'url');
    expect(await snapshot()).toBe(before);
  });

  // A hostile tenant's review: Splunk's, Datadog's and Sumo Logic's options were stored on a custom
  // webhook (destId's preset), shown as set, and read by nothing.
  it("create and PATCH refuse another preset's option, naming it and what the preset takes; its own are kept", async () => {
    const before = await snapshot();
    for (const options of [{ index: 'x' }, { service: 's' }, { sourceName: 'n', max_events_per_second: 10 }, { fields: 'a=b' }]) {
      const patch = await svc.request('PATCH', `${base()}/${destId}`, { apiKey, body: { options } });
      expectError(patch, 400);
      expect(patch.body.error.message).toMatch(
        /^options\.\w+: is not an option of the custom preset, which would ignore it; it takes max_events_per_second, max_concurrent_requests$/,
      );
      const create = await svc.request('POST', base(), { apiKey, body: { url: url(), options } });
      expectError(create, 400);
    }
    expect(await snapshot()).toBe(before);
    // Each preset's own options and the delivery limits still pass.
    const splunk = await svc.request('POST', base(), {
      apiKey,
      body: {
        url: 'https://siem.example/services/collector/event',
        siem: 'splunk_hec',
        auth_header_name: 'Authorization',
        auth_header_value: 'Splunk 0f6c1a2e-1234-4b5c-9d8e-aabbccddeeff',
        enabled: false,
        options: { index: 'main', sourcetype: 'aegis', host: 'h', source: 's', max_concurrent_requests: 2 },
      },
    });
    expect(splunk.status, splunk.text).toBe(201);
    const limits = await svc.request('PATCH', `${base()}/${destId}`, { apiKey, body: { options: { max_events_per_second: 50 } } });
    expect(limits.status, limits.text).toBe(200);
    expect((await svc.request('PATCH', `${base()}/${destId}`, { apiKey, body: { options: {} } })).status).toBe(200);
    // One stored before this check (a second review's): the dashboard sends it back unchanged with every
    // save, which must still rename; changing it is refused.
    await tdb.db.query(`UPDATE destinations SET options = '{"index": "old"}' WHERE id = $1`, [destId]);
    const renamed = await svc.request('PATCH', `${base()}/${destId}`, { apiKey, body: { name: 'renamed', options: { index: 'old' } } });
    expect(renamed.status, renamed.text).toBe(200);
    expectError(await svc.request('PATCH', `${base()}/${destId}`, { apiKey, body: { options: { index: 'new' } } }), 400);
    expect((await svc.request('PATCH', `${base()}/${destId}`, { apiKey, body: { options: {} } })).status).toBe(200);
    await svc.request('DELETE', `${base()}/${splunk.body.destination_id as string}`, { apiKey });
  });

  it('a refused credential is never echoed in the error message', async () => {
    const res = await svc.request('POST', base(), {
      apiKey,
      body: { url: url(), auth_header_name: 'Authorization', auth_header_value: 'Bearer s3cr3t-echo\r\nX: y' },
    });
    expectError(res, 400, 'auth_header_value');
    expect(res.text).not.toContain('s3cr3t-echo');
    expect(svc.logs.text()).not.toContain('s3cr3t-echo');
  });

  it('valid JSON with a prototype-poisoning key is refused as that, not as a syntax error', async () => {
    // A black-box review's: "not valid JSON" sent a client author hunting for a syntax error.
    for (const rawBody of [
      '{"url": "https://x.example/", "__proto__": {"admin": true}}',
      '{"url": "https://x.example/", "constructor": {"prototype": {"admin": true}}}',
    ]) {
      const res = await svc.request('POST', base(), { apiKey, rawBody });
      expect(res.status, rawBody).toBe(400);
      expect(res.body.error.code).toBe('invalid_json');
      expect(res.body.error.message).toBe('The request body holds a key named __proto__, or constructor with prototype in it, which is refused.');
    }
    expect((await svc.request('POST', base(), { apiKey, rawBody: '{"url": "https://x.example/",' })).body.error.message).toBe(
      'The request body is not valid JSON.',
    );
  });

  it('malformed JSON, an empty JSON body, and a non-JSON content type are 4xx with the error shape', async () => {
    const before = await snapshot();
    expectError(await svc.request('POST', base(), { apiKey, rawBody: '{"url": "https://x.example/",' }), 400);
    expect((await svc.request('POST', base(), { apiKey, rawBody: '{"url": "https://x.example/",' })).body.error.code).toBe('invalid_json');
    expectError(await svc.request('POST', base(), { apiKey, rawBody: '' }), 400);
    expectError(await svc.request('POST', base(), { apiKey, rawBody: 'null' }), 400);
    expectError(await svc.request('POST', base(), { apiKey, rawBody: '"just a string"' }), 400);
    const form = await svc.request('POST', base(), {
      apiKey,
      rawBody: 'url=https://x.example/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(form, 415);
    const text = await svc.request('POST', base(), { apiKey, rawBody: '{"url":"https://x.example/"}', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBeGreaterThanOrEqual(400);
    expect(text.status).toBeLessThan(500);
    expect(text.body.error.code).toBeTruthy();
    expectError(await svc.request('PATCH', `${base()}/${destId}`, { apiKey, rawBody: '{enabled: false}' }), 400);
    expect(await snapshot()).toBe(before);
  });

  it('a body is read exactly or refused: bytes that are not UTF-8, another charset, a compressed body', async () => {
    const before = await snapshot();
    const send = (body: Buffer, headers: Record<string, string> = {}) =>
      fetch(`${svc.baseUrl}${base()}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers },
        body: new Uint8Array(body),
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as { error: { code: string; message: string } } }));
    const json = (name: string) => Buffer.from(JSON.stringify({ url: url(), name }));
    // Invalid bytes were stored as U+FFFD: refused instead.
    const broken = Buffer.concat([Buffer.from(`{"url":"${url()}","name":"bad `), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' bytes"}')]);
    expect(await send(broken)).toMatchObject({ status: 400, body: { error: { code: 'invalid_json', message: expect.stringMatching(/UTF-8/) } } });
    // Latin-1 declared as such was read as UTF-8 ("caf\ufffd"): a 415 saying what to send.
    const latin1 = Buffer.from(`{"url":"${url()}","name":"caf\xe9"}`, 'latin1');
    expect(await send(latin1, { 'content-type': 'application/json; charset=iso-8859-1' })).toMatchObject({
      status: 415,
      body: { error: { code: 'unsupported_media_type', message: expect.stringMatching(/UTF-8/) } },
    });
    // A gzipped body read as JSON was "not valid JSON": say why.
    expect(await send(gzipSync(json('zipped')), { 'content-encoding': 'gzip' })).toMatchObject({
      status: 415,
      body: { error: { code: 'unsupported_media_type', message: expect.stringMatching(/Content-Encoding/) } },
    });
    // JSON as text/plain: the media type is refused (it read as a string and failed "must be object").
    expect((await send(json('plain'), { 'content-type': 'text/plain' })).status).toBe(415);
    expect(await snapshot()).toBe(before);
    // What is valid still works: UTF-8 with a byte order mark, charset=utf-8 in any case, quoted.
    for (const [body, headers] of [
      [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json('café bom')]), { 'content-type': 'application/json' }],
      [json('café charset'), { 'content-type': 'application/json; charset="UTF-8"' }],
      // ASCII is UTF-8; a charset inside another parameter's quoted value is that value's text.
      [json('ascii'), { 'content-type': 'application/json; charset=us-ascii' }],
      [json('quoted'), { 'content-type': 'application/json; profile="a;charset=latin1"' }],
      [json('identity'), { 'content-encoding': 'identity, Identity' }],
    ] as const) {
      const res = await send(body, headers);
      expect(res.status, JSON.stringify(headers)).toBe(201);
    }
    // A body-optional route sent an empty body typed text/plain (fetch with body: ''): no body, not a 415.
    const test = await fetch(`${svc.baseUrl}${base()}/${destId}/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/plain;charset=UTF-8' },
      body: '',
    });
    expect(test.status, await test.text()).toBe(200);
  });

  it('a body over the 2 MB limit is a 413 in the error shape, and writes nothing', async () => {
    const before = await snapshot();
    const res = await svc.request('POST', base(), { apiKey, rawBody: JSON.stringify({ url: url(), options: { index: 'x'.repeat(3 * 1024 * 1024) } }) });
    expectError(res, 413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(await snapshot()).toBe(before);
  });

  const patchCases: Array<[string, unknown, string]> = [
    ['an empty object', {}, ''],
    ['an unknown field', { colour: 'x' }, 'colour'],
    ['the destination_id', { destination_id: 'fwd_other' }, 'destination_id'],
    ['enabled of the wrong type', { enabled: 'false' }, 'enabled'],
    ['enabled null', { enabled: null }, 'enabled'],
    ['a URL that is not https (private not allowed in prod; here ftp)', { url: 'ftp://siem.example/' }, 'url'],
    ['a header value with CR/LF', { auth_header_value: 'Bearer x\r\nHost: evil' }, 'auth_header_value'],
    ['a reserved header name', { auth_header_name: 'Transfer-Encoding' }, 'auth_header_name'],
    ['an over-long header value', { auth_header_value: 'x'.repeat(9000) }, 'auth_header_value'],
  ];
  it.each(patchCases)('PATCH refuses %s with a 400 and leaves the row unchanged', async (_name, body, field) => {
    const before = await snapshot();
    const res = await svc.request('PATCH', `${base()}/${destId}`, { apiKey, body });
    expectError(res, 400, field || undefined);
    expect(await snapshot()).toBe(before);
  });

  it('PATCH {} says what a PATCH needs', async () => {
    const res = await svc.request('PATCH', `${base()}/${destId}`, { apiKey, body: {} });
    expectError(res, 400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message).toMatch(/at least one|fewer than 1|field/i);
  });

  it('no key, a wrong key, or a malformed Authorization header: 401 (before any body validation)', async () => {
    const before = await snapshot();
    const calls: Array<[string, string]> = [
      ['GET', base()],
      ['POST', base()],
      ['GET', `${base()}/${destId}`],
      ['PATCH', `${base()}/${destId}`],
      ['DELETE', `${base()}/${destId}`],
      ['POST', `${base()}/${destId}/test`],
    ];
    for (const [method, path] of calls) {
      const none = await svc.request(method, path, method === 'POST' || method === 'PATCH' ? { rawBody: '{broken' } : {});
      expectError(none, 401);
      expect(none.body.error.code).toBe('unauthorized');
      const wrong = await svc.request(method, path, { apiKey: 'aeg_' + 'x'.repeat(43), ...(method === 'PATCH' ? { body: {} } : {}) });
      expectError(wrong, 401);
      const basic = await svc.request(method, path, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
      expectError(basic, 401);
    }
    // An over-long Authorization header value is still a plain 401 (or the HTTP layer's 431), never 5xx.
    const long = await svc.request('GET', base(), { apiKey: 'k'.repeat(8000) });
    expect([401, 431]).toContain(long.status);
    expect(await snapshot()).toBe(before);
    expect(receiver.requests).toHaveLength(0);
  });

  it("another org's path or destination answers 404 for every call, and changes nothing", async () => {
    const other = await svc.newOrg('Other org');
    const before = await snapshot();
    // My key on the other org's path.
    const otherBase = `/api/orgs/${other.orgId}/forwarding-destinations`;
    expectError(await svc.request('GET', otherBase, { apiKey }), 404);
    expectError(await svc.request('POST', otherBase, { apiKey, body: { url: url() } }), 404);
    expectError(await svc.request('GET', `${otherBase}/${destId}`, { apiKey }), 404);
    // The other org's key, on its own path, naming my destination.
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { enabled: false }],
      ['DELETE', undefined],
      ['POST', undefined],
    ] as const) {
      const path = method === 'POST' ? `${otherBase}/${destId}/test` : `${otherBase}/${destId}`;
      expectError(await svc.request(method, path, { apiKey: other.apiKey, ...(body ? { body } : {}) }), 404);
    }
    expect((await svc.request('GET', otherBase, { apiKey: other.apiKey })).body).toEqual([]);
    expect(await snapshot()).toBe(before);
    expect(receiver.requests).toHaveLength(0);
  });

  it('malformed ids in the path are 4xx, never 5xx', async () => {
    for (const p of [
      `${base()}/fwd_%E0%A4%A`,
      `${base()}/not-an-id`,
      `${base()}/fwd_${'a'.repeat(200)}`,
      `/api/orgs/not-an-org/forwarding-destinations`,
      `${base()}/%00`,
      `${base()}/fwd_x'--`,
    ]) {
      const res = await svc.request('GET', p, { apiKey });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body.error.code).toBeTruthy();
    }
  });

  it('replay takes no body at all, or an empty object', async () => {
    const none = await svc.request('POST', `${base()}/${destId}/replay`, { apiKey });
    expect(none.status).toBe(200);
    expect(none.body.replayed).toBe(0);
    const empty = await svc.request('POST', `${base()}/${destId}/replay`, { apiKey, body: {} });
    expect(empty.status).toBe(200);
    expect(empty.body.replayed).toBe(0);
    const bad = await svc.request('POST', `${base()}/${destId}/replay`, { apiKey, body: { job_ids: 'all' } });
    expectError(bad, 400, 'job_ids');
  });

  it('no 5xx for assorted hostile bodies', async () => {
    const bodies = [
      '{"__proto__": {"admin": true}, "url": "https://x.example/"}',
      '{"constructor": {"prototype": {}}, "url": "https://x.example/"}',
      `{"url": "${'\\u0000'.repeat(10)}"}`,
      '[]',
      '123',
      'true',
      '{"url": {"$gt": ""}}',
      `{"url": "https://x.example/", "options": {"index": "${'i'.repeat(300)}"}}`,
      '{"url": "https://[::1/"}',
      '{"url": "https://x.example:99999/"}',
      '\u0000\u0001',
      '{"url": "https://x.example/", "auth_header_name": "", "auth_header_value": ""}',
    ];
    const before = (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM destinations')).rows[0]!.n;
    for (const rawBody of bodies) {
      const res = await svc.request('POST', base(), { apiKey, rawBody });
      expect(res.status, rawBody).toBeLessThan(500);
      expect(res.status, rawBody).toBeGreaterThanOrEqual(400);
      expect(res.body.error.message, rawBody).toBeTruthy();
    }
    expect((await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM destinations')).rows[0]!.n).toBe(before);
    expect(svc.logs.text()).not.toMatch(/"level":50/);
  });
});
