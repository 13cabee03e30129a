import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { generateKeyBase64 } from '../../../src/crypto/keyring.js';
import { openPg } from '../../../src/db/pg.js';
import type { Db } from '../../../src/db/types.js';
import { validateBody, validateWireEvent } from '../../../src/events/validate.js';
import { PAGE_EXAMPLE, countRows } from './support.js';

/** Same keys in the same order at every level, and the same JSON type at every leaf. */
function expectSameShape(actual: unknown, expected: unknown, path = ''): void {
  const kind = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
  expect(kind(actual), `type at ${path || '/'}`).toBe(kind(expected));
  if (kind(expected) === 'object') {
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    expect(Object.keys(a), `keys of ${path || '/'}`).toEqual(Object.keys(e));
    for (const k of Object.keys(e)) expectSameShape(a[k], e[k], `${path}/${k}`);
  } else if (kind(expected) === 'array') {
    const a = actual as unknown[];
    const e = expected as unknown[];
    expect(a.length, `length of ${path}`).toBe(e.length);
    e.forEach((v, i) => expectSameShape(a[i], v, `${path}/${i}`));
  }
}

describe.each(DB_KINDS)('POST /preflight through the real API (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let org: { orgId: string; apiKey: string };

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,1,1' });
    org = await svc.newOrg();
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  const preflight = (body: unknown, o = org) => svc.request('POST', `/api/orgs/${o.orgId}/preflight`, { apiKey: o.apiKey, body });

  // An API client's review: every retry of a preflight whose answer was lost recorded a second audit
  // event under a new id, which no SIEM could deduplicate. An Idempotency-Key makes a retry answer
  // for the first try's id and record nothing new.
  it('with an Idempotency-Key, a retry records nothing new and answers the same id; another input under it is refused', async () => {
    const o = await svc.newOrg();
    const key = 'b3c8e1d2-5a41-4f0e-9a7c-0d2e6f1a9b44';
    const send = (body: unknown, headers: Record<string, string>, who = o) =>
      svc.request('POST', `/api/orgs/${who.orgId}/preflight`, { apiKey: who.apiKey, body, headers });
    const body = { input: 'Reach me at jane.doe@example.com', actor_id: 'agent@example.com' };
    const first = await send(body, { 'idempotency-key': key });
    expect(first.status, first.text).toBe(200);
    expect(first.body.preflight_id).toMatch(/^pflt_[a-z]{28}$/);
    const again = await send(body, { 'idempotency-key': key });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await countRows(tdb.db, 'audit_events', o.orgId)).toBe(1);
    // The same key for another check: refused, nothing recorded.
    const other = await send({ ...body, input: 'nothing to see' }, { 'idempotency-key': key });
    expect(other.status, other.text).toBe(409);
    expect(other.body.error.code).toBe('conflict');
    expect(await countRows(tdb.db, 'audit_events', o.orgId)).toBe(1);
    // Another key, or no key, is another check; another organization's same key is its own.
    const fresh = await send(body, { 'idempotency-key': `${key}-2` });
    expect(fresh.body.preflight_id).not.toBe(first.body.preflight_id);
    expect((await send(body, {})).body.preflight_id).not.toBe(first.body.preflight_id);
    const elsewhere = await send(body, { 'idempotency-key': key }, await svc.newOrg());
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body.preflight_id).not.toBe(first.body.preflight_id);
    expect(await countRows(tdb.db, 'audit_events', o.orgId)).toBe(3);
    // A key of the wrong shape is told so, naming the header and never echoing it.
    const bad = await send(body, { 'idempotency-key': 'has a space 123-45-6789' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([
      { path: '/idempotency-key', message: 'must be 1 to 255 visible ASCII characters, without spaces (a UUID, for example)' },
    ]);
    expect(bad.text).not.toContain('123-45-6789');
    // The key is the client's: never written to the log.
    expect(svc.logs.text()).not.toContain(key);
  });

  it('answers exactly the documented fields; personal data -> ALLOWED_WITH_MASKING with every finding masked', async () => {
    const input = 'Customer SSN 123-45-6789, write to jane.doe@example.com or ops@example.org; card 4111 1111 1111 1111.';
    const res = await preflight({ input, destination: 'AI_TOOL', source_type: 'api', input_type: 'text', actor_id: 'agent@example.com' });
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual([
      'decision',
      'finding_counts_by_type',
      'masked_input',
      'policy_id',
      'policy_version',
      'preflight_id',
      'summary',
    ]);
    expect(validateBody('PreflightResponse', res.body)).toEqual([]);
    expect(res.body.preflight_id).toMatch(/^pflt_[A-Za-z0-9_-]+$/);
    expect(res.body.decision).toBe('ALLOWED_WITH_MASKING');
    expect(res.body.finding_counts_by_type).toEqual({ SSN: 1, EMAIL: 2, CREDIT_CARD: 1 });
    expect(res.body.summary).toBe('Detected SSN, EMAIL, CREDIT_CARD; masked.');
    expect(res.body.policy_id).toBe('pol_default');
    expect(res.body.policy_version).toBe('v1.0');
    expect(res.body.masked_input).toBe('Customer SSN [SSN], write to [EMAIL] or [EMAIL]; card [CREDIT_CARD].');
  });

  it('only input is required: defaults AI_TOOL / api / text, and no findings -> ALLOWED', async () => {
    const res = await preflight({ input: 'Summarise the quarterly roadmap in three bullet points.' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      decision: 'ALLOWED',
      finding_counts_by_type: {},
      summary: 'No sensitive data detected.',
      masked_input: 'Summarise the quarterly roadmap in three bullet points.',
    });
    const { rows } = await tdb.db.query<{ p: string }>(`SELECT payload::text AS p FROM audit_events WHERE org_id = $1 AND id = $2`, [
      org.orgId,
      res.body.preflight_id,
    ]);
    const aegis = JSON.parse(rows[0]!.p).aegis;
    expect(aegis).toMatchObject({ destination: 'AI_TOOL', source_type: 'api', input_type: 'text', decision: 'ALLOWED' });
    expect(aegis).not.toHaveProperty('actor_id');
    expect(JSON.parse(rows[0]!.p).event).toMatchObject({ type: ['allowed'], outcome: 'success' });
  });

  it.each([
    ['an AWS access key', 'deploy with AKIAIOSFODNN7EXAMPLE please', 'AWS_ACCESS_KEY'],
    ['a GitHub token', 'token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 here', 'GITHUB_TOKEN'],
    [
      'a private key block',
      'key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm\n-----END RSA PRIVATE KEY-----\n',
      'PRIVATE_KEY',
    ],
  ])('a secret (%s) -> BLOCKED, masked, event outcome failure', async (_name, input, type) => {
    const res = await preflight({ input: `${input} and mail bob@example.com` });
    expect(res.status, res.text).toBe(200);
    expect(res.body.decision).toBe('BLOCKED');
    expect(res.body.finding_counts_by_type).toEqual({ EMAIL: 1, [type]: 1 });
    expect(res.body.summary).toBe(`Detected EMAIL, ${type}; blocked.`);
    expect(res.body.masked_input).toContain(`[${type}]`);
    expect(res.body.masked_input).not.toContain('bob@example.com');
    const { rows } = await tdb.db.query<{ p: string }>(`SELECT payload::text AS p FROM audit_events WHERE org_id = $1 AND id = $2`, [
      org.orgId,
      res.body.preflight_id,
    ]);
    const event = JSON.parse(rows[0]!.p);
    expect(event.event).toMatchObject({ type: ['blocked'], outcome: 'failure' });
    expect(validateWireEvent(event)).toEqual([]);
  });

  it('done-when: an SSN and two emails -> the product page event shape in the database queue', async () => {
    // A second org's enabled destination (so a job is queued) and a fresh org for the event.
    const o = await svc.newOrg();
    const receiver = await startReceiver();
    try {
      const created = await svc.request('POST', `/api/orgs/${o.orgId}/forwarding-destinations`, {
        apiKey: o.apiKey,
        body: { url: `${receiver.url}/ingest`, auth_header_name: 'Authorization', auth_header_value: 'Bearer t0k' },
      });
      expect(created.status, created.text).toBe(201);
      // Padded to exactly 200 bytes, the page's input_size_bytes.
      let input = 'Please check SSN 123-45-6789 for alice@example.com and cc bob@example.org. ';
      input += 'x'.repeat(200 - Buffer.byteLength(input));
      const pf = await preflight({ input, destination: 'AI_TOOL', source_type: 'api', input_type: 'text', actor_id: 'carol@example.com' }, o);
      expect(pf.status, pf.text).toBe(200);

      const { rows } = await tdb.db.query<{ destination_id: string; p: string }>(
        `SELECT j.destination_id, e.payload::text AS p
           FROM forwarding_jobs j JOIN audit_events e ON e.org_id = j.org_id AND e.id = j.event_id
          WHERE j.org_id = $1 AND left(j.event_id, 4) <> 'cfg_'`,
        [o.orgId],
      );
      // The preflight's one job; creating the destination queued its own trail event (cfg_...), left out.
      expect(rows.length).toBe(1);
      expect(rows[0]!.destination_id).toBe(created.body.destination_id);
      const event = JSON.parse(rows[0]!.p);
      expect(validateWireEvent(event)).toEqual([]);
      expectSameShape(event, PAGE_EXAMPLE);
      const page = PAGE_EXAMPLE as { event: Record<string, unknown>; aegis: Record<string, unknown> };
      expect(event.aegis.finding_counts_by_type).toEqual({ SSN: 1, EMAIL: 2 });
      expect(event.aegis.finding_counts_by_type).toEqual(page.aegis.finding_counts_by_type);
      expect(event.event).toEqual({ ...page.event, id: pf.body.preflight_id });
      expect(event.aegis).toEqual({
        ...page.aegis,
        preflight_id: pf.body.preflight_id,
        summary: 'Detected SSN, EMAIL; masked.',
        policy_id: 'pol_default',
        actor_id: 'carol@example.com',
      });
      expect(event.organization).toEqual({ id: o.orgId });
      expect(event['@timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
      expect(Math.abs(Date.parse(event['@timestamp']) - Date.now())).toBeLessThan(60_000);
      await receiver.waitFor((r) => r.length >= 1, 60_000);
    } finally {
      await receiver.close();
    }
  });

  it('an input over 1 MiB -> 413 with a clear message, nothing recorded; exactly 1 MiB is fine', async () => {
    const before = await countRows(tdb.db, 'audit_events', org.orgId);
    const big = await preflight({ input: 'a'.repeat(1024 * 1024 + 1) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    expect(big.body.error.message).toMatch(/1 MiB/);
    expect(big.text.length).toBeLessThan(1000);
    // Multi-byte text: 350,000 characters of 3 bytes is over the byte limit, under a character limit.
    const wide = await preflight({ input: '€'.repeat(350_000) });
    expect(wide.status).toBe(413);
    // Far over the limit (beyond what the HTTP layer reads): still a JSON 413.
    const huge = await preflight({ input: 'a'.repeat(6 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');
    expect(await countRows(tdb.db, 'audit_events', org.orgId)).toBe(before);

    const max = await preflight({ input: 'b'.repeat(1024 * 1024) });
    expect(max.status, max.text.slice(0, 300)).toBe(200);
    expect(max.body.decision).toBe('ALLOWED');
    const { rows } = await tdb.db.query<{ n: number }>(
      `SELECT (payload->'aegis'->>'input_size_bytes')::int AS n FROM audit_events WHERE org_id = $1 AND id = $2`,
      [org.orgId, max.body.preflight_id],
    );
    expect(rows[0]!.n).toBe(1024 * 1024);
  });

  it('unknown fields, bad enums, a missing input and a sensitive actor_id -> 400 naming the field, nothing recorded', async () => {
    const before = await countRows(tdb.db, 'audit_events', org.orgId);
    const unknown = await preflight({ input: 'hello', raw_text: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('validation_failed');
    expect(unknown.body.error.message).toContain('raw_text');
    expect(validateBody('ErrorResponse', unknown.body)).toEqual([]);
    // A property name that is itself a detected value is not echoed.
    const sneaky = await preflight({ input: 'hello', 'bob@example.com': 1 });
    expect(sneaky.status).toBe(400);
    expect(sneaky.text).not.toContain('bob@example.com');

    const missing = await preflight({ destination: 'AI_TOOL' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('input');

    const badEnum = await preflight({ input: 'hello', destination: 'MARS' });
    expect(badEnum.status).toBe(400);
    expect(badEnum.body.error.message).toContain('destination');
    expect(badEnum.body.error.message).not.toContain('MARS');

    const secretActor = await preflight({ input: 'hello', actor_id: 'AKIAIOSFODNN7EXAMPLE' });
    expect(secretActor.status).toBe(400);
    expect(secretActor.body.error.message).toContain('actor_id');
    expect(secretActor.text).not.toContain('AKIAIOSFODNN7EXAMPLE');

    const ssnActor = await preflight({ input: 'hello', actor_id: 'alice@example.com 123-45-6789' });
    expect(ssnActor.status).toBe(400);
    expect(ssnActor.text).not.toContain('123-45-6789');

    const longActor = await preflight({ input: 'hello', actor_id: 'a'.repeat(257) });
    expect(longActor.status).toBe(400);
    expect(longActor.body.error.message).toContain('actor_id');

    const notJson = await svc.request('POST', `/api/orgs/${org.orgId}/preflight`, { apiKey: org.apiKey, rawBody: '{"input": "x"' });
    expect(notJson.status).toBe(400);
    expect(await countRows(tdb.db, 'audit_events', org.orgId)).toBe(before);
  });

  it('needs the org API key: no key -> 401, another org -> refused, nothing recorded', async () => {
    const other = await svc.newOrg();
    const before = await countRows(tdb.db, 'audit_events');
    const none = await svc.request('POST', `/api/orgs/${org.orgId}/preflight`, { body: { input: 'hello' } });
    expect(none.status).toBe(401);
    const cross = await svc.request('POST', `/api/orgs/${org.orgId}/preflight`, { apiKey: other.apiKey, body: { input: 'hello' } });
    expect([403, 404]).toContain(cross.status);
    expect(await countRows(tdb.db, 'audit_events')).toBe(before);
  });
});

// The API and the worker as separate processes' worth of components, the worker polling only every
// ten minutes: a prompt delivery can only come from the NOTIFY sent when the event is queued.
describe.each(DB_KINDS)('NOTIFY wakes a separate worker (%s)', (kind) => {
  let tdb: TestDb;
  let workerDb: Db;
  let api: TestService;
  let worker: TestService;
  let receiver: Receiver;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    workerDb = kind === 'postgres' ? openPg({ connectionString: tdb.url!, max: 4 }) : tdb.db;
    const env = { AEGIS_WORKER_INTERVAL_MS: '600000', AEGIS_ENCRYPTION_KEY: generateKeyBase64() };
    api = await startTestService(tdb.db, env, 'api');
    worker = await startTestService(workerDb, env, 'worker');
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
    await receiver?.close();
    if (kind === 'postgres') await workerDb?.close();
    await tdb?.close();
  });

  it('each preflight event reaches the SIEM within seconds although the worker polls every 600 s', async () => {
    const o = await api.newOrg();
    const created = await api.request('POST', `/api/orgs/${o.orgId}/forwarding-destinations`, {
      apiKey: o.apiKey,
      body: { url: `${receiver.url}/ingest`, auth_header_name: 'Authorization', auth_header_value: 'Bearer t0k' },
    });
    expect(created.status, created.text).toBe(201);
    // Let the worker's start-up scan pass: from here on only a NOTIFY can wake it.
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 1; i <= 3; i++) {
      const pf = await api.request('POST', `/api/orgs/${o.orgId}/preflight`, { apiKey: o.apiKey, body: { input: `round ${i}: mail x${i}@example.com` } });
      expect(pf.status, pf.text).toBe(200);
      const got = await receiver.waitFor((reqs) => reqs.some((q) => q.body.toString().includes(pf.body.preflight_id)), 60_000);
      expect(got.length).toBeGreaterThanOrEqual(i);
    }
  });
});
