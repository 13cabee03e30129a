// A filter's values are checked against what the wire event can hold, so a filter that can never
// match (a decision spelt "blocked", a string bound on a number) is refused at save time instead of
// silently forwarding nothing, and @timestamp values compare as instants, not as text.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { startTestService, type TestService } from '../../test/support/harness.js';
import { ok, startReceiver, type Receiver } from '../../test/support/httpsReceiver.js';
import { buildTestEvent, buildWireEvent, formatTimestamp } from '../events/contract.js';
import { DECISIONS } from '../events/enums.js';
import { DATASET_TRAIL, TRAIL_ACTIONS, buildTrailEvent } from '../trail/contract.js';
import { compileFilter } from './compile.js';
import * as fields from './fields.js';
import { checkFilter } from './validate.js';

const DECISION_LIST = 'ALLOWED, ALLOWED_WITH_MASKING, BLOCKED';

/** A wire event recorded at `iso` (what buildWireEvent stores as @timestamp). */
function eventAt(iso: string, decision: (typeof DECISIONS)[number] = 'BLOCKED') {
  return buildWireEvent({
    orgId: 'org_x',
    occurredAt: new Date(iso),
    fields: {
      preflight_id: 'pflt_valuesTest00000000000001',
      decision,
      destination: 'AI_TOOL',
      summary: 'Detected SSN.',
      policy_version: 'v1.0',
      policy_id: 'pol_default',
      source_type: 'api',
      input_type: 'text',
      input_size_bytes: 10,
      finding_counts_by_type: { SSN: 2 },
    },
  });
}

