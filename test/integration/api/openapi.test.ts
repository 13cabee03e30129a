// Issue 9: /openapi.json tells the truth. Every operation it lists is called as a client would call
// it, with valid and invalid input, and every live answer (status, media type and body) is validated
// against the document with a JSON Schema 2020-12 validator (OpenAPI 3.1's dialect). An answer with a
// status the operation does not document, or a body its schema refuses, fails the test; so does an
// operation the test never got a successful answer from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { createLoginLink } from '../../../src/auth/sessions.js';
import { agentRecord } from '../events/support.js';

type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const addFormats: FormatsPlugin = (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const DOC_ID = 'https://aegis.test/openapi.json';
const METRICS_TOKEN = 'openapi-test-metrics-token-0123456789';

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  requestBody?: { required?: boolean; content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }>; headers?: Record<string, unknown> }>;
}
interface Answer {
  status: number;
  text: string;
  body: any;
  headers: Headers;
}
interface Request {
  headers?: Record<string, string>;
  /** JSON-encoded with content-type application/json. */
  json?: unknown;
  /** Sent as is (set content-type in headers). */
  raw?: string;
}

const pointer = (...segs: string[]) => segs.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

describe.each(DB_KINDS)('the OpenAPI document matches the live service (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;
  let doc: { paths: Record<string, Record<string, Operation>>; components?: { securitySchemes?: Record<string, unknown> } };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  /** operation key ("get /path/{id}") -> statuses it answered */
  const answered = new Map<string, Set<number>>();

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    // A replay batch of 10 events, so a window of a few dozen runs in the background (202); an API-only
    // process (no replay runner), so that replay is still running when the test cancels it; a metrics
    // token, so /metrics has both of its answers.
    svc = await startTestService(tdb.db, { AEGIS_REPLAY_BATCH: '10', AEGIS_METRICS_TOKEN: METRICS_TOKEN }, 'api');
    receiver = await startReceiver();
    const res = await fetch(`${svc.baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as typeof doc;
    ajv.addSchema({ ...doc, $id: DOC_ID });
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  function validatorFor(path: string, method: string, status: string, media: string): ValidateFunction {
    const ref = `${DOC_ID}#${pointer('paths', path, method, 'responses', status, 'content', media, 'schema')}`;
    let v = validators.get(ref);
    if (!v) {
      v = ajv.compile({ $ref: ref });
      validators.set(ref, v);
    }
    return v;
  }

  /**
   * One request to the operation `method template` at the concrete `url`; the answer is held to the
   * document before the caller sees it.
   */
  async function call(method: (typeof METHODS)[number], template: string, url: string, req: Request = {}): Promise<Answer> {
    const op = doc.paths[template]?.[method];
    expect(op, `${method.toUpperCase()} ${template} is in the document`).toBeDefined();
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    let body: string | undefined = req.raw;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(svc.baseUrl + url, { method: method.toUpperCase(), headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    const what = `${method.toUpperCase()} ${url} answered ${res.status}`;
    const documented = op!.responses[String(res.status)];
    expect(documented, `${what}, a status ${template} does not document (${text.slice(0, 300)})`).toBeDefined();
    let parsed: unknown = null;
    if (!documented!.content) {
      expect(text, `${what}: documented without a body`).toBe('');
    } else {
      const media = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
      expect(Object.keys(documented!.content), `${what} as ${media}`).toContain(media);
      parsed = media === 'application/json' ? JSON.parse(text) : text;
      const validate = validatorFor(template, method, String(res.status), media);
      if (!validate(parsed)) {
        expect.fail(`${what}: the body does not match the document: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`);
      }
    }
    const key = `${method} ${template}`;
    if (!answered.has(key)) answered.set(key, new Set());
    answered.get(key)!.add(res.status);
    return { status: res.status, text, body: parsed, headers: res.headers };
  }

  /** Signs in through the sign-in link as a browser does; returns the cookie and the CSRF token. */
  async function signIn(orgId: string): Promise<{ cookie: string; csrf: string }> {
    const token = new URL(await createLoginLink(tdb.db, orgId, svc.baseUrl)).searchParams.get('token')!;
    expect((await call('get', '/auth/login', `/auth/login?token=${encodeURIComponent(token)}`)).status).toBe(200);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const res = await call('post', '/auth/login', '/auth/login', { headers: form, raw: new URLSearchParams({ token }).toString() });
    expect(res.status).toBe(303);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const session = await call('get', '/api/session', '/api/session', { headers: { cookie } });
    expect(session.status).toBe(200);
    return { cookie, csrf: session.body.csrf_token as string };
  }

  it('health, metrics and the dashboard session routes: valid and invalid calls', async () => {
    expect((await call('get', '/healthz', '/healthz')).status).toBe(200);
    expect((await call('get', '/readyz', '/readyz')).status).toBe(200);
    expect((await call('get', '/metrics', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
    expect((await call('get', '/metrics', '/metrics')).status).toBe(401);
    expect((await call('get', '/metrics', '/metrics', { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);

    expect((await call('get', '/auth/login', '/auth/login')).status).toBe(410);
    expect((await call('get', '/auth/login', '/auth/login?token=not-a-token')).status).toBe(410);
    expect((await call('get', '/auth/login', `/auth/login?token=${'x'.repeat(201)}`)).status).toBe(400);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await call('post', '/auth/login', '/auth/login', { headers: form, raw: 'token=not-a-token' })).status).toBe(410);
    expect((await call('post', '/auth/login', '/auth/login', { json: {} })).status).toBe(400);
    expect((await call('post', '/auth/login', '/auth/login', { headers: { 'content-type': 'application/json' }, raw: '{"token":' })).status).toBe(400);
    expect((await call('post', '/auth/login', '/auth/login', { headers: { 'content-type': 'application/xml' }, raw: '<token/>' })).status).toBe(415);
    expect((await call('post', '/auth/login', '/auth/login', { headers: { ...form, origin: 'https://elsewhere.example' }, raw: 'token=abc' })).status).toBe(
      403,
    );

    const { orgId, apiKey } = await svc.newOrg();
    const { cookie, csrf } = await signIn(orgId);
    expect((await call('get', '/api/session', '/api/session')).status).toBe(401);
    expect((await call('get', '/api/session', '/api/session', { headers: { cookie: 'aegis_session=expired-or-forged' } })).status).toBe(401);
    expect((await call('post', '/api/session/logout', '/api/session/logout')).status).toBe(401);
    expect((await call('post', '/api/session/logout', '/api/session/logout', { headers: { cookie } })).status).toBe(403);
    expect((await call('post', '/api/session/logout', '/api/session/logout', { headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(204);
    expect((await call('post', '/api/session/logout', '/api/session/logout', { headers: { cookie, 'x-csrf-token': csrf } })).status).toBe(204);
    expect((await call('get', '/api/session', '/api/session', { headers: { cookie } })).status).toBe(401);
    // The session cookie sent twice: a 401 of its own code, which the document names.
    const again = await signIn(orgId);
    expect((await call('get', '/api/session', '/api/session', { headers: { cookie: `${again.cookie}; ${again.cookie}` } })).status).toBe(401);
    expect(JSON.stringify(doc.paths['/api/session']!.get!.responses)).toContain('session_conflict');
  });

  it('every API operation: valid input, invalid input, and each way of calling it unauthenticated or from elsewhere', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    const other = await svc.newOrg('Another org');
    const { cookie, csrf } = await signIn(orgId);
    const auth = { authorization: `Bearer ${apiKey}` };
    const org = `/api/orgs/${orgId}`;
    const T = '/api/orgs/{org_id}';
    const D = `${T}/forwarding-destinations`;
    const one = `${D}/{destination_id}`;

    // Producer API.
    expect((await call('post', `${T}/preflight`, `${org}/preflight`, { headers: auth, json: { input: 'my SSN is 123-45-6789' } })).status).toBe(200);
    expect((await call('post', `${T}/preflight`, `${org}/preflight`, { headers: auth, json: { input: 5 } })).status).toBe(400);
    expect((await call('post', `${T}/preflight`, `${org}/preflight`, { headers: auth, json: { input: 'x', destination: 'NOWHERE' } })).status).toBe(400);
    expect((await call('post', `${T}/preflight`, `${org}/preflight`, { headers: auth, json: { input: 'x', extra: 1 } })).status).toBe(400);
    // Under the schema's length in characters, over the 1 MiB limit in UTF-8 bytes.
    expect((await call('post', `${T}/preflight`, `${org}/preflight`, { headers: auth, json: { input: 'é'.repeat(600_000) } })).status).toBe(413);
    const records = Array.from({ length: 25 }, (_, i) => agentRecord({ occurred_at: new Date(Date.now() - 60_000 + i * 1000).toISOString() }));
    expect((await call('post', `${T}/audit-events`, `${org}/audit-events`, { headers: auth, json: { events: records } })).status).toBe(200);
    expect((await call('post', `${T}/audit-events`, `${org}/audit-events`, { headers: auth, json: { events: [] } })).status).toBe(400);
    expect((await call('post', `${T}/audit-events`, `${org}/audit-events`, { headers: auth, json: { events: [{ decision: 'MAYBE' }] } })).status).toBe(400);
    expect((await call('post', `${T}/audit-events`, `${org}/audit-events`, { headers: auth, json: { events: records, more: true } })).status).toBe(400);
    expect(
      (await call('post', `${T}/audit-events`, `${org}/audit-events`, { headers: auth, json: { events: Array.from({ length: 1001 }, () => agentRecord()) } }))
        .status,
    ).toBe(413);
    // The pull reads only below the server's oldest open transaction (src/events/pull.ts), and other
    // files' transactions on the same server hold that back for a moment: asked until it has passed.
    let pulled = await call('get', `${T}/audit-events`, `${org}/audit-events?limit=50`, { headers: auth });
    await expect
      .poll(
        async () => {
          pulled = await call('get', `${T}/audit-events`, `${org}/audit-events?limit=50`, { headers: auth });
          return pulled.status === 200 ? pulled.body.events.length : -1;
        },
        { timeout: 60_000 },
      )
      .toBeGreaterThan(0);
    expect(pulled.status).toBe(200);
    expect((await call('get', `${T}/audit-events`, `${org}/audit-events?cursor=${pulled.body.next_cursor as string}`, { headers: auth })).status).toBe(200);
    expect((await call('get', `${T}/audit-events`, `${org}/audit-events?limit=0`, { headers: auth })).status).toBe(400);
    expect((await call('get', `${T}/audit-events`, `${org}/audit-events?cursor=forged`, { headers: auth })).status).toBe(400);

    // Destinations.
    const created = await call('post', D, `${org}/forwarding-destinations`, { headers: auth, json: { url: `${receiver.url}/openapi`, name: 'OpenAPI check' } });
    expect(created.status).toBe(201);
    const id = created.body.destination_id as string;
    const dest = `${org}/forwarding-destinations/${id}`;
    expect((await call('post', D, `${org}/forwarding-destinations`, { headers: auth, json: { url: 42 } })).status).toBe(400);
    expect((await call('post', D, `${org}/forwarding-destinations`, { headers: auth, json: { url: '' } })).status).toBe(400);
    expect((await call('post', D, `${org}/forwarding-destinations`, { headers: auth, json: { url: `${receiver.url}/x`, siem: 'nope' } })).status).toBe(400);
    expect((await call('get', D, `${org}/forwarding-destinations`, { headers: auth })).status).toBe(200);
    const paged = await call('get', D, `${org}/forwarding-destinations?limit=1`, { headers: auth });
    expect(paged.status).toBe(200);
    expect((await call('get', D, `${org}/forwarding-destinations?limit=0`, { headers: auth })).status).toBe(400);
    expect((await call('get', D, `${org}/forwarding-destinations?cursor=bm90LWEtY3Vyc29y`, { headers: auth })).status).toBe(400);
    expect((await call('get', `${D}/stats`, `${org}/forwarding-destinations/stats`, { headers: auth })).status).toBe(200);
    expect((await call('get', `${D}/stats`, `${org}/forwarding-destinations/stats?page=2`, { headers: auth })).status).toBe(400);
    expect(
      (
        await call('post', `${D}/filter-preview`, `${org}/forwarding-destinations/filter-preview`, {
          headers: auth,
          json: { filter: { 'aegis.decision': 'BLOCKED' } },
        })
      ).status,
    ).toBe(200);
    expect(
      (await call('post', `${D}/filter-preview`, `${org}/forwarding-destinations/filter-preview`, { headers: auth, json: { filter: { $where: 'x' } } })).status,
    ).toBe(400);
    expect((await call('get', one, dest, { headers: auth })).status).toBe(200);
    expect((await call('get', one, `${org}/forwarding-destinations/fwd_doesnotexist00000000`, { headers: auth })).status).toBe(404);
    expect((await call('get', one, `${org}/forwarding-destinations/not-an-id`, { headers: auth })).status).toBe(400);
    expect((await call('patch', one, dest, { headers: auth, json: { name: 'Renamed' } })).status).toBe(200);
    expect((await call('patch', one, dest, { headers: auth, json: {} })).status).toBe(400);
    expect((await call('patch', one, dest, { headers: auth, json: { enabled: 'yes' } })).status).toBe(400);
    expect((await call('get', `${one}/stats`, `${dest}/stats`, { headers: auth })).status).toBe(200);
    expect((await call('get', `${one}/attempts`, `${dest}/attempts`, { headers: auth })).status).toBe(200);
    expect((await call('get', `${one}/attempts`, `${dest}/attempts?outcome=lost`, { headers: auth })).status).toBe(400);
    expect((await call('get', `${one}/attempts`, `${dest}/attempts?cursor=bogus`, { headers: auth })).status).toBe(400);
    expect((await call('get', `${one}/failed-events`, `${dest}/failed-events`, { headers: auth })).status).toBe(200);
    expect((await call('get', `${one}/failed-events`, `${dest}/failed-events?limit=many`, { headers: auth })).status).toBe(400);
    // Out of range is refused, as on every other list, not quietly clamped.
    for (const limit of ['0', '1001', '9999', '01']) {
      expect((await call('get', `${one}/failed-events`, `${dest}/failed-events?limit=${limit}`, { headers: auth })).status).toBe(400);
    }
    expect((await call('get', `${one}/failed-events`, `${dest}/failed-events?limit=1000`, { headers: auth })).status).toBe(200);

    // Test probes, until the per-destination rate limit answers 429.
    const probes: number[] = [];
    for (let i = 0; i < 6; i++) probes.push((await call('post', `${one}/test`, `${dest}/test`, { headers: auth })).status);
    expect(probes.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(probes[5]).toBe(429);

    // Replays: dead letters (bare POST, no body), a small window (200), a large one (202, in the background).
    expect((await call('post', `${one}/replay`, `${dest}/replay`, { headers: auth })).status).toBe(200);
    expect((await call('post', `${one}/replay`, `${dest}/replay`, { headers: auth, json: { job_ids: [1, 2] } })).status).toBe(200);
    const now = Date.now();
    const window = (fromMs: number, toMs: number) => ({ from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() });
    expect((await call('post', `${one}/replay`, `${dest}/replay`, { headers: auth, json: window(now - 3_600_000, now - 3_500_000) })).status).toBe(200);
    const background = await call('post', `${one}/replay`, `${dest}/replay`, { headers: auth, json: window(now - 3_600_000, now + 60_000) });
    expect(background.status).toBe(202);
    const replayId = background.body.replay_id as string;
    expect((await call('post', `${one}/replay`, `${dest}/replay`, { headers: auth, json: { from: new Date(now).toISOString() } })).status).toBe(400);
    expect((await call('post', `${one}/replay`, `${dest}/replay`, { headers: auth, json: { job_ids: [0] } })).status).toBe(400);
    expect((await call('get', `${one}/replays`, `${dest}/replays`, { headers: auth })).status).toBe(200);
    expect((await call('get', `${one}/replays`, `${dest}/replays?limit=0`, { headers: auth })).status).toBe(400);
    expect((await call('get', `${one}/replays/{replay_id}`, `${dest}/replays/${replayId}`, { headers: auth })).status).toBe(200);
    expect((await call('get', `${one}/replays/{replay_id}`, `${dest}/replays/rpl_doesnotexist00000000`, { headers: auth })).status).toBe(404);
    // Cancelled while it runs; cancelling it again answers it again.
    expect((await call('post', `${one}/replays/{replay_id}/cancel`, `${dest}/replays/${replayId}/cancel`, { headers: auth })).status).toBe(200);
    expect((await call('post', `${one}/replays/{replay_id}/cancel`, `${dest}/replays/${replayId}/cancel`, { headers: auth })).status).toBe(200);
    expect((await call('post', `${one}/replays/{replay_id}/cancel`, `${dest}/replays/rpl_doesnotexist00000000/cancel`, { headers: auth })).status).toBe(404);

    // Notification settings and the configuration trail.
    const N = `${T}/notification-settings`;
    expect((await call('get', N, `${org}/notification-settings`, { headers: auth })).status).toBe(200);
    expect((await call('put', N, `${org}/notification-settings`, { headers: auth, json: { emails: ['oncall@example.com'], webhook_url: null } })).status).toBe(
      200,
    );
    expect((await call('put', N, `${org}/notification-settings`, { headers: auth, json: { emails: 'oncall@example.com', webhook_url: null } })).status).toBe(
      400,
    );
    expect((await call('put', N, `${org}/notification-settings`, { headers: auth, json: { emails: ['not an address'], webhook_url: null } })).status).toBe(400);
    expect((await call('get', `${T}/activity`, `${org}/activity`, { headers: auth })).status).toBe(200);
    expect((await call('post', `${T}/login-links`, `${org}/login-links`, { headers: auth })).status).toBe(201);
    expect((await call('get', `${T}/activity`, `${org}/activity?limit=1000`, { headers: auth })).status).toBe(400);
    expect((await call('get', `${T}/activity`, `${org}/activity?cursor=bogus`, { headers: auth })).status).toBe(400);

    // Every operation under /api/orgs/{org_id}, called generically: without credentials, with a key
    // that is not valid, with another organization's key, with the session cookie (writes: without
    // the CSRF header), and (operations that take a body) with a body that is not JSON, a body in
    // another media type and a body over the size limit.
    const concrete = (template: string) => template.replace('{org_id}', orgId).replace('{destination_id}', id).replace('{replay_id}', replayId);
    for (const [template, item] of Object.entries(doc.paths)) {
      if (!template.startsWith(T)) continue;
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const url = concrete(template);
        const write = method !== 'get';
        // A sign-in link is made for an API key only (routes/loginLinks.ts): a session would renew itself.
        const keyOnly = template === `${T}/login-links`;
        expect(op.security, `${method} ${template} states its security`).toEqual(
          keyOnly ? [{ apiKey: [] }] : write ? [{ apiKey: [] }, { session: [], csrf: [] }] : [{ apiKey: [] }, { session: [] }],
        );
        // Every one passes the organization's admission (api/orgAdmission.ts), which may answer 429.
        expect(Object.keys(op.responses), `${method} ${template} documents 429`).toContain('429');
        expect((await call(method, template, url)).status).toBe(401);
        expect((await call(method, template, url, { headers: { authorization: 'Bearer not-a-key' } })).status).toBe(401);
        expect((await call(method, template, url, { headers: { authorization: `Bearer ${other.apiKey}` } })).status).toBe(404);
        if (write) {
          expect((await call(method, template, url, { headers: { cookie } })).status).toBe(403);
          expect((await call(method, template, url, { headers: { cookie, 'x-csrf-token': 'wrong' } })).status).toBe(403);
        } else {
          expect((await call(method, template, url, { headers: { cookie } })).status).toBe(200);
        }
        if (op.requestBody) {
          expect((await call(method, template, url, { headers: { ...auth, 'content-type': 'application/json' }, raw: '{"not json' })).status).toBe(400);
          expect((await call(method, template, url, { headers: { ...auth, 'content-type': 'application/xml' }, raw: '<a/>' })).status).toBe(415);
          expect(
            (await call(method, template, url, { headers: { ...auth, 'content-type': 'application/json' }, raw: `"${'a'.repeat(13 * 1024 * 1024)}"` })).status,
          ).toBe(413);
        }
      }
    }
    // The session's writes go through with the CSRF header (one example; the rule is the same hook).
    expect((await call('patch', one, dest, { headers: { cookie, 'x-csrf-token': csrf }, json: { enabled: false } })).status).toBe(200);

    expect((await call('delete', one, dest, { headers: auth })).status).toBe(200);
    expect((await call('delete', one, dest, { headers: auth })).status).toBe(404);
  }, 240_000);

  it('every documented operation was called and answered successfully at least once', () => {
    const missing: string[] = [];
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        if (!item[method]) continue;
        const statuses = [...(answered.get(`${method} ${template}`) ?? [])];
        if (!statuses.some((s) => s < 400)) missing.push(`${method.toUpperCase()} ${template} (answered: ${statuses.join(', ') || 'never called'})`);
      }
    }
    expect(missing).toEqual([]);
  });

  // An API client's review: no operation had an operationId, so generated clients named their methods
  // from paths ("apiOrgsOrgIdForwardingDestinationsDestinationIdReplayPost"), names that change with
  // any path. Each operation now has one, unique, in camelCase as generators expect.
  it('every operation has its own operationId, a camelCase name', () => {
    const ids: string[] = [];
    for (const item of Object.values(doc.paths)) for (const method of METHODS) if (item[method]) ids.push(item[method].operationId ?? `(none: ${method})`);
    expect(ids.length).toBeGreaterThan(20);
    for (const id of ids) expect(id).toMatch(/^[a-z][a-zA-Z]+$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  // The same review: Retry-After was sent with every 429 and 503 but declared nowhere, so a generated
  // client did not expose it.
  it('every 429 and 503 error answer declares its Retry-After header', () => {
    const undeclared: string[] = [];
    for (const [template, item] of Object.entries(doc.paths))
      for (const method of METHODS)
        for (const status of ['429', '503']) {
          const response = item[method]?.responses[status];
          // /readyz's 503 is a probe's state, not a refusal to retry after; every other one says when.
          if (template === '/readyz') continue;
          if (response?.content?.['application/json'] && !response.headers?.['retry-after']) undeclared.push(`${status} ${method} ${template}`);
        }
    expect(undeclared).toEqual([]);
    expect(doc.paths['/api/orgs/{org_id}/audit-events']!.post!.responses['429']!.headers).toBeDefined();
  });

  // The same review: the destination was inlined in five answers (6 KB each), so a generated client got
  // five unrelated types for one destination. It is one component, referred to by each.
  it('the destination is one named component, referred to by every answer that holds one', () => {
    const text = JSON.stringify(doc);
    const components = (doc as unknown as { components: { schemas: Record<string, { properties?: Record<string, unknown> }> } }).components.schemas;
    expect(Object.keys(components)).toEqual(expect.arrayContaining(['Destination', 'ErrorBody', 'Replay']));
    expect(components.Destination!.properties).toHaveProperty('hold_limit_at');
    // A field only the destination has, defined once in the whole document.
    expect(text.split('"hold_limit_at":{').length - 1).toBe(1);
    const one = doc.paths['/api/orgs/{org_id}/forwarding-destinations/{destination_id}']!;
    for (const [method, status] of [
      ['get', '200'],
      ['patch', '200'],
    ] as const)
      expect(JSON.stringify(one[method]!.responses[status]!.content!['application/json']!.schema)).toContain('#/components/schemas/Destination');
  });
});
