import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { startReceiver, type Receiver } from '../support/httpsReceiver.js';

// Property-based fuzzing of every API endpoint's input: never a 5xx, never a partial write (every
// table's row count unchanged after a 4xx), always the error shape {"error":{"code","message"}}.
const TABLES = ['orgs', 'api_keys', 'notification_settings', 'destinations', 'audit_events', 'forwarding_jobs', 'delivery_attempts', 'sessions', 'login_links'];
const RUNS = 40;

describe('faults: API input fuzzing (postgres)', () => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;
  let org: { orgId: string; apiKey: string };
  let destId: string;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    // API role only: no worker writing delivery rows behind the fuzzer's back.
    svc = await startTestService(tdb.db, {}, 'api');
    receiver = await startReceiver();
    org = await svc.newOrg();
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: `${receiver.url}/hook`, auth_header_name: 'Authorization', auth_header_value: 'Bearer x' },
    });
    destId = res.body.destination_id as string;
  });
  afterAll(async () => {
    if (process.env.FUZZ_STATS)
      console.log(
        [...seen.entries()]
          .sort()
          .map(([k, v]) => `${v}\t${k}`)
          .join('\n'),
      );
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  const seen = new Map<string, number>();
  async function counts(): Promise<Record<string, number>> {
    const { rows } = await tdb.db.query<Record<string, number>>(`SELECT ${TABLES.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`);
    return rows[0]!;
  }

  /** Sends one request and checks the three properties. */
  async function check(
    method: string,
    path: string,
    opts: { body?: unknown; rawBody?: string; headers?: Record<string, string>; apiKey?: string | null } = {},
  ) {
    const before = await counts();
    const res = await svc.request(method, path, {
      ...(opts.apiKey === null ? {} : { apiKey: opts.apiKey ?? org.apiKey }),
      ...(opts.rawBody !== undefined ? { rawBody: opts.rawBody } : opts.body !== undefined ? { body: opts.body } : {}),
      ...(opts.headers ? { headers: opts.headers } : {}),
    });
    const where = `${method} ${path} -> ${res.status} ${res.text.slice(0, 300)}`;
    const k = `${method} ${path
      .replace(/fwd_[a-z0-9]+|org_[A-Za-z0-9_-]+/g, ':id')
      .split('?')[0]!
      .slice(0, 60)} ${res.status}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
    expect(res.status, where).toBeLessThan(500);
    if (res.status >= 400) {
      expect(typeof res.body?.error?.code, where).toBe('string');
      expect(typeof res.body?.error?.message, where).toBe('string');
      expect(Object.keys(res.body as object), where).toEqual(['error']);
      expect(await counts(), where).toEqual(before);
    }
    return res;
  }

  // Values that tend to break things: odd strings, huge numbers, nesting, prototype keys.
  const nasty = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.constantFrom(
      '',
      ' ',
      '\r\n',
      'https://',
      'http://127.0.0.1:1/',
      'javascript:alert(1)',
      '__proto__',
      'Splunk ',
      'ApiKey',
      'a'.repeat(5000),
      '\u0000',
      '../..',
      '%00',
      'fwd_',
      'org_',
    ),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
  );
  const destBody = fc.record(
    {
      url: fc.oneof(nasty, fc.webUrl(), fc.constant(`${'https://127.0.0.1'}:1/x`)),
      auth_header_name: fc.oneof(nasty, fc.constantFrom('Authorization', 'Host', 'Content-Length', 'X-Key\r\nEvil: 1', 'DD-API-KEY')),
      auth_header_value: nasty,
      siem: fc.oneof(nasty, fc.constantFrom('splunk_hec', 'datadog', 'sumo_logic', 'elastic', 'new_relic', 'custom')),
      enabled: nasty,
      options: fc.oneof(nasty, fc.dictionary(fc.constantFrom('index', 'source', 'sourcetype', 'host', 'category', 'tags', 'x'), nasty, { maxKeys: 3 })),
      signing: nasty,
      rotate_signing_secret: nasty,
      extra: nasty,
    },
    { requiredKeys: [] },
  );
  /** A valid body with one field replaced by something nasty, or dropped (the interesting edge). */
  const mutate = (base: Record<string, unknown>) =>
    fc.oneof(
      fc.constant(base),
      fc.tuple(fc.constantFrom(...Object.keys(base), 'unknown_field'), nasty).map(([k, v]) => ({ ...base, [k]: v })),
      fc.constantFrom(...Object.keys(base)).map((k) => Object.fromEntries(Object.entries(base).filter(([x]) => x !== k))),
    );
  const validCreate = () => ({
    url: `${receiver.url}/hook`,
    auth_header_name: 'Authorization',
    auth_header_value: 'Bearer fuzz',
    siem: 'custom',
    enabled: false,
    options: {},
  });
  const anyBody = fc.oneof(
    fc.anything(),
    destBody,
    fc.constant(null).chain(() => mutate(validCreate())),
  );
  const patchBody = fc.oneof(
    anyBody,
    mutate({ enabled: false }),
    mutate({ auth_header_value: 'Bearer rotated' }),
    mutate({ url: 'https://127.0.0.1:9/x', options: { index: 'main' } }),
  );
  const rawJunk = fc.oneof(fc.string(), fc.constantFrom('{', '[]', 'null', '{"url":', '\u0000', '{"__proto__":{"x":1}}', '{"events":[{}]}'));
  const ids = fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom('fwd_', 'fwd_nope', '..', '%2e%2e', 'fwd_' + 'a'.repeat(300)));
  const enc = (s: string) => encodeURIComponent(s);

  it('destinations: create, patch, get, delete, test, replay, failed-events', async () => {
    const base = `/api/orgs/${org.orgId}/forwarding-destinations`;
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        const res = await check('POST', base, { body });
        if (res.status === 201) await check('DELETE', `${base}/${res.body.destination_id as string}`);
      }),
      { numRuns: RUNS * 2 },
    );
    await fc.assert(
      fc.asyncProperty(rawJunk, async (raw) => void (await check('POST', base, { rawBody: raw }))),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(patchBody, async (body) => void (await check('PATCH', `${base}/${destId}`, { body }))),
      { numRuns: RUNS * 2 },
    );
    await fc.assert(
      fc.asyncProperty(ids, anyBody, async (id, body) => {
        await check('PATCH', `${base}/${enc(id)}`, { body });
        await check('GET', `${base}/${enc(id)}`);
        await check('DELETE', `${base}/${enc(id)}`);
        await check('POST', `${base}/${enc(id)}/test`);
        await check('POST', `${base}/${enc(id)}/replay`, { body });
        await check('GET', `${base}/${enc(id)}/failed-events`);
      }),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(anyBody, fc.dictionary(fc.constantFrom('limit', 'before_id', 'x'), fc.string(), { maxKeys: 2 }), async (body, query) => {
        await check('POST', `${base}/${destId}/replay`, { body });
        await check('GET', `${base}/${destId}/failed-events?${new URLSearchParams(query).toString()}`);
      }),
      { numRuns: RUNS },
    );
    // The probe really sends; a handful is enough (and it is rate limited: 429 is a valid answer).
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (body) => void (await check('POST', `${base}/${destId}/test`, { body }))),
      { numRuns: 5 },
    );
    // Another org's path, and no or a wrong key.
    await fc.assert(
      fc.asyncProperty(ids, fc.oneof(fc.constant(null), fc.string()), async (orgId, key) => {
        await check('GET', `/api/orgs/${enc(orgId)}/forwarding-destinations`, { apiKey: key });
        await check('POST', `/api/orgs/${enc(orgId)}/forwarding-destinations`, { apiKey: key, body: { url: 'https://example.com/x' } });
      }),
      { numRuns: RUNS },
    );
  });

  it('notification settings: PUT and GET', async () => {
    const path = `/api/orgs/${org.orgId}/notification-settings`;
    const settings = fc.oneof(
      anyBody,
      mutate({ emails: ['soc@example.com'], webhook_url: 'https://127.0.0.1:9/alerts' }),
      fc.record({
        emails: fc.array(nasty, { maxLength: 12 }),
        webhook_url: fc.oneof(fc.constant(null), nasty),
        rotate_webhook_secret: fc.oneof(fc.boolean(), nasty),
      }),
    );
    await fc.assert(
      fc.asyncProperty(settings, async (body) => {
        await check('PUT', path, { body });
        await check('GET', path);
      }),
      { numRuns: RUNS * 2 },
    );
    await fc.assert(
      fc.asyncProperty(rawJunk, async (raw) => void (await check('PUT', path, { rawBody: raw }))),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(ids, fc.oneof(fc.constant(null), fc.string()), async (orgId, key) => {
        await check('PUT', `/api/orgs/${enc(orgId)}/notification-settings`, { apiKey: key, body: { emails: [], webhook_url: null } });
      }),
      { numRuns: RUNS },
    );
  });

  it('pull API queries and range replay windows', async () => {
    const q = fc.oneof(
      nasty.map(String),
      fc.constantFrom('1', '1000', '1001', '0', '2026-01-01T00:00:00Z', '2026-02-30T00:00:00Z', 'AAAA', 'e1.0.', '9'.repeat(30)),
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom('limit', 'cursor', 'since', 'until', 'x'), q, { maxKeys: 3 }), async (query) => {
        await check('GET', `/api/orgs/${org.orgId}/audit-events?${new URLSearchParams(query).toString()}`);
      }),
      { numRuns: RUNS },
    );
    const when = fc.oneof(
      nasty,
      fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
    );
    await fc.assert(
      fc.asyncProperty(fc.record({ from: when, to: when, job_ids: nasty }, { requiredKeys: [] }), async (body) => {
        await check('POST', `/api/orgs/${org.orgId}/forwarding-destinations/${destId}/replay`, { body });
      }),
      { numRuns: RUNS },
    );
  });

  it('filters: any JSON as a filter on create, PATCH and the preview is stored, refused with 400 or counted, never 5xx', async () => {
    const base = `/api/orgs/${org.orgId}/forwarding-destinations`;
    const path = fc.oneof(
      fc.constantFrom(
        'aegis.decision',
        'aegis.finding_counts_by_type.SSN',
        'event.type',
        '@timestamp',
        '$and',
        '$or',
        '$not',
        '$where',
        '__proto__',
        'constructor',
      ),
      fc.string(),
    );
    const op = fc.constantFrom(
      '$eq',
      '$ne',
      '$in',
      '$nin',
      '$gt',
      '$gte',
      '$lt',
      '$lte',
      '$exists',
      '$not',
      '$regex',
      '$where',
      '$expr',
      '$elemMatch',
      '$size',
      '$options',
    );
    const { cond } = fc.letrec<{ cond: unknown; query: unknown }>((tie) => ({
      cond: fc.oneof({ depthSize: 'small' }, nasty, fc.dictionary(op, tie('cond'), { maxKeys: 2 }), fc.array(tie('query'), { maxLength: 3 })),
      query: fc.dictionary(path, tie('cond'), { maxKeys: 3 }),
    }));
    const filter = fc.oneof(fc.dictionary(path, cond, { maxKeys: 3 }), fc.jsonValue(), nasty);
    await fc.assert(
      fc.asyncProperty(filter, async (f) => {
        const created = await check('POST', base, { body: { url: `${receiver.url}/hook`, enabled: false, filter: f } });
        if (created.status === 201) await check('DELETE', `${base}/${created.body.destination_id as string}`);
        await check('PATCH', `${base}/${destId}`, { body: { filter: f } });
        await check('POST', `${base}/filter-preview`, { body: { filter: f } });
      }),
      { numRuns: RUNS * 2 },
    );
    await check('PATCH', `${base}/${destId}`, { body: { filter: null } });
  });

  it('producer API: preflight and audit-events (all or nothing)', async () => {
    const record = fc.record(
      {
        preflight_id: fc.oneof(nasty, fc.constant('pflt_abcdefghijklmnopqrstuvwx')),
        decision: fc.oneof(nasty, fc.constantFrom('ALLOWED', 'ALLOWED_WITH_MASKING', 'BLOCKED')),
        destination: fc.oneof(nasty, fc.constant('AI_TOOL')),
        summary: nasty,
        policy_version: nasty,
        policy_id: nasty,
        source_type: fc.oneof(nasty, fc.constant('api')),
        input_type: fc.oneof(nasty, fc.constant('text')),
        input_size_bytes: nasty,
        finding_counts_by_type: fc.oneof(nasty, fc.dictionary(fc.constantFrom('SSN', 'EMAIL', 'x'), fc.oneof(fc.integer(), fc.string()))),
        actor_id: nasty,
        occurred_at: nasty,
        raw_value: nasty,
      },
      { requiredKeys: [] },
    );
    const pfltId = fc
      .string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: 24, maxLength: 24 })
      .map((x) => `pflt_${x}`);
    const validRecord = fc.tuple(pfltId, fc.constantFrom('ALLOWED', 'ALLOWED_WITH_MASKING', 'BLOCKED')).chain(([id, decision]) =>
      mutate({
        preflight_id: id,
        decision,
        destination: 'AI_TOOL',
        summary: 'Detected SSN; handled on-device.',
        policy_version: 'v1.0',
        policy_id: 'pol_default',
        source_type: 'sdk',
        input_type: 'text',
        input_size_bytes: 10,
        finding_counts_by_type: { SSN: 1 },
      }),
    );
    // A batch with one bad record among good ones must write nothing at all.
    const batch = fc.array(fc.oneof(validRecord, record), { minLength: 1, maxLength: 4 }).map((events) => ({ events }));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything(), batch, fc.record({ events: fc.oneof(nasty, fc.array(record, { maxLength: 4 })) })), async (body) => {
        await check('POST', `/api/orgs/${org.orgId}/audit-events`, { body });
      }),
      { numRuns: RUNS * 2 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything(),
          fc.record({ input: nasty, destination: nasty, source_type: nasty, input_type: nasty, actor_id: nasty }, { requiredKeys: [] }),
          fc.string().chain((input) => mutate({ input, destination: 'AI_TOOL', source_type: 'api', input_type: 'text', actor_id: 'fuzz@example.com' })),
        ),
        async (body) => void (await check('POST', `/api/orgs/${org.orgId}/preflight`, { body })),
      ),
      { numRuns: RUNS * 2 },
    );
    await fc.assert(
      fc.asyncProperty(rawJunk, async (raw) => {
        await check('POST', `/api/orgs/${org.orgId}/preflight`, { rawBody: raw });
        await check('POST', `/api/orgs/${org.orgId}/audit-events`, { rawBody: raw });
      }),
      { numRuns: RUNS },
    );
  });

  it('session: sign-in link, session and logout with junk tokens, cookies and CSRF headers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), fc.string(), async (token, cookie, csrf) => {
        const before = await counts();
        const login = await svc.request('GET', `/auth/login?token=${enc(token)}`);
        expect(login.status).toBeLessThan(500);
        expect(await counts()).toEqual(before); // a refused link creates no session
        const headers = { cookie: `aegis_session=${enc(cookie)}`, 'x-csrf-token': csrf.replace(/[^\x20-\x7e]/g, '') };
        await check('GET', '/api/session', { apiKey: null, headers });
        await check('POST', '/api/session/logout', { apiKey: null, headers });
      }),
      { numRuns: RUNS },
    );
  });
});