describe('checkFilter: values a field can never hold are refused', () => {
  const refusals: [string, Record<string, unknown>, string, RegExp][] = [
    ['a decision in lower case', { 'aegis.decision': 'blocked' }, '/filter/aegis.decision', /one of ALLOWED, ALLOWED_WITH_MASKING, BLOCKED/],
    ['mixed case in $in', { 'aegis.decision': { $in: ['BLOCKED', 'Blocked'] } }, '/filter/aegis.decision/$in/1', /one of ALLOWED/],
    ['a trailing space in $in', { 'aegis.decision': { $in: ['BLOCKED '] } }, '/filter/aegis.decision/$in/0', /one of ALLOWED/],
    ['fullwidth letters', { 'aegis.decision': 'ＢＬＯＣＫＥＤ' }, '/filter/aegis.decision', /one of ALLOWED/],
    ['$ne with a misspelling', { 'aegis.decision': { $ne: 'BLOCK' } }, '/filter/aegis.decision/$ne', /one of ALLOWED/],
    ['$nin with a misspelling', { 'aegis.destination': { $nin: ['chat'] } }, '/filter/aegis.destination/$nin/0', /one of AI_TOOL, .*CHAT/],
    ['$eq under $not', { 'aegis.source_type': { $not: { $eq: 'API' } } }, '/filter/aegis.source_type/$not/$eq', /one of api, sdk/],
    ['a number for a decision', { 'aegis.decision': 1 }, '/filter/aegis.decision', /one of ALLOWED/],
    ['event.type in upper case', { 'event.type': 'BLOCKED' }, '/filter/event.type', /one of allowed, allowed_with_masking, blocked/],
    ['an unknown input type', { 'aegis.input_type': { $in: ['image'] } }, '/filter/aegis.input_type/$in/0', /one of text, file/],
    ['an unknown dataset', { 'event.dataset': 'aegis' }, '/filter/event.dataset', /one of aegis\.preflight/],
    ['an outcome in upper case', { 'event.outcome': 'FAILURE' }, '/filter/event.outcome', /one of success, failure/],
    ['a string bound on a finding count', { 'aegis.finding_counts_by_type.SSN': { $gte: '1' } }, '/filter/aegis.finding_counts_by_type.SSN/$gte', /number/],
    ['a string bound on the input size', { 'aegis.input_size_bytes': { $lt: '1000' } }, '/filter/aegis.input_size_bytes/$lt', /number/],
    ['a string for a number in $in', { 'aegis.finding_counts_by_type.SSN': { $in: [1, '2'] } }, '/filter/aegis.finding_counts_by_type.SSN/$in/1', /number/],
    ['a number bound on a text field', { 'aegis.policy_version': { $gt: 1 } }, '/filter/aegis.policy_version/$gt', /string/],
    ['a number for a text field', { 'aegis.actor_id': 42 }, '/filter/aegis.actor_id', /string/],
    ['null for a field every event has', { 'event.dataset': null }, '/filter/event.dataset', /every event/],
    ['a value for an object', { aegis: 'x' }, '/filter/aegis', /\$exists/],
    // A browser review's: text no event can hold (its free text refuses them) matched nothing, silently.
    ['a bidirectional override in a summary', { 'aegis.summary': { $in: ['\u202eevil'] } }, '/filter/aegis.summary/$in/0', /bidirectional marks.*never match/],
    ['a zero-width space in an actor', { 'aegis.actor_id': { $ne: 'mallory\u200b@corp.com' } }, '/filter/aegis.actor_id/$ne', /invisible spaces.*never match/],
  ];

  it.each(refusals)('%s', (_what, filter, path, message) => {
    const v = checkFilter(filter);
    expect(v).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('names the allowed values and, for a near miss, the one meant; never the value sent', () => {
    const [v] = checkFilter({ 'aegis.decision': { $in: ['ＢＬＯＣＫＥＤ '] } });
    expect(v).toEqual({ path: '/filter/aegis.decision/$in/0', message: `must be one of ${DECISION_LIST} (exactly as written here); did you mean BLOCKED?` });
    expect(checkFilter({ 'event.type': 'BLOCKED' })[0]!.message).toMatch(/did you mean blocked\?/);
    // A value that is no near miss is not echoed either: it could be anything pasted by mistake.
    const secret = 'jane.doe@example.com';
    const all = JSON.stringify([
      checkFilter({ 'aegis.decision': secret }),
      checkFilter({ 'aegis.input_size_bytes': { $gte: secret } }),
      checkFilter({ '@timestamp': { $gte: secret } }),
      checkFilter({ 'event.outcome': { $in: [secret] } }),
    ]);
    expect(all).not.toContain('jane');
  });

  it('accepts every value the wire events can hold, null where a field can be absent, and $exists anywhere', () => {
    expect(
      checkFilter({
        'aegis.decision': { $in: [...DECISIONS], $ne: null },
        'event.type': { $in: ['blocked', 'creation'] },
        'event.category': 'configuration',
        'event.dataset': { $in: ['aegis.preflight', 'aegis.audit_stream', 'aegis.audit_stream.test'] },
        'event.action': { $nin: ['preflight_check', 'audit_stream_test', ...TRAIL_ACTIONS] },
        'event.kind': 'event',
        'aegis.finding_counts_by_type.SSN': { $gte: 1, $lt: 10, $ne: null },
        'aegis.finding_counts_by_type': { $exists: true },
        'aegis.actor_id': { $in: [null, 'jane@example.com'] },
        'aegis.summary': { $gte: 'A' },
        'aegis.source_type': { $gt: 'a' },
        organization: { $exists: true },
        '@timestamp': { $exists: true },
      }),
    ).toEqual([]);
  });

  it('the value lists cover every event the service records: preflight, test and trail events', () => {
    const now = new Date('2026-12-03T11:00:00Z');
    const events = [
      ...DECISIONS.map((d) => eventAt('2026-12-03T11:00:00Z', d)),
      buildTestEvent({ orgId: 'org_x', destinationId: 'fwd_x', now }),
      ...TRAIL_ACTIONS.map((action) =>
        buildTrailEvent({
          orgId: 'org_x',
          actor: { type: 'api_key', id: 'key_x' },
          change: { action, changedFields: ['url'], outcome: 'failure' },
          occurredAt: now,
        }),
      ),
    ];
    for (const e of events as unknown as Record<string, Record<string, unknown>>[]) {
      const ev = e.event!;
      const filter = {
        'event.kind': ev.kind,
        'event.category': { $in: ev.category },
        'event.type': { $in: ev.type },
        'event.action': ev.action,
        'event.outcome': ev.outcome,
        'event.dataset': ev.dataset,
        '@timestamp': e['@timestamp'],
      };
      expect(checkFilter(filter)).toEqual([]);
      expect(compileFilter(filter)(e)).toBe(true);
    }
    expect(events.some((e) => e.event.dataset === DATASET_TRAIL)).toBe(true);
  });
});

describe('@timestamp: an RFC 3339 date-time, compared as an instant', () => {
  it('refuses what is not an RFC 3339 date-time, naming the form', () => {
    for (const bad of [
      '2027-01',
      '2026-12-03 11:00',
      '2026-13-01T00:00:00Z',
      '2026-02-29T00:00:00Z',
      '2026-12-03T24:00:00Z',
      '2026-12-03T11:00:00+0530',
      'yesterday',
      '２０２６-12-03T11:00:00Z',
      1767225600000,
    ]) {
      const v = checkFilter({ '@timestamp': { $gte: bad } });
      expect(v, String(bad)).toEqual([{ path: '/filter/@timestamp/$gte', message: expect.stringMatching(/RFC 3339 date-time.*2026-12-03T11:00:00Z/) }]);
    }
    expect(checkFilter({ '@timestamp': { $in: ['2026-12-03T11:00:00Z', 'x'] } })[0]!.path).toBe('/filter/@timestamp/$in/1');
    // The API's one range (parseDateTime): 1970 to 9999, checked on the instant.
    expect(checkFilter({ '@timestamp': { $gte: '1969-12-31T23:59:59Z' } })[0]!.message).toMatch(/1970 to 9999/);
    expect(checkFilter({ '@timestamp': { $gte: '1970-01-01T00:30:00+01:00' } })[0]!.message).toMatch(/1970 to 9999/);
  });

  it('accepts the forms RFC 3339 allows: lower-case t and z, any offset, fractions, a leap second', () => {
    for (const good of [
      '2026-12-03t00:00:00z',
      '2026-12-03T23:00:00+23:00',
      '2026-12-03T10:00:00-05:00',
      '2026-12-03T11:00:00.123456-00:00',
      '2016-12-31T23:59:60Z',
      '2024-02-29T00:00:00.5Z',
      '2026-12-03T11:00:00.123456000Z',
    ]) {
      expect(checkFilter({ '@timestamp': { $gte: good } }), good).toEqual([]);
    }
  });

  it('normalizes to exactly the form events are stored in (fixed seed)', () => {
    const instant = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true });
    fc.assert(
      fc.property(instant, fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }), (d, offsetMin) => {
        const stored = formatTimestamp(d);
        expect(fields.normalizeFilterTime(d.toISOString())).toBe(stored);
        // The same instant written in another offset.
        const local = new Date(d.getTime() + offsetMin * 60_000).toISOString().slice(0, 23);
        const sign = offsetMin < 0 ? '-' : '+';
        const abs = Math.abs(offsetMin);
        const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        if (/^\d{4}-/.test(local) && !local.startsWith('1969')) expect(fields.normalizeFilterTime(`${local}${off}`)).toBe(stored);
      }),
      { seed: 31, numRuns: 500 },
    );
    expect(fields.normalizeFilterTime('2026-12-03T11:00:00.000500Z')).toBe('2026-12-03T11:00:00.000500+00:00');
    expect(fields.normalizeFilterTime('2016-12-31T23:59:60Z')).toBe(formatTimestamp(new Date('2016-12-31T23:59:59.999Z')));
    // Past microseconds, digits are dropped: no recorded time holds them.
    expect(fields.normalizeFilterTime('2026-12-03T11:00:00.0000019Z')).toBe('2026-12-03T11:00:00.000001+00:00');
    // A date alone is 00:00 UTC and a time without an offset UTC, as they compared as text before.
    expect(fields.normalizeFilterTime('2026-12-03')).toBe('2026-12-03T00:00:00.000000+00:00');
    expect(fields.normalizeFilterTime('2026-12-03T11:00:00')).toBe('2026-12-03T11:00:00.000000+00:00');
    expect(fields.normalizeFilterTime('2026-12')).toBeNull();
  });

  it('a compiled filter compares @timestamp as time, whatever form the bound was written in', () => {
    const at11 = eventAt('2026-12-03T11:00:00Z');
    const matches = (bound: Record<string, unknown>) => compileFilter({ '@timestamp': bound })(at11);
    expect(matches({ $gte: '2026-12-03t00:00:00z' })).toBe(true);
    expect(matches({ $gte: '2026-12-03T23:00:00+23:00' })).toBe(true);
    expect(matches({ $gte: '2026-12-03T10:00:00-05:00' })).toBe(false);
    expect(matches({ $lt: '2026-12-03T10:00:00-05:00' })).toBe(true);
    expect(matches({ $gt: '2026-12-03T11:00:00.000000Z' })).toBe(false);
    expect(matches({ $gt: '2026-12-03T10:59:59.999999Z', $lte: '2026-12-03T06:00:00-05:00' })).toBe(true);
    expect(matches({ $eq: '2026-12-03T12:00:00+01:00' })).toBe(true);
    expect(matches({ $in: ['2026-12-03T06:00:00-05:00'] })).toBe(true);
    expect(matches({ $not: { $lt: '2026-12-03T12:00:00+01:00' } })).toBe(true);
    expect(compileFilter({ $or: [{ 'aegis.decision': 'ALLOWED' }, { '@timestamp': '2026-12-03T11:00:00z' }] })(at11)).toBe(true);
  });
});

