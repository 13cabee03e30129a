// Issue 2: health, readiness, metrics, OpenAPI and docs are served; structured JSON logs carry request
// ids (x-request-id echoed) and redact credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { POLL } from '../../support/waitFor.js';
import { PAGE_CSP } from '../../../src/api/app.js';

describe.each(DB_KINDS)('health, metrics, OpenAPI, docs and logs (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  it('/healthz and /readyz answer 200 without a key; /readyz says 503 when migrations are missing', async () => {
    const h = await svc.request('GET', '/healthz');
    expect(h.status).toBe(200);
    expect(h.body.status).toBe('ok');
    const r = await svc.request('GET', '/readyz');
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ready');

    const { rows } = await tdb.db.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1');
    await tdb.db.query('DELETE FROM schema_migrations WHERE version = $1', [rows[0]!.version]);
    try {
      const down = await svc.request('GET', '/readyz');
      expect(down.status).toBe(503);
      expect(down.body.status).toBe('unavailable');
    } finally {
      await tdb.db.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [rows[0]!.version, rows[0]!.name]);
    }
    expect((await svc.request('GET', '/readyz')).status).toBe(200);
  });

  it('/metrics is Prometheus text with aegis_ metrics', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    const d = await svc.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey, body: { url: `${receiver.url}/m` } });
    await svc.request('POST', `/api/orgs/${orgId}/forwarding-destinations/${d.body.destination_id}/test`, { apiKey });
    const res = await svc.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^# HELP aegis_\w+ /m);
    expect(res.text).toMatch(/^# TYPE aegis_\w+ (counter|gauge|histogram|summary)/m);
    expect(res.text).toMatch(/^aegis_\w+(\{[^}]*\})? [0-9.e+-]+$/m);
    expect(res.text).toMatch(/^# TYPE aegis_queue_depth gauge$/m);
    expect(res.text).toMatch(/^# TYPE aegis_events_delivered_total counter$/m);
    expect(res.text).toMatch(/^aegis_process_cpu_user_seconds_total /m);
  });

  it('/metrics without AEGIS_METRICS_TOKEN is open but names no destination (aggregate series only)', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    const d = await svc.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey, body: { url: `${receiver.url}/agg` } });
    const id = d.body.destination_id as string;
    const pf = await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'hello' } });
    await receiver.waitFor((reqs) => reqs.some((r) => r.path === '/agg' && r.body.toString().includes(pf.body.preflight_id as string)), POLL.timeout);
    await expect.poll(async () => (await svc.request('GET', '/metrics')).text, POLL).toMatch(/^aegis_events_delivered_total\{siem="custom"\} [1-9]/m);
    const res = await svc.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(id);
    expect(res.text).not.toContain('destination_id');
    expect(res.text).not.toContain(orgId);
    expect(res.text).toMatch(/^aegis_queue_depth\{status="pending"\} \d+$/m);
    expect(res.text).toMatch(/^aegis_queue_oldest_due_age_seconds \d/m);
  });

  it('/metrics with AEGIS_METRICS_TOKEN wants the bearer token (401 otherwise) and then labels destinations', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const guarded = await startTestService(tdb.db, { AEGIS_METRICS_TOKEN: token });
    // The job stays pending, so its destination shows in the queue gauges read from the database: a
    // 429 with an hour's Retry-After gives it back without counting a try (a 503 would be retried a
    // second later, and dead-lettered within seconds by the harness's short retry schedule).
    receiver.setHandler((req) => (req.path === '/tok' ? { status: 429, headers: { 'retry-after': '3600' }, body: 'slow down' } : { status: 200, body: 'ok' }));
    try {
      const { orgId, apiKey } = await guarded.newOrg();
      const d = await guarded.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey, body: { url: `${receiver.url}/tok` } });
      const id = d.body.destination_id as string;
      await guarded.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'hello' } });
      for (const headers of [
        {} as Record<string, string>,
        { authorization: `Bearer ${token}x` },
        { authorization: `Bearer ${token.slice(0, -1)}` },
        { authorization: token },
        { authorization: `Basic ${token}` },
      ]) {
        const res = await guarded.request('GET', '/metrics', { headers });
        expect(res.status, JSON.stringify(headers)).toBe(401);
        expect(res.body.error.code).toBe('unauthorized');
        expect(res.text).not.toContain('aegis_');
        // RFC 9110 15.5.2: a 401 says which scheme it takes (an authorization review found none did).
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="aegis"');
      }
      // The header read as the API reads it (an authorization review: the scheme in another case, or
      // two spaces after it, was refused here and taken by the API).
      for (const authorization of [`bearer ${token}`, `BEARER  ${token}`]) {
        expect((await guarded.request('GET', '/metrics', { headers: { authorization } })).status, authorization).toBe(200);
      }
      // The API key of an organization is not the metrics token either.
      expect((await guarded.request('GET', '/metrics', { apiKey })).status).toBe(401);
      // And the API's own 401s name the scheme too.
      const noKey = await guarded.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey: 'not-a-key-at-all-0123456789' });
      expect(noKey.status).toBe(401);
      expect(noKey.headers.get('www-authenticate')).toBe('Bearer realm="aegis"');
      await expect
        .poll(async () => (await guarded.request('GET', '/metrics', { headers: { authorization: `Bearer ${token}` } })).text, POLL)
        .toContain(`aegis_queue_depth{destination_id="${id}",status="pending"} 1`);
    } finally {
      receiver.setHandler(() => ({ status: 200, body: '{"text":"Success","code":0}' }));
      await guarded.stop();
    }
  });

  it('/openapi.json is OpenAPI 3.1 listing every product page path with request schemas', async () => {
    const res = await svc.request('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\.1\./);

    const paths = doc.paths as Record<string, Record<string, any>>;
    const coll = '/api/orgs/{org_id}/forwarding-destinations';
    const one = `${coll}/{destination_id}`;
    expect(Object.keys(paths[coll]!)).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(paths[one]!)).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    expect(paths[`${one}/test`]!.post).toBeDefined();
    const createSchema = paths[coll]!.post.requestBody.content['application/json'].schema;
    expect(createSchema.required).toContain('url');
    expect(Object.keys(createSchema.properties)).toEqual(expect.arrayContaining(['url', 'auth_header_name', 'auth_header_value', 'siem']));
    expect(createSchema.additionalProperties).toBe(false);
    const patchSchema = paths[one]!.patch.requestBody.content['application/json'].schema;
    expect(Object.keys(patchSchema.properties)).toEqual(expect.arrayContaining(['url', 'auth_header_name', 'auth_header_value', 'enabled']));
    // The answer refers to the one Destination component, which holds the fields.
    expect(paths[coll]!.post.responses['201'].content['application/json'].schema.$ref).toBe('#/components/schemas/Destination');
    const props = JSON.stringify((doc.components as { schemas: Record<string, unknown> }).schemas.Destination);
    for (const f of ['destination_id', 'auth_header_configured', 'created_at', 'status', 'last_delivery_at', 'last_error', 'siem']) expect(props).toContain(f);
    expect(props).not.toContain('"auth_header_value"');
    expect(paths[`${one}/test`]!.post.responses['200']).toBeDefined();
    expect(JSON.stringify(doc.components ?? {})).toContain('bearer');
  });

  // The document is the same for a process's life and several hundred KB: it is written once, and a
  // client (the docs page on every load) that has it already gets a 304 without a body.
  it('/openapi.json and /docs/json are one document with a stable ETag, and 304 when it matches', async () => {
    const first = await fetch(`${svc.baseUrl}/openapi.json`);
    const text = await first.text();
    const etag = first.headers.get('etag');
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{16,}"$/);
    expect(JSON.parse(text).openapi).toMatch(/^3\.1\./);
    const docs = await fetch(`${svc.baseUrl}/docs/json`);
    expect(docs.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await docs.text()).toBe(text);
    expect(docs.headers.get('etag')).toBe(etag);
    for (const path of ['/openapi.json', '/docs/json']) {
      const again = await fetch(`${svc.baseUrl}${path}`, { headers: { 'if-none-match': etag! } });
      expect(again.status, path).toBe(304);
      expect(await again.text(), path).toBe('');
      const other = await fetch(`${svc.baseUrl}${path}`, { headers: { 'if-none-match': '"something-else-entirely"' } });
      expect(other.status, path).toBe(200);
      expect(await other.text(), path).toBe(text);
    }
  });

  it('/docs serves browsable HTML', async () => {
    const res = await fetch(`${svc.baseUrl}/docs`, { redirect: 'follow' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html.toLowerCase()).toContain('<html');
    expect(html.toLowerCase()).toMatch(/swagger|openapi/);
  });

  it("/docs and its assets carry the dashboard's Content-Security-Policy", async () => {
    const page = await fetch(`${svc.baseUrl}/docs/`);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="\.?([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(3);
    for (const path of ['/docs', '/docs/', '/docs/json', ...assets.map((a) => `/docs${a.startsWith('/') ? '' : '/'}${a}`)]) {
      const res = await fetch(`${svc.baseUrl}${path}`, { redirect: 'manual' });
      await res.arrayBuffer(); // an unread body keeps the connection busy and the server from closing
      expect(res.status, path).toBeLessThan(400);
      expect(res.headers.get('content-security-policy'), path).toBe(PAGE_CSP);
    }
    expect(PAGE_CSP).toContain("script-src 'self'");
    expect(PAGE_CSP).toContain("frame-ancestors 'none'");
    expect(PAGE_CSP).not.toContain('unsafe-inline');
  });

  it('logs are JSON lines with the request id; x-request-id is echoed (or generated); credentials are redacted', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    const rid = `test-req-${Date.now()}`;
    const secret = `Bearer logged-${Date.now()}-secret`;
    const res = await svc.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, {
      apiKey,
      headers: { 'x-request-id': rid },
      body: { url: `${receiver.url}/logs`, auth_header_name: 'Authorization', auth_header_value: secret },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe(rid);
    const generated = await svc.request('GET', '/healthz');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // A hostile request id is replaced, not echoed.
    const hostile = await svc.request('GET', '/healthz', { headers: { 'x-request-id': 'a b<script>' } });
    expect(hostile.headers.get('x-request-id')).not.toContain('<');
    // One that holds a value (an SSN, an access key id, a card number) is replaced too: it would be
    // written on every log line of the request.
    for (const value of [
      '123-45-6789',
      '123-45-6789-1',
      '1-4111111111111111',
      '4111111111111111-12345',
      'AKIAIOSFODNN7EXAMPLE',
      'req-4111111111111111',
      'ghp_0123456789abcdefghijABCDEFGHIJ012345',
    ]) {
      const carrying = await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, headers: { 'x-request-id': value }, body: { input: 'hello' } });
      expect(carrying.status, value).toBe(200);
      expect(carrying.headers.get('x-request-id'), value).toMatch(/^[0-9a-f-]{36}$/);
    }

    await expect.poll(() => svc.logs.lines.filter((l) => l.includes(rid)).length).toBeGreaterThanOrEqual(2);
    const mine = svc.logs.lines.filter((l) => l.includes(rid)).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const line of mine) {
      expect(line.reqId).toBe(rid);
      expect(typeof line.level).toBe('number');
      expect(typeof line.time).toBe('string');
      expect(line.msg).toBeTruthy();
    }
    expect(mine.some((l) => l.msg === 'destination created' && l.destination_id === res.body.destination_id)).toBe(true);
    expect(mine.some((l) => l.msg === 'request completed' && l.status === 201)).toBe(true);
    for (const l of svc.logs.lines) expect(() => JSON.parse(l) as unknown).not.toThrow();
    expect(svc.logs.text()).not.toContain('logged-');
    expect(svc.logs.text()).not.toContain(apiKey);

    // The logger itself redacts a credential that reaches it by mistake.
    svc.service.logger.info(
      { auth_header_value: 'should-not-appear', body: { auth_header_value: 'nor-this' }, req: { headers: { authorization: 'Bearer nor-that' } } },
      'redaction check',
    );
    const check = svc.logs.lines.find((l) => l.includes('redaction check'))!;
    expect(check).toContain('[redacted]');
    expect(check).not.toMatch(/should-not-appear|nor-this|nor-that/);
  });

  it('unknown routes answer 404 in the error shape', async () => {
    const res = await svc.request('GET', '/api/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect(res.body.error.message).toBe('No route for GET /api/nope');
    // A value typed into a URL is not sent back (nor, through the message, into a log).
    const leaky = await svc.request('GET', '/api/orgs/123-45-6789/jane%40example.com');
    expect(leaky.status).toBe(404);
    expect(leaky.body.error.message).not.toMatch(/123-45-6789|jane/);
    expect(leaky.body.error.message).toMatch(/^No route for GET \/api\/orgs\//);
    // Thousands of segments (a request line holds up to 16 KiB) are not each read by the detectors,
    // twice per request, on the only thread: past the first few they are counted (an attacker's review).
    const many = await svc.request('GET', `/api/${'a/'.repeat(5000)}123-45-6789`);
    expect(many.status).toBe(404);
    expect(many.body.error.message).toBe(`No route for GET /api/${'a/'.repeat(14)}…(4987 more segments)`);
  });

  // An authorization review: "/forwarding-destinations/" (a client joining URL parts) read the empty
  // last segment as a destination id: the list answered 400 and a create 405 naming GET, PATCH and DELETE.
  it('a trailing slash names the same resource, with the same credentials required', async () => {
    const org = await svc.newOrg();
    const base = `/api/orgs/${org.orgId}/forwarding-destinations`;
    const created = await svc.request('POST', `${base}/`, { apiKey: org.apiKey, body: { url: `${receiver.url}/slash`, enabled: false } });
    expect(created.status, created.text).toBe(201);
    const id = created.body.destination_id as string;
    const list = await svc.request('GET', `${base}/`, { apiKey: org.apiKey });
    expect(list.status, list.text).toBe(200);
    expect(list.body.map((d: { destination_id: string }) => d.destination_id)).toEqual([id]);
    expect((await svc.request('GET', `${base}/${id}/`, { apiKey: org.apiKey })).body.destination_id).toBe(id);
    expect((await svc.request('GET', `${base}/`)).status).toBe(401);
    expect((await svc.request('GET', `${base}/`, { apiKey: (await svc.newOrg()).apiKey })).status).toBe(404);
    expect((await svc.request('GET', '/healthz/')).status).toBe(200);
    expect((await fetch(`${svc.baseUrl}/docs/`, { redirect: 'manual' })).status).toBeLessThan(400);
  });

  it('a known path with the wrong method answers 405 and names the methods it takes', async () => {
    const org = await svc.newOrg();
    const list = await svc.request('PUT', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey, body: {} });
    expect(list.status).toBe(405);
    expect(list.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(list.body.error.code).toBe('method_not_allowed');
    expect(list.body.error.message).toMatch(/does not take PUT; it takes GET, HEAD, POST\.$/);
    // An id typed into the path is judged as on a 404: a value is not echoed.
    const one = await svc.request('PUT', `/api/orgs/${org.orgId}/forwarding-destinations/123-45-6789?x=1`, { apiKey: org.apiKey, body: {} });
    expect(one.status).toBe(405);
    expect(one.headers.get('allow')).toContain('PATCH');
    expect(one.body.error.message).not.toMatch(/123-45-6789|x=1/);
    // A path no route serves stays a 404 whatever the method.
    expect((await svc.request('DELETE', '/api/nope')).status).toBe(404);
  });

  it("a value typed into a URL's path is not written to the request log, on any route", async () => {
    const GH = 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
    const org = await svc.newOrg();
    // An unknown route, and a real one whose destination id is a token and an address.
    await svc.request('GET', `/nope/${GH}/123-45-6789`);
    const real = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${GH}/attempts?since=jane%40example.com`, { apiKey: org.apiKey });
    expect(real.status).toBeGreaterThanOrEqual(400);
    await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/jane%40example.com`, { apiKey: org.apiKey });
    const logged = svc.logs.lines.filter((l) => l.includes('request completed'));
    expect(logged.some((l) => l.includes(`/api/orgs/${org.orgId}/forwarding-destinations/`))).toBe(true);
    for (const l of logged) expect(l).not.toMatch(/ghp_A1b2|123-45-6789|jane(%40|@)example/);
  });
});
