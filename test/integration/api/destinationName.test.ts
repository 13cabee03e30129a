// Issue 15: two destinations of one SIEM were two identical "Splunk HEC" cards. An optional `name`
// tells them apart: accepted on create and PATCH, returned on every read, in the OpenAPI schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { respondWith, startReceiver, type Receiver } from '../../support/httpsReceiver.js';

describe.each(DB_KINDS)('destination name and test-delivered time (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;
  let orgId: string;
  let apiKey: string;
  const base = () => `/api/orgs/${orgId}/forwarding-destinations`;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
    receiver = await startReceiver(respondWith(200, '{"text":"Success","code":0}', { 'content-type': 'application/json' }));
    ({ orgId, apiKey } = await svc.newOrg());
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  const create = (body: Record<string, unknown>) => svc.request('POST', base(), { apiKey, body: { url: `${receiver.url}/hook`, ...body } });
  const patch = (id: string, body: unknown) => svc.request('PATCH', `${base()}/${id}`, { apiKey, body });
  const get = (id: string) => svc.request('GET', `${base()}/${id}`, { apiKey });

  it('create takes an optional name, trimmed; it comes back on create, get and list', async () => {
    const named = await create({ siem: 'splunk_hec', name: '  Splunk prod  ' });
    expect(named.status).toBe(201);
    expect(named.body.name).toBe('Splunk prod');
    const unnamed = await create({ siem: 'splunk_hec' });
    expect(unnamed.status).toBe(201);
    expect(unnamed.body.name).toBeNull();
    expect((await get(named.body.destination_id)).body.name).toBe('Splunk prod');
    const list = (await svc.request('GET', base(), { apiKey })).body as { destination_id: string; name: string | null }[];
    expect(list.find((d) => d.destination_id === named.body.destination_id)?.name).toBe('Splunk prod');
    expect(list.find((d) => d.destination_id === unnamed.body.destination_id)).toHaveProperty('name', null);
  });

  it('PATCH sets, renames and (with null) clears the name, leaving everything else alone', async () => {
    const { body: d } = await create({ name: 'Staging' });
    const renamed = await patch(d.destination_id, { name: 'Staging EU' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Staging EU', url: d.url, enabled: d.enabled });
    const cleared = await patch(d.destination_id, { name: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.name).toBeNull();
    expect((await get(d.destination_id)).body.name).toBeNull();
    // A PATCH that does not mention the name keeps it.
    await patch(d.destination_id, { name: 'Kept' });
    expect((await patch(d.destination_id, { enabled: false })).body.name).toBe('Kept');
  });

  it('a name of 100 characters (code points) is accepted; 101 is refused naming the field', async () => {
    const hundred = '🛡'.repeat(100);
    const ok = await create({ name: hundred });
    expect(ok.status).toBe(201);
    expect(ok.body.name).toBe(hundred);
    const tooLong = await create({ name: 'x'.repeat(101) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toMatch(/name/);
  });

  it.each([
    ['blank after trimming', '   '],
    ['empty', ''],
    ['a line break', 'Splunk\nprod'],
    ['a tab', 'Splunk\tprod'],
    ['an escape sequence', 'Splunk \u001b[31mprod'],
    ['a bidirectional override', 'Splunk \u202Edorp'],
    ['a number instead of text', 42],
  ])('a name with %s is refused with a 400 naming `name`, on create and PATCH', async (_what, name) => {
    const refused = await create({ name });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toMatch(/validation_failed|bad_request/);
    expect(refused.body.error.message).toMatch(/name/);
    const { body: d } = await create({ name: 'Before' });
    const refusedPatch = await patch(d.destination_id, { name });
    expect(refusedPatch.status).toBe(400);
    expect(refusedPatch.body.error.message).toMatch(/name/);
    expect((await get(d.destination_id)).body.name).toBe('Before');
  });

  it('a successful test stamps last_test_delivered_at without counting as a live delivery', async () => {
    const { body: d } = await create({ enabled: false });
    expect(d.last_test_delivered_at).toBeNull();
    const probe = await svc.request('POST', `${base()}/${d.destination_id}/test`, { apiKey });
    expect(probe.body.ok).toBe(true);
    const after = (await get(d.destination_id)).body;
    expect(Number.isNaN(Date.parse(after.last_test_delivered_at))).toBe(false);
    // The pill rules are unchanged: a test is not a delivery of an audit event.
    expect(after.last_delivery_at).toBeNull();
    expect(after.status).toBe('disabled');
    expect((await patch(d.destination_id, { enabled: true })).body.status).toBe('idle');
  });

  it('the OpenAPI document describes name on create, PATCH and the destination view', async () => {
    const doc = (await svc.request('GET', '/openapi.json')).body;
    const coll = '/api/orgs/{org_id}/forwarding-destinations';
    const createSchema = doc.paths[coll].post.requestBody.content['application/json'].schema;
    const patchSchema = doc.paths[`${coll}/{destination_id}`].patch.requestBody.content['application/json'].schema;
    for (const s of [createSchema, patchSchema]) {
      const text = JSON.stringify(s.properties.name);
      expect(text).toContain('"maxLength":100');
      expect(text).toContain('"null"');
    }
    // The answer refers to the one Destination component, which holds the fields.
    expect(doc.paths[coll].post.responses['201'].content['application/json'].schema.$ref).toBe('#/components/schemas/Destination');
    const view = JSON.stringify(doc.components.schemas.Destination);
    expect(view).toContain('"name"');
    expect(view).toContain('last_test_delivered_at');
  });
});
