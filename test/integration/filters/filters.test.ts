// Issue 12, filters: a destination's `filter` (MongoDB-style subset over the wire event) decides, in
// the statement that records an event, whether that destination gets a job for it. Real service, real
// HTTPS receivers, both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, startReceiver, type Receiver, type ReceivedRequest } from '../../support/httpsReceiver.js';

const SOC_FILTER = { 'aegis.decision': { $in: ['BLOCKED', 'ALLOWED_WITH_MASKING'] }, 'aegis.finding_counts_by_type.SSN': { $gte: 1 } };

function record(decision: string, counts: Record<string, number>, extra: Record<string, unknown> = {}) {
  return {
    decision,
    destination: 'AI_TOOL',
    summary: decision === 'ALLOWED' ? 'No findings.' : `Detected ${Object.keys(counts).join(', ') || 'nothing'}.`,
    policy_version: 'v1.0',
    policy_id: 'pol_default',
    source_type: 'desktop_agent',
    input_type: 'text',
    input_size_bytes: 100,
    finding_counts_by_type: counts,
    ...extra,
  };
}

const ids = (reqs: ReceivedRequest[]) => reqs.map((r) => (JSON.parse(r.body.toString('utf8')) as { event: { id: string } }).event.id).sort();

describe.each(DB_KINDS)('destination filters (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let soc: Receiver;
  let lake: Receiver;
  let orgId: string;
  let apiKey: string;
  const base = () => `/api/orgs/${orgId}/forwarding-destinations`;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
    [soc, lake] = await Promise.all([startReceiver(), startReceiver()]);
    ({ orgId, apiKey } = await svc.newOrg());
  });
  afterAll(async () => {
    await svc?.stop();
    await Promise.all([soc?.close(), lake?.close()]);
    await tdb?.close();
  });

  const create = (body: Record<string, unknown>) => svc.request('POST', base(), { apiKey, body: { url: `${soc.url}/stored`, enabled: false, ...body } });
  const patch = (id: string, body: unknown) => svc.request('PATCH', `${base()}/${id}`, { apiKey, body });
  const post = (events: unknown[]) => svc.request('POST', `/api/orgs/${orgId}/audit-events`, { apiKey, body: { events } });
  /** Which of `eventIds` have a job queued for the destination (sorted). */
  const jobsFor = async (destinationId: string, eventIds: string[]) =>
    (
      await tdb.db.query<{ event_id: string }>(
        `SELECT event_id FROM forwarding_jobs WHERE destination_id = $1 AND event_id = ANY($2::text[]) ORDER BY event_id`,
        [destinationId, eventIds],
      )
    ).rows.map((r) => r.event_id);
  /** Jobs of the destination left, of the events the test records, not the configuration trail's (ids "cfg_"). */
  const jobCount = async (destinationId: string) =>
    (
      await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM forwarding_jobs WHERE destination_id = $1 AND left(event_id, 4) <> 'cfg_'`, [
        destinationId,
      ])
    ).rows[0]!.n;
  /**
   * Holds every request the receivers get until the returned function is called: no job of theirs is
   * settled meanwhile, so none is deleted (a settle deletes a delivered job), and the jobs a test reads
   * are all those that were queued.
   */
  const hold = () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    for (const r of [soc, lake]) r.setHandler(() => gate.then(() => ({ status: 200, body: 'ok' })));
    return () => {
      for (const r of [soc, lake]) r.setHandler(ok());
      open();
    };
  };
  /** The recorded events (not the trail's) a receiver got on a path, sorted. */
  const got = (r: Receiver, path: string) => ids(r.requests.filter((x) => x.path === path)).filter((id) => !id.startsWith('cfg_'));

  it('is stored and returned on create, get and list; PATCH replaces it and null (or {}) clears it', async () => {
    const created = await create({ filter: SOC_FILTER });
    expect(created.status).toBe(201);
    expect(created.body.filter).toEqual(SOC_FILTER);
    const id = created.body.destination_id as string;
    expect((await svc.request('GET', `${base()}/${id}`, { apiKey })).body.filter).toEqual(SOC_FILTER);
    const list = (await svc.request('GET', base(), { apiKey })).body as { destination_id: string; filter: unknown }[];
    expect(list.find((d) => d.destination_id === id)?.filter).toEqual(SOC_FILTER);

    const replaced = await patch(id, { filter: { 'event.dataset': 'aegis.preflight' } });
    expect(replaced.status).toBe(200);
    expect(replaced.body.filter).toEqual({ 'event.dataset': 'aegis.preflight' });
    // A PATCH that does not mention the filter keeps it.
    expect((await patch(id, { name: 'SOC' })).body.filter).toEqual({ 'event.dataset': 'aegis.preflight' });
    const cleared = await patch(id, { filter: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.filter).toBeNull();
    expect((await svc.request('GET', `${base()}/${id}`, { apiKey })).body.filter).toBeNull();
    expect((await create({ filter: {} })).body.filter).toBeNull();
    expect((await create({})).body.filter).toBeNull();
  });

  it('a filtered destination gets a job (and a delivery) only for matching events; an unfiltered one gets all', async () => {
    const socDest = (await create({ url: `${soc.url}/soc`, enabled: true, filter: SOC_FILTER })).body.destination_id as string;
    const lakeDest = (await create({ url: `${lake.url}/lake`, enabled: true })).body.destination_id as string;
    // Deliveries wait while the test reads the jobs (a delivered job is deleted when it is settled).
    let release = hold();
    try {
      const res = await post([
        record('BLOCKED', { SSN: 2, AWS_ACCESS_KEY: 1 }, { preflight_id: 'pflt_filterMatchBlocked0000001' }),
        record('ALLOWED', {}, { preflight_id: 'pflt_filterNoMatchAllowed00001' }),
        record('ALLOWED_WITH_MASKING', { SSN: 1 }, { preflight_id: 'pflt_filterMatchMasked00000001' }),
        record('BLOCKED', { AWS_ACCESS_KEY: 1 }, { preflight_id: 'pflt_filterNoMatchNoSsn000001' }),
      ]);
      expect(res.status).toBe(200);
      // The preflight producer goes through the same statement: an SSN in the text is masked and matches.
      const pf = await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'My SSN is 123-45-6789' } });
      expect(pf.body.decision).toBe('ALLOWED_WITH_MASKING');
      const none = await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'nothing to see' } });
      expect(none.body.decision).toBe('ALLOWED');
      const recorded = [...(res.body.preflight_ids as string[]), pf.body.preflight_id as string, none.body.preflight_id as string];
      const matching = ['pflt_filterMatchBlocked0000001', 'pflt_filterMatchMasked00000001', pf.body.preflight_id as string].sort();

      // Jobs were queued in the statement that recorded the events, and none was settled since: final now.
      expect(await jobsFor(socDest, recorded)).toEqual(matching);
      expect(await jobsFor(lakeDest, recorded)).toEqual([...recorded].sort());
      expect(await jobCount(socDest)).toBe(3);
      expect(await jobCount(lakeDest)).toBe(6);
      release();
      // Delivered: each receiver got exactly its events, and no job is left.
      await expect.poll(async () => got(lake, '/lake').length === 6 && (await jobCount(lakeDest)) === 0, { timeout: 60_000 }).toBe(true);
      await expect.poll(async () => got(soc, '/soc').length === 3 && (await jobCount(socDest)) === 0, { timeout: 60_000 }).toBe(true);
      expect(got(lake, '/lake')).toEqual([...recorded].sort());
      expect(got(soc, '/soc')).toEqual(matching);

      // The service's routing is cached per filter version: a PATCH takes effect for the next event.
      expect((await patch(socDest, { filter: { 'aegis.decision': 'ALLOWED' } })).status).toBe(200);
      release = hold();
      await post([
        record('ALLOWED', {}, { preflight_id: 'pflt_filterAfterPatchAllowed01' }),
        record('BLOCKED', { SSN: 1 }, { preflight_id: 'pflt_filterAfterPatchBlocked01' }),
      ]);
      expect(await jobsFor(socDest, ['pflt_filterAfterPatchAllowed01', 'pflt_filterAfterPatchBlocked01'])).toEqual(['pflt_filterAfterPatchAllowed01']);
      expect(await jobCount(socDest)).toBe(1);
      release();
      await expect
        .poll(async () => got(soc, '/soc').includes('pflt_filterAfterPatchAllowed01') && (await jobCount(socDest)) === 0, { timeout: 60_000 })
        .toBe(true);
      // Cleared: every event again.
      await patch(socDest, { filter: null });
      release = hold();
      await post([record('BLOCKED', {}, { preflight_id: 'pflt_filterAfterClearBlocked01' })]);
      expect(await jobsFor(socDest, ['pflt_filterAfterClearBlocked01'])).toEqual(['pflt_filterAfterClearBlocked01']);
      expect(await jobCount(socDest)).toBe(1);
      release();
      await expect
        .poll(async () => got(soc, '/soc').includes('pflt_filterAfterClearBlocked01') && (await jobCount(socDest)) === 0, { timeout: 60_000 })
        .toBe(true);
      // Disabled destinations get nothing, filter or not (a job queued for it would stay: a disabled
      // destination is not delivered to); re-enabled with a filter, it applies at once.
      await patch(socDest, { enabled: false, filter: { 'aegis.source_type': 'sdk' } });
      await post([record('ALLOWED', {}, { preflight_id: 'pflt_filterWhileDisabled000001', source_type: 'sdk' })]);
      expect(await jobCount(socDest)).toBe(0);
      await patch(socDest, { enabled: true });
      release = hold();
      await post([
        record('ALLOWED', {}, { preflight_id: 'pflt_filterReenabledSdk0000001', source_type: 'sdk' }),
        record('ALLOWED', {}, { preflight_id: 'pflt_filterReenabledAgent00001' }),
      ]);
      expect(await jobsFor(socDest, ['pflt_filterReenabledSdk0000001', 'pflt_filterReenabledAgent00001', 'pflt_filterWhileDisabled000001'])).toEqual([
        'pflt_filterReenabledSdk0000001',
      ]);
      expect(await jobCount(socDest)).toBe(1);
      release();
      await expect
        .poll(async () => got(soc, '/soc').includes('pflt_filterReenabledSdk0000001') && (await jobCount(socDest)) === 0, { timeout: 60_000 })
        .toBe(true);
      // Everything the filtered destination ever got: the events it had jobs for, each once.
      expect(got(soc, '/soc')).toEqual(
        [...matching, 'pflt_filterAfterPatchAllowed01', 'pflt_filterAfterClearBlocked01', 'pflt_filterReenabledSdk0000001'].sort(),
      );
      await patch(socDest, { enabled: false });
      await patch(lakeDest, { enabled: false });
    } finally {
      release();
    }
  });

  const refusals: [string, unknown, string, RegExp][] = [
    ['$where at the top', { $where: 'this.aegis.decision == "BLOCKED"' }, '/filter/$where', /not a supported operator/],
    ['$expr', { $expr: { $gt: ['$a', 1] } }, '/filter/$expr', /not a supported operator/],
    ['$regex on a field', { 'aegis.summary': { $regex: 'SSN' } }, '/filter/aegis.summary/$regex', /not a supported operator/],
    [
      'an unknown operator nested in $or/$not',
      { $or: [{ 'aegis.decision': 'BLOCKED' }, { 'aegis.decision': { $not: { $foo: 1 } } }] },
      '/filter/$or/1/aegis.decision/$not/$foo',
      /not a supported operator/,
    ],
    ['$where nested in $and', { $and: [{ $where: 'sleep(1000)' }] }, '/filter/$and/0/$where', /not a supported operator/],
    ['an unknown field', { 'aegis.input': 'x' }, '/filter/aegis.input', /not a field of the wire event/],
    ['a nested object instead of a dotted path', { aegis: { decision: 'BLOCKED' } }, '/filter/aegis/decision', /not an operator/],
    ['$in without an array', { 'aegis.decision': { $in: 'BLOCKED' } }, '/filter/aegis.decision/$in', /array/],
    ['$exists with a string', { 'aegis.actor_id': { $exists: 'yes' } }, '/filter/aegis.actor_id/$exists', /true or false/],
    ['an empty $or', { $or: [] }, '/filter/$or', /non-empty array/],
    ['a top-level $not', { $not: { 'aegis.decision': 'BLOCKED' } }, '/filter/$not', /applies to one field/],
    ['a string too long', { 'aegis.summary': 'x'.repeat(300) }, '/filter/aegis.summary', /limit is 256/],
  ];

  it.each(refusals)('%s is refused with 400 naming the path, on create and PATCH', async (_what, filter, path, message) => {
    const { body: d } = await create({});
    for (const res of [await create({ filter }), await patch(d.destination_id, { filter })]) {
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details).toContainEqual({ path, message: expect.stringMatching(message) });
    }
    expect((await svc.request('GET', `${base()}/${d.destination_id}`, { apiKey })).body.filter).toBeNull();
  });

  it('a filter nested too deep or too large is refused; a filter that is not an object by the schema', async () => {
    let deep: Record<string, unknown> = { 'aegis.decision': 'BLOCKED' };
    for (let i = 0; i < 10; i++) deep = { $and: [deep] };
    const tooDeep = await create({ filter: deep });
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.error.message).toMatch(/^filter\.\$and\[0\]\.\$and\[0\]\.\$and\[0\]\.\$and.*nests deeper than 8 levels/);
    const big = { $or: Array.from({ length: 80 }, (_, i) => ({ 'aegis.actor_id': `someone-with-a-long-address-${i}@example.com` })) };
    const tooBig = await create({ filter: big });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error.details).toContainEqual({ path: '/filter', message: expect.stringMatching(/bytes as JSON; the limit is 4096/) });
    for (const filter of ['{"aegis.decision":"BLOCKED"}', ['BLOCKED'], 3]) {
      const res = await create({ filter });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/^filter/);
    }
  });

  it("previews a filter over the organization's last recorded events, counts only, tenant-scoped", async () => {
    const { orgId: otherOrg, apiKey: otherKey } = await svc.newOrg('Other');
    const preview = (org: string, key: string, body: unknown) =>
      svc.request('POST', `/api/orgs/${org}/forwarding-destinations/filter-preview`, { apiKey: key, body });
    // Another organization with no events: nothing to examine.
    expect((await preview(otherOrg, otherKey, { filter: SOC_FILTER })).body).toEqual({ matched: 0, of: 0 });
    await svc.request('POST', `/api/orgs/${otherOrg}/audit-events`, {
      apiKey: otherKey,
      body: { events: [record('BLOCKED', { SSN: 1 }), record('ALLOWED', {})] },
    });
    expect((await preview(otherOrg, otherKey, { filter: SOC_FILTER })).body).toEqual({ matched: 1, of: 2 });
    expect((await preview(otherOrg, otherKey, { filter: null })).body).toEqual({ matched: 2, of: 2 });
    // This organization has recorded 12 events in the test above; 4 match the SOC filter.
    const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1', [orgId]);
    const res = await preview(orgId, apiKey, { filter: SOC_FILTER });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ matched: 4, of: rows[0]!.n });
    // Besides the configuration trail's events (ids "cfg_"), which the preview examines like any event.
    const decisions = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1 AND left(id, 4) <> 'cfg_'`, [orgId]);
    expect(decisions.rows[0]!.n).toBe(12);
    expect((await preview(orgId, apiKey, { filter: { 'aegis.source_type': 'sdk' } })).body.matched).toBe(2);
    // The same checks as a save, the same answer.
    const bad = await preview(orgId, apiKey, { filter: { 'aegis.decision': { $where: 'x' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toContainEqual({ path: '/filter/aegis.decision/$where', message: expect.stringMatching(/not a supported operator/) });
    // A credential as a filter value too (an operator's review: the preview counted where the save refused).
    for (const value of ['ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5', 'AKIAQ3EGT5KXZ7WJ2MRN']) {
      const filter = { 'aegis.summary': value };
      const saved = await svc.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, {
        apiKey,
        body: { url: 'https://siem.example.com/in', auth_header_value: 'Bearer x', filter },
      });
      const previewed = await preview(orgId, apiKey, { filter });
      expect(saved.status, saved.text).toBe(400);
      expect(previewed.status, previewed.text).toBe(400);
      expect(previewed.body.error.message).toBe(saved.body.error.message);
      expect(previewed.text).not.toContain(value);
    }
    // Another organization's key, and no key.
    expect((await preview(orgId, otherKey, { filter: null })).status).toBe(404);
    expect((await svc.request('POST', `/api/orgs/${orgId}/forwarding-destinations/filter-preview`, { body: { filter: null } })).status).toBe(401);
  });

  it('OpenAPI documents the filter on create, PATCH and reads, and the preview endpoint', async () => {
    const doc = (await svc.request('GET', '/openapi.json')).body as {
      paths: Record<
        string,
        Record<string, { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> }; responses: Record<string, unknown> }>
      >;
      components: { schemas: Record<string, unknown> };
    };
    const coll = '/api/orgs/{org_id}/forwarding-destinations';
    const body = (path: string, method: string) => Object.keys(doc.paths[path]![method]!.requestBody.content['application/json']!.schema.properties);
    expect(body(coll, 'post')).toContain('filter');
    expect(body(`${coll}/{destination_id}`, 'patch')).toContain('filter');
    expect(body(`${coll}/filter-preview`, 'post')).toEqual(['filter']);
    expect(JSON.stringify(doc.paths[`${coll}/filter-preview`]!.post!.responses['200'])).toMatch(/"matched".*"of"/);
    // The answer refers to the one Destination component, which holds the filter.
    expect(JSON.stringify(doc.paths[coll]!.post!.responses['201'])).toContain('#/components/schemas/Destination');
    expect(JSON.stringify(doc.components.schemas.Destination)).toContain('"filter"');
  });

  it('never logs a filter (configuration, yet it may name people in actor_id)', async () => {
    const canary = 'filter-canary-7781@example.com';
    const d = await create({ filter: { 'aegis.actor_id': canary } });
    expect(d.status).toBe(201);
    await patch(d.body.destination_id, { filter: { 'aegis.actor_id': { $in: [canary] } } });
    await svc.request('POST', `${base()}/filter-preview`, { apiKey, body: { filter: { 'aegis.actor_id': canary } } });
    expect(svc.logs.text()).not.toContain(canary);
  });
});
