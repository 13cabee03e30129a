import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { assertValidOcsf } from '../../../src/events/ocsfSchema.js';
import { ocsfEventsOf } from '../../support/ocsfBodies.js';
import { validateWireEvent } from '../../../src/events/validate.js';
import { seedEvents } from './support.js';
import { buildWireEvent, newPreflightId } from '../../../src/events/contract.js';
import { recordEvents } from '../../../src/queue/enqueue.js';

// `format: "ocsf"` end to end (issue #13): set through the API, shown on every read, and every event
// a real HTTPS receiver gets (webhook, a batching preset, the test event) is a valid OCSF 1.8.0 Data
// Security Finding by the vendored official schema.
describe.each(DB_KINDS)('OCSF output through the API (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let org: { orgId: string; apiKey: string };
  const receivers: Receiver[] = [];
  type Json = any;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,1,1' });
    org = await svc.newOrg();
  });
  afterAll(async () => {
    await svc?.stop();
    for (const r of receivers) await r.close();
    await tdb?.close();
  });

  const base = () => `/api/orgs/${org.orgId}/forwarding-destinations`;
  const call = (method: string, path: string, body?: unknown) => svc.request(method, path, { apiKey: org.apiKey, ...(body !== undefined ? { body } : {}) });
  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  }

  it('format on create, PATCH and every read; default ecs; bad values are a 400 naming the field', async () => {
    const plain = await call('POST', base(), { url: 'https://siem.example.com/a', enabled: false });
    expect(plain.status, plain.text).toBe(201);
    expect(plain.body.format).toBe('ecs');
    const o = await call('POST', base(), { url: 'https://siem.example.com/b', enabled: false, format: 'ocsf', siem: 'sumo_logic' });
    expect(o.status, o.text).toBe(201);
    expect(o.body.format).toBe('ocsf');
    const id = o.body.destination_id as string;
    expect((await call('GET', `${base()}/${id}`)).body.format).toBe('ocsf');
    const list = (await call('GET', base())).body;
    const listed = (list.destinations ?? list) as Json[];
    expect(listed.find((d) => d.destination_id === id).format).toBe('ocsf');
    expect(listed.find((d) => d.destination_id === plain.body.destination_id).format).toBe('ecs');

    const back = await call('PATCH', `${base()}/${id}`, { format: 'ecs' });
    expect(back.status, back.text).toBe(200);
    expect(back.body.format).toBe('ecs');
    // A PATCH without format leaves it alone.
    await call('PATCH', `${base()}/${id}`, { format: 'ocsf' });
    expect((await call('PATCH', `${base()}/${id}`, { name: 'Sumo OCSF' })).body.format).toBe('ocsf');

    for (const bad of ['cef', 'OCSF', '', 1, null]) {
      const c = await call('POST', base(), { url: 'https://siem.example.com/c', format: bad });
      expect(c.status, c.text).toBe(400);
      expect(c.body.error.code).toBe('validation_failed');
      expect(c.body.error.message).toContain('format');
      const p = await call('PATCH', `${base()}/${id}`, { format: bad });
      expect(p.status, p.text).toBe(400);
      expect(p.body.error.message).toContain('format');
    }
    expect((await call('GET', `${base()}/${id}`)).body.format).toBe('ocsf');
    // The OpenAPI document describes it.
    const spec = await svc.request('GET', '/openapi.json');
    expect(JSON.stringify(spec.body)).toContain('Data Security Finding');
    for (const d of [id, plain.body.destination_id as string]) await call('DELETE', `${base()}/${d}`);
  });

  it('custom webhook: preflight decisions and the test event arrive as valid OCSF, one per request', async () => {
    const r = await receiver();
    const c = await call('POST', base(), { url: `${r.url}/hook`, format: 'ocsf', signing: true });
    expect(c.status, c.text).toBe(201);
    const id = c.body.destination_id as string;

    const probe = await call('POST', `${base()}/${id}/test`);
    expect(probe.body, probe.text).toMatchObject({ ok: true });
    const ids: string[] = [];
    for (const [input, decision] of [
      ['Patient SSN 287-65-4321, mail jane.doe@example.org.', 'ALLOWED_WITH_MASKING'],
      ['export AWS_ACCESS_KEY_ID=AKIAQ3EGRVSJX5H7KPLM', 'BLOCKED'],
      ['Nothing to see here.', 'ALLOWED'],
    ] as const) {
      const res = await call('POST', `/api/orgs/${org.orgId}/preflight`, { input, actor_id: 'alice@example.com', destination: 'CHAT' });
      expect(res.status, res.text).toBe(200);
      expect(res.body.decision).toBe(decision);
      ids.push(res.body.preflight_id as string);
    }
    await r.waitFor((reqs) => ids.every((pid) => reqs.some((q) => q.headers['idempotency-key'] === pid)), 60_000);

    const events = r.requests.map((q) => {
      const e: Json = ocsfEventsOf('custom', q.body.toString('utf8'))[0];
      // The webhook headers are the same as for ECS: the event id, and a signature over these bytes.
      expect(q.headers['idempotency-key']).toBe(e.finding_info.uid);
      expect(q.headers['webhook-signature']).toMatch(/^v1,/);
      return e;
    });
    for (const e of events) {
      assertValidOcsf(e);
      // Not the ECS object.
      expect(validateWireEvent(e)).not.toEqual([]);
    }
    const test = events.find((e) => e.metadata.source === 'aegis.audit_stream.test');
    expect(test, 'the test event').toBeDefined();
    expect(test.metadata.labels).toEqual(['test']);
    expect(test.message).toContain(id);

    const byId = new Map(events.map((e) => [e.finding_info.uid as string, e]));
    const masked = byId.get(ids[0]!);
    expect(masked).toMatchObject({
      action_id: 4,
      disposition_id: 1,
      severity_id: 2,
      is_alert: false,
      unmapped: { aegis: { decision: 'ALLOWED_WITH_MASKING', destination: 'CHAT' } },
    });
    expect(masked.data_security.discovery_details).toEqual(
      expect.arrayContaining([
        { type: 'SSN', count: 1 },
        { type: 'EMAIL', count: 1 },
      ]),
    );
    expect(byId.get(ids[1]!)).toMatchObject({ action_id: 2, disposition_id: 2, severity_id: 3, is_alert: true, finding_info: { types: ['AWS_ACCESS_KEY'] } });
    expect(byId.get(ids[2]!)).toMatchObject({ action_id: 1, disposition_id: 1, severity_id: 1, data_security: { total: 0 } });
    for (const e of ids.map((pid) => byId.get(pid))) {
      expect(e.metadata.tenant_uid).toBe(org.orgId);
      expect(e.actor.user).toEqual({ uid: 'alice@example.com', email_addr: 'alice@example.com', org: { uid: org.orgId } });
    }
    // Metadata only: the scanned values never reach the receiver.
    const bytes = r.requests.map((q) => q.body.toString('utf8')).join('\n');
    for (const planted of ['287-65-4321', 'jane.doe@example.org', 'AKIAQ3EGRVSJX5H7KPLM']) expect(bytes).not.toContain(planted);
    await call('PATCH', `${base()}/${id}`, { enabled: false });
  });

  // Regression: an Elastic OCSF document had no @timestamp and a Datadog OCSF item no date attribute
  // Datadog reads, so both were stamped with the time they arrived; Datadog also read the OCSF status
  // caption ("New") as the log level. An event recorded an hour late must land at its own time.
  it('Elastic and Datadog: each OCSF event carries its own time where the SIEM reads it', async () => {
    const es = await startReceiver(ok('{"took":1,"errors":false,"items":[]}'));
    const dd = await startReceiver();
    receivers.push(es, dd);
    for (const body of [
      { siem: 'elastic', format: 'ocsf', url: `${es.url}/_bulk`, auth_header_name: 'Authorization', auth_header_value: 'ApiKey aWQ6a2V5' },
      { siem: 'datadog', format: 'ocsf', url: `${dd.url}/api/v2/logs`, auth_header_name: 'DD-API-KEY', auth_header_value: 'dd-key-0123456789abcdef' },
    ]) {
      const c = await call('POST', base(), body);
      expect(c.status, c.text).toBe(201);
    }
    const hourAgo = new Date(Date.now() - 3_600_000);
    const late = [0, 1, 2].map((n) =>
      buildWireEvent({
        orgId: org.orgId,
        occurredAt: hourAgo,
        fields: {
          preflight_id: newPreflightId(),
          decision: 'ALLOWED_WITH_MASKING',
          destination: 'AI_TOOL',
          summary: `Detected SSN; masked. (#${n})`,
          policy_version: 'v1.0',
          policy_id: 'pol_default',
          source_type: 'api',
          input_type: 'text',
          input_size_bytes: 200 + n,
          finding_counts_by_type: { SSN: 1 },
        },
      }),
    );
    await tdb.db.transaction((tx) =>
      recordEvents(
        tx,
        late.map((e) => ({ orgId: org.orgId, id: e.event.id, occurredAt: new Date(), payload: e })),
      ),
    );
    const ids = late.map((e) => e.event.id);
    const docs = () =>
      es.requests
        .flatMap((q) =>
          q.body
            .toString('utf8')
            .split('\n')
            .filter((l, i) => l !== '' && i % 2 === 1),
        )
        .map((l) => JSON.parse(l));
    const items = () => dd.requests.flatMap((q) => JSON.parse(q.body.toString('utf8')) as Json[]);
    await es.waitFor(() => ids.every((id) => docs().some((d) => d.metadata?.uid === id)), 60_000);
    await dd.waitFor(() => ids.every((id) => items().some((d) => d.metadata?.uid === id)), 60_000);

    for (const e of late) {
      const doc = docs().find((d) => d.metadata.uid === e.event.id);
      expect(Object.keys(doc)[0]).toBe('@timestamp');
      expect(doc['@timestamp']).toBe(e['@timestamp']);
      expect(doc.time).toBe(hourAgo.getTime());
      const item = items().find((d) => d.metadata.uid === e.event.id);
      expect(item.timestamp).toBe(hourAgo.getTime());
      expect(item).toMatchObject({ severity_id: 2, status: 'notice', status_id: 1 });
    }
    // What each SIEM stores, without the keys its envelope adds, is a valid OCSF event.
    for (const q of es.requests) for (const e of ocsfEventsOf('elastic', q.body.toString('utf8'))) assertValidOcsf(e);
    for (const q of dd.requests) for (const e of ocsfEventsOf('datadog', q.body.toString('utf8'))) assertValidOcsf(e);
  });

  it('Splunk HEC (batching): envelopes with sourcetype ocsf:aegis:audit around valid OCSF events', async () => {
    const r = await receiver();
    const c = await call('POST', base(), {
      siem: 'splunk_hec',
      format: 'ocsf',
      url: `${r.url}/services/collector/event`,
      auth_header_name: 'Authorization',
      auth_header_value: 'Splunk 5f8d1c2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f',
    });
    expect(c.status, c.text).toBe(201);
    const ids = await seedEvents(tdb.db, org.orgId, 6);
    const received = () => r.requests.flatMap((q) => ocsfEventsOf('splunk_hec', q.body.toString('utf8')));
    await r.waitFor(() => ids.every((pid) => received().some((e) => (e.finding_info as Json)?.uid === pid)), 60_000);
    expect(r.requests.some((q) => ocsfEventsOf('splunk_hec', q.body.toString('utf8')).length > 1)).toBe(true);
    for (const q of r.requests) {
      expect(q.headers['content-encoding']).toBe('gzip');
      const envelopes = q.body
        .toString('utf8')
        .replace(/}\s*{"time"/g, '}\n{"time"')
        .split('\n')
        .map((l) => JSON.parse(l));
      for (const env of envelopes) {
        expect(env.sourcetype).toBe('ocsf:aegis:audit');
        // HEC time (seconds) and OCSF time (milliseconds) are the same instant.
        expect(Math.round(env.time * 1000)).toBe(env.event.time);
        assertValidOcsf(env.event);
      }
    }

    // Switching back to ECS takes effect from the destination's next drain. A drain that was still
    // running when the PATCH landed may send one more event in the old shape, so record events one at
    // a time until one arrives as ECS (it must, within a few).
    const patched = await call('PATCH', `${base()}/${c.body.destination_id as string}`, { format: 'ecs' });
    expect(patched.body.format).toBe('ecs');
    let ecsEnvelope: Json;
    for (let i = 0; i < 5 && !ecsEnvelope; i++) {
      const before = r.requests.length;
      const [next] = await seedEvents(tdb.db, org.orgId, 1);
      await r.waitFor((reqs) => reqs.slice(before).some((q) => q.body.toString('utf8').includes(next!)), 60_000);
      ecsEnvelope = r.requests
        .slice(before)
        .flatMap((q) =>
          q.body
            .toString('utf8')
            .replace(/}\s*{"time"/g, '}\n{"time"')
            .split('\n'),
        )
        .map((l) => JSON.parse(l))
        .find((env) => env.event.event?.id === next);
    }
    expect(ecsEnvelope, 'an ECS envelope for an event recorded after the PATCH').toBeDefined();
    expect(ecsEnvelope.sourcetype).toBe('aegis:audit');
    expect(validateWireEvent(ecsEnvelope.event)).toEqual([]);
  });
});