describe('filters on create, PATCH and preview (the service, end to end)', () => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;
  let orgId: string;
  let apiKey: string;
  const base = () => `/api/orgs/${orgId}/forwarding-destinations`;

  beforeAll(async () => {
    tdb = await openTestDb('pglite');
    svc = await startTestService(tdb.db);
    receiver = await startReceiver();
    receiver.setHandler(ok());
    ({ orgId, apiKey } = await svc.newOrg());
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  const create = (body: Record<string, unknown>) => svc.request('POST', base(), { apiKey, body: { url: `${receiver.url}/hook`, enabled: false, ...body } });
  const preview = (filter: unknown) => svc.request('POST', `${base()}/filter-preview`, { apiKey, body: { filter } });
  const record = (occurredAt: string, id: string) => ({
    preflight_id: id,
    decision: 'BLOCKED',
    destination: 'AI_TOOL',
    summary: 'Detected SSN.',
    policy_version: 'v1.0',
    policy_id: 'pol_default',
    source_type: 'sdk',
    input_type: 'text',
    input_size_bytes: 100,
    finding_counts_by_type: { SSN: 1 },
    occurred_at: occurredAt,
  });

  const neverMatching: [Record<string, unknown>, string, RegExp][] = [
    [{ 'aegis.decision': 'blocked' }, '/filter/aegis.decision', /ALLOWED, ALLOWED_WITH_MASKING, BLOCKED/],
    [{ 'aegis.decision': { $in: ['Blocked', 'BLOCKED '] } }, '/filter/aegis.decision/$in/0', /ALLOWED, ALLOWED_WITH_MASKING, BLOCKED/],
    [{ 'aegis.decision': 'ＢＬＯＣＫＥＤ' }, '/filter/aegis.decision', /did you mean BLOCKED/],
    [{ 'event.type': 'BLOCKED' }, '/filter/event.type', /allowed, allowed_with_masking, blocked/],
    [{ 'aegis.finding_counts_by_type.SSN': { $gte: '1' } }, '/filter/aegis.finding_counts_by_type.SSN/$gte', /number/],
    [{ '@timestamp': { $gte: '2026-12-03 11:00' } }, '/filter/@timestamp/$gte', /RFC 3339/],
    // A day as an equality matched only its 00:00 UTC: refused, pointing to a range.
    [{ '@timestamp': '2026-12-01' }, '/filter/@timestamp', /date alone.*\$gte and \$lt/],
    [{ '@timestamp': { $in: ['2026-12-01', '2026-12-02'] } }, '/filter/@timestamp/$in/0', /date alone/],
    [{ '@timestamp': { $ne: '2026-12-01' } }, '/filter/@timestamp/$ne', /date alone/],
  ];

  it.each(neverMatching)('%j is refused with 400 naming the path, on create, PATCH and preview', async (filter, path, message) => {
    const { body: d } = await create({});
    const patched = await svc.request('PATCH', `${base()}/${d.destination_id}`, { apiKey, body: { filter } });
    for (const res of [await create({ filter }), patched, await preview(filter)]) {
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details).toContainEqual({ path, message: expect.stringMatching(message) });
    }
    expect((await svc.request('GET', `${base()}/${d.destination_id}`, { apiKey })).body.filter).toBeNull();
  });

  it('a filter stored before values were checked is kept when the dashboard sends it back unchanged', async () => {
    // What the dashboard does on every save (a rename, a rotated credential): the whole form, the
    // filter included. A changed filter is checked whole.
    const legacy = { 'aegis.decision': { $in: ['BLOCKED', 'blocked'] } };
    const { body: d } = await create({});
    await tdb.db.query('UPDATE destinations SET filter = $1 WHERE id = $2', [JSON.stringify(legacy), d.destination_id]);
    const path = `${base()}/${d.destination_id}`;
    const renamed = await svc.request('PATCH', path, { apiKey, body: { name: 'renamed', filter: legacy } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'renamed', filter: legacy });
    const changed = await svc.request('PATCH', path, { apiKey, body: { filter: { 'aegis.decision': { $in: ['blocked'] } } } });
    expect(changed.status).toBe(400);
    expect((await svc.request('GET', path, { apiKey })).body.filter).toEqual(legacy);
  });

  it('a date alone and a time without an offset bound as UTC, as they did when compared as text', async () => {
    await svc.request('POST', `/api/orgs/${orgId}/audit-events`, {
      apiKey,
      body: { events: [record('2026-11-20T11:00:00Z', 'pflt_valuesDateOnly000000001')] },
    });
    const count = async (bound: Record<string, unknown>) =>
      (
        (await preview({ 'event.dataset': 'aegis.preflight', 'aegis.preflight_id': 'pflt_valuesDateOnly000000001', '@timestamp': bound })).body as {
          matched: number;
        }
      ).matched;
    expect(await count({ $gte: '2026-11-20', $lt: '2026-11-21' })).toBe(1);
    expect(await count({ $gte: '2026-11-21' })).toBe(0);
    expect(await count({ $lt: '2026-11-20T11:00:00' })).toBe(0);
    expect(await count({ $lte: '2026-11-20T11:00:00' })).toBe(1);
  });

  it('@timestamp bounds compare as time in the preview and in routing; the filter is returned as written', async () => {
    const post = await svc.request('POST', `/api/orgs/${orgId}/audit-events`, {
      apiKey,
      body: { events: [record('2026-12-01T11:00:00Z', 'pflt_valuesAt1100z0000000001')] },
    });
    expect(post.status).toBe(200);
    // Only the decision just recorded: the configuration trail's events carry other datasets.
    const count = async (bound: Record<string, unknown>) =>
      (await preview({ 'event.dataset': 'aegis.preflight', '@timestamp': bound })).body as { matched: number };
    expect(await count({ $gte: '2026-12-01t00:00:00z' })).toMatchObject({ matched: 1 });
    expect(await count({ $gte: '2026-12-01T23:00:00+23:00' })).toMatchObject({ matched: 1 });
    expect(await count({ $gte: '2026-12-01T10:00:00-05:00' })).toMatchObject({ matched: 0 });
    expect(await count({ $lt: '2026-12-01T10:00:00-05:00', $gte: '2026-12-01T06:00:00-05:00' })).toMatchObject({ matched: 1 });

    // Stored and read back as given; routed by the instant.
    const filter = { 'event.dataset': 'aegis.preflight', '@timestamp': { $gte: '2026-12-01T23:00:00+23:00', $lt: '2026-12-01t10:00:00-05:00' } };
    const created = await create({ enabled: true, filter, url: `${receiver.url}/timed` });
    expect(created.status).toBe(201);
    expect(created.body.filter).toEqual(filter);
    expect((await svc.request('GET', `${base()}/${created.body.destination_id}`, { apiKey })).body.filter).toEqual(filter);
    await svc.request('POST', `/api/orgs/${orgId}/audit-events`, {
      apiKey,
      body: { events: [record('2026-12-01T11:00:00Z', 'pflt_valuesRouted110000000001'), record('2026-12-01T16:00:00Z', 'pflt_valuesRouted160000000001')] },
    });
    const got = () =>
      receiver.requests.filter((r) => r.path === '/timed').map((r) => (JSON.parse(r.body.toString('utf8')) as { event: { id: string } }).event.id);
    await expect.poll(() => got().includes('pflt_valuesRouted110000000001'), { timeout: 60_000 }).toBe(true);
    const jobs = await tdb.db.query<{ event_id: string }>(`SELECT event_id FROM forwarding_jobs WHERE destination_id = $1 AND left(event_id, 4) <> 'cfg_'`, [
      created.body.destination_id,
    ]);
    expect(jobs.rows.map((r) => r.event_id)).not.toContain('pflt_valuesRouted160000000001');
    expect(got()).not.toContain('pflt_valuesRouted160000000001');
    await svc.request('PATCH', `${base()}/${created.body.destination_id}`, { apiKey, body: { enabled: false } });
  });
});
