import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { validateBody, validateWireEvent } from '../../../src/events/validate.js';
import { agentRecord, countRows, PAGE_EXAMPLE } from './support.js';

describe.each(DB_KINDS)("POST /audit-events: agents' decision records (%s)", (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;
  let org: { orgId: string; apiKey: string };

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,1,1' });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });
  beforeEach(async () => {
    org = await svc.newOrg();
  });
  /**
   * Holds every request the receiver gets until `release()`: no job is settled meanwhile, so none is
   * deleted (a settle deletes a delivered job), and the jobs a test counts are all that were queued.
   */
  let release: () => void = () => undefined;
  const holdDeliveries = () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    receiver.setHandler(() => gate.then(() => ({ status: 200, body: 'ok' })));
    release = () => {
      receiver.setHandler(ok());
      open();
    };
  };
  afterEach(() => release());

  const post = (events: unknown, o = org) => svc.request('POST', `/api/orgs/${o.orgId}/audit-events`, { apiKey: o.apiKey, body: { events } });
  let destinationSeq = 0;
  /** A destination posting to `/ingest/<org>/<n>` on the shared receiver. */
  const addDestination = async (o: { orgId: string; apiKey: string }, enabled = true): Promise<string> => {
    const res = await svc.request('POST', `/api/orgs/${o.orgId}/forwarding-destinations`, {
      apiKey: o.apiKey,
      body: { url: `${receiver.url}/ingest/${o.orgId}/${destinationSeq++}`, auth_header_name: 'Authorization', auth_header_value: 'Bearer t0k' },
    });
    expect(res.status, res.text).toBe(201);
    if (!enabled) {
      const off = await svc.request('PATCH', `/api/orgs/${o.orgId}/forwarding-destinations/${res.body.destination_id}`, {
        apiKey: o.apiKey,
        body: { enabled: false },
      });
      expect(off.status, off.text).toBe(200);
    }
    return res.body.destination_id as string;
  };
  const counts = async (o = org) => ({ events: await countRows(tdb.db, 'audit_events', o.orgId), jobs: await countRows(tdb.db, 'forwarding_jobs', o.orgId) });

  it('answers {accepted, preflight_ids, already_recorded} and records each record as the wire event (agent ids kept, occurred_at honoured)', async () => {
    const res = await post([
      agentRecord({ preflight_id: 'pflt_agent_0001', occurred_at: '2026-05-15T10:33:21.456Z', actor_id: 'dana@example.com' }),
      agentRecord({
        decision: 'BLOCKED',
        summary: 'Detected AWS_ACCESS_KEY; blocked.',
        finding_counts_by_type: { AWS_ACCESS_KEY: 1 },
        source_type: 'browser_extension',
      }),
    ]);
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['accepted', 'already_recorded', 'preflight_ids']);
    expect(validateBody('AuditEventsResponse', res.body)).toEqual([]);
    expect(res.body.accepted).toBe(2);
    expect(res.body.preflight_ids[0]).toBe('pflt_agent_0001');
    expect(res.body.preflight_ids[1]).toMatch(/^pflt_[a-z]{28}$/);

    const { rows } = await tdb.db.query<{ id: string; p: string }>(`SELECT id, payload::text AS p FROM audit_events WHERE org_id = $1`, [org.orgId]);
    const byId = new Map(rows.map((r) => [r.id, JSON.parse(r.p)]));
    const first = byId.get('pflt_agent_0001');
    expect(validateWireEvent(first)).toEqual([]);
    expect(first['@timestamp']).toBe('2026-05-15T10:33:21.456000+00:00');
    expect(first.event).toMatchObject({ id: 'pflt_agent_0001', type: ['allowed_with_masking'], outcome: 'success' });
    expect(first.aegis).toEqual({ preflight_id: 'pflt_agent_0001', ...agentRecord(), actor_id: 'dana@example.com' });
    expect(Object.keys(first.aegis)).toEqual([
      'preflight_id',
      'decision',
      'destination',
      'summary',
      'policy_version',
      'policy_id',
      'source_type',
      'input_type',
      'input_size_bytes',
      'finding_counts_by_type',
      'actor_id',
    ]);
    const second = byId.get(res.body.preflight_ids[1]);
    expect(validateWireEvent(second)).toEqual([]);
    expect(second.event).toMatchObject({ type: ['blocked'], outcome: 'failure' });
    expect(second.organization).toEqual({ id: org.orgId });
  });

  it('occurred_at: an RFC 3339 leap second is kept as the last millisecond of its minute; an offset is normalised to UTC', async () => {
    const res = await post([
      agentRecord({ preflight_id: 'pflt_leap_second_1', occurred_at: '2016-12-31T23:59:60Z' }),
      agentRecord({ preflight_id: 'pflt_offset_time_1', occurred_at: '2026-05-15T12:33:21.456789+02:00' }),
    ]);
    expect(res.status, res.text).toBe(200);
    const { rows } = await tdb.db.query<{ id: string; p: string }>(`SELECT id, payload::text AS p FROM audit_events WHERE org_id = $1 ORDER BY id`, [
      org.orgId,
    ]);
    expect(rows.map((r): [string, string] => [r.id, (JSON.parse(r.p) as Record<string, string>)['@timestamp']!])).toEqual([
      ['pflt_leap_second_1', '2016-12-31T23:59:59.999000+00:00'],
      ['pflt_offset_time_1', '2026-05-15T10:33:21.456000+00:00'],
    ]);
  });

  it('1,000 records in one request (at their field maxima) are accepted; 1,001 are refused and nothing is recorded', async () => {
    await addDestination(org);
    holdDeliveries();
    // Largest legal records: 500-character summary, 256-character actor_id, 64 finding types.
    const types = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`T${String(i).padStart(2, '0')}_${'X'.repeat(60)}`, 1000000]));
    const big = (i: number) => agentRecord({ summary: 'é'.repeat(500), actor_id: 'ü'.repeat(256), finding_counts_by_type: types, input_size_bytes: i });
    const ok = await post(Array.from({ length: 1000 }, (_, i) => big(i)));
    expect(ok.status, ok.text.slice(0, 300)).toBe(200);
    expect(ok.body.accepted).toBe(1000);
    expect(new Set(ok.body.preflight_ids).size).toBe(1000);
    expect(await counts()).toEqual({ events: 1000, jobs: 1000 });

    const o2 = await svc.newOrg();
    await addDestination(o2);
    const tooMany = await post(
      Array.from({ length: 1001 }, () => agentRecord()),
      o2,
    );
    expect([400, 413]).toContain(tooMany.status);
    expect(tooMany.body.error.message).toMatch(/1000|1,000/);
    expect(await counts(o2)).toEqual({ events: 0, jobs: 0 });
    const empty = await post([], o2);
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain('events');
  });

  it('all or nothing: one bad record refuses the batch with a 400 naming the record and field, nothing recorded or queued', async () => {
    await addDestination(org);
    holdDeliveries();
    const batch = Array.from({ length: 10 }, (_, i) => agentRecord({ preflight_id: `pflt_batch_${i}_abcdef` }));
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...batch[7], decision: 'MAYBE' }, 'events[7].decision'],
      [{ ...batch[7], input_size_bytes: -1 }, 'events[7].input_size_bytes'],
      [{ ...batch[7], occurred_at: 'yesterday' }, 'events[7].occurred_at'],
      [agentRecord({ summary: undefined }), 'events[7].summary'],
    ];
    for (const [bad, field] of cases) {
      const res = await post(batch.map((r, i) => (i === 7 ? bad : r)));
      expect(res.status, field).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message, field).toContain(field);
      expect(await counts()).toEqual({ events: 0, jobs: 0 });
    }
    const notObject = await post([agentRecord(), 'just a string']);
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.message).toContain('events[1]');
    const dup = await post([agentRecord({ preflight_id: 'pflt_same_123456' }), agentRecord({ preflight_id: 'pflt_same_123456' })]);
    expect(dup.status).toBe(400);
    expect(dup.body.error.message).toContain('events[1].preflight_id');
    expect(await counts()).toEqual({ events: 0, jobs: 0 });
    // The same batch without the bad record goes through whole.
    const good = await post(batch);
    expect(good.status, good.text).toBe(200);
    expect(await counts()).toEqual({ events: 10, jobs: 10 });
  });

  // A contract review: an agent sending the product page's example event's aegis fields verbatim
  // ("pflt_abc123") was refused for a minimum length of 8 that no message named.
  it("the product page example's aegis fields are accepted as a record; an id out of shape is told the rule", async () => {
    const aegis = PAGE_EXAMPLE.aegis as Record<string, unknown>;
    expect(aegis.preflight_id).toBe('pflt_abc123');
    const res = await post([aegis]);
    expect(res.status, res.text).toBe(200);
    expect(res.body.preflight_ids).toEqual(['pflt_abc123']);
    for (const id of ['pflt_', `pflt_${'a'.repeat(65)}`, 'pflt_a.b', 'PFLT_abc123']) {
      const bad = await post([agentRecord({ preflight_id: id })]);
      expect(bad.status, id).toBe(400);
      expect(bad.body.error.details, id).toEqual([
        { path: '/events/0/preflight_id', message: 'must be "pflt_" followed by 1 to 64 letters, digits, "_" or "-"' },
      ]);
    }
  });

  it('idempotent on the agent-supplied preflight_id: a retried batch records and queues nothing new and returns the same ids', async () => {
    await addDestination(org);
    holdDeliveries();
    const batch = [agentRecord({ preflight_id: 'pflt_retry_aaaaaaaa' }), agentRecord({ preflight_id: 'pflt_retry_bbbbbbbb' })];
    const first = await post(batch);
    expect(first.status, first.text).toBe(200);
    const after = await counts();
    expect(after).toEqual({ events: 2, jobs: 2 });
    expect(first.body).toEqual({ accepted: 2, preflight_ids: ['pflt_retry_aaaaaaaa', 'pflt_retry_bbbbbbbb'], already_recorded: 0 });
    const again = await post(batch);
    expect(again.status, again.text).toBe(200);
    // The same ids; and the agent learns they were recorded before (an API client's review: a reused
    // id was dropped with the answer a fresh batch gets).
    expect(again.body).toEqual({ ...first.body, already_recorded: 2 });
    expect(await counts()).toEqual(after);
    // A batch mixing a retried record and a new one records only the new one.
    const mixed = await post([batch[1], agentRecord({ preflight_id: 'pflt_retry_cccccccc' })]);
    expect(mixed.status).toBe(200);
    expect(mixed.body).toEqual({ accepted: 2, preflight_ids: ['pflt_retry_bbbbbbbb', 'pflt_retry_cccccccc'], already_recorded: 1 });
    expect(await counts()).toEqual({ events: 3, jobs: 3 });
    // An id reused for another decision is not recorded, and said so.
    const reused = await post([agentRecord({ preflight_id: 'pflt_retry_aaaaaaaa', input_size_bytes: 999 })]);
    expect(reused.body).toEqual({ accepted: 1, preflight_ids: ['pflt_retry_aaaaaaaa'], already_recorded: 1 });
    expect(await counts()).toEqual({ events: 3, jobs: 3 });
    // Another organization may use the same id: it is a different event.
    const o2 = await svc.newOrg();
    const other = await post(batch, o2);
    expect(other.status).toBe(200);
    expect(await counts(o2)).toEqual({ events: 2, jobs: 0 });
  });

  it("queues one job per ENABLED destination of the event's own organization, in the same transaction", async () => {
    const on1 = await addDestination(org);
    const on2 = await addDestination(org);
    const off = await addDestination(org, false);
    const other = await svc.newOrg();
    const otherDest = await addDestination(other);
    holdDeliveries();
    const res = await post([agentRecord(), agentRecord(), agentRecord()]);
    expect(res.status, res.text).toBe(200);
    const { rows } = await tdb.db.query<{ destination_id: string; event_id: string; org_id: string }>(
      `SELECT destination_id, event_id, org_id FROM forwarding_jobs WHERE event_id = ANY($1::text[])`,
      [res.body.preflight_ids],
    );
    expect(rows.length).toBe(6);
    expect(rows.every((r) => r.org_id === org.orgId)).toBe(true);
    const dests = rows.map((r) => r.destination_id);
    expect(dests.filter((d) => d === on1).length).toBe(3);
    expect(dests.filter((d) => d === on2).length).toBe(3);
    expect(dests).not.toContain(off);
    expect(dests).not.toContain(otherDest);
    expect(await countRows(tdb.db, 'forwarding_jobs', other.orgId)).toBe(0);
    // And they are delivered: each enabled destination receives each event; the disabled one nothing.
    release();
    await receiver.waitFor((reqs) => {
      const mine = reqs.filter((q) => q.path.startsWith(`/ingest/${org.orgId}/`)).map((q) => q.body.toString());
      const ids = res.body.preflight_ids as string[];
      return ids.every((id) => mine.filter((b) => b.includes(id)).length >= 2);
    }, 60_000);
    const paths = new Set(receiver.requests.map((q) => q.path));
    const orgPaths = [...paths].filter((p) => p.startsWith(`/ingest/${org.orgId}/`));
    expect(orgPaths.length).toBe(2); // the two enabled destinations, never the disabled one
    expect([...paths].some((p) => p.startsWith(`/ingest/${other.orgId}/`))).toBe(false);
  });

  it('the privacy promise: fields outside the contract and detected values in free text are refused, naming the field, never echoing the value', async () => {
    await addDestination(org);
    const cases: Array<[Record<string, unknown>, string, string | null]> = [
      [agentRecord({ raw_prompt: 'anything' }), 'events[0].raw_prompt', null],
      [agentRecord({ aegis: { x: 1 } }), 'events[0].aegis', null],
      [agentRecord({ summary: 'Detected SSN 123-45-6789; masked.' }), 'events[0].summary', '123-45-6789'],
      [agentRecord({ summary: 'Sent to victim@corp-mail.example; masked.' }), 'events[0].summary', 'victim@corp-mail.example'],
      [agentRecord({ summary: 'Detected SSN 123456789; masked.' }), 'events[0].summary', '123456789'],
      [agentRecord({ summary: 'key AKIAIOSFODNN7EXAMPLE blocked.' }), 'events[0].summary', 'AKIAIOSFODNN7EXAMPLE'],
      [agentRecord({ actor_id: 'alice@example.com, bob@example.com' }), 'events[0].actor_id', 'bob@example.com'],
      [agentRecord({ actor_id: 'alice@example.com 123-45-6789' }), 'events[0].actor_id', '123-45-6789'],
      [agentRecord({ actor_id: 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789' }), 'events[0].actor_id', 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'],
      [agentRecord({ actor_id: '4111 1111 1111 1111' }), 'events[0].actor_id', '4111 1111 1111 1111'],
      [agentRecord({ policy_id: 'pol_ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789' }), 'events[0].policy_id', 'aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'],
      [agentRecord({ policy_version: '123-45-6789' }), 'events[0].policy_version', '123-45-6789'],
      [agentRecord({ preflight_id: 'pflt_sk_live_4eC39HqLyjWDarjtT1zdp7dc' }), 'events[0].preflight_id', '4eC39HqLyjWDarjtT1zdp7dc'],
      [agentRecord({ actor_id: 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789@example.com' }), 'events[0].actor_id', 'aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'],
      [agentRecord({ summary: 'x'.repeat(501) }), 'events[0].summary', null],
      [agentRecord({ actor_id: 'a'.repeat(257) }), 'events[0].actor_id', null],
      [agentRecord({ finding_counts_by_type: { 'alice@example.com': 1 } }), 'events[0].finding_counts_by_type', 'alice@example.com'],
      [agentRecord({ finding_counts_by_type: { SSN_287654321: 1 } }), 'events[0].finding_counts_by_type', '287654321'],
      [agentRecord({ AKIAIOSFODNN7EXAMPLE: 'x' }), 'events[0]', 'AKIAIOSFODNN7EXAMPLE'],
    ];
    for (const [bad, field, planted] of cases) {
      const res = await post([agentRecord(), bad]);
      const f = field.replace('events[0]', 'events[1]');
      expect(res.status, f).toBe(400);
      expect(res.body.error.code, f).toBe('validation_failed');
      expect(res.body.error.message, f).toContain(f);
      if (planted) expect(res.text, f).not.toContain(planted);
      expect(await counts(), f).toEqual({ events: 0, jobs: 0 });
    }
    // The acting user's own single email is allowed as actor_id.
    const ok = await post([agentRecord({ actor_id: 'alice@example.com' })]);
    expect(ok.status, ok.text).toBe(200);
    const logs = svc.logs.text();
    for (const [, , planted] of cases) if (planted) expect(logs).not.toContain(planted);
  });

  it('the body itself: unknown top-level fields and a non-array are refused naming the field', async () => {
    const extra = await svc.request('POST', `/api/orgs/${org.orgId}/audit-events`, { apiKey: org.apiKey, body: { events: [agentRecord()], mode: 'fast' } });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toContain('mode');
    const notArray = await svc.request('POST', `/api/orgs/${org.orgId}/audit-events`, { apiKey: org.apiKey, body: { events: agentRecord() } });
    expect(notArray.status).toBe(400);
    expect(notArray.body.error.message).toContain('events');
    expect(await counts()).toEqual({ events: 0, jobs: 0 });
  });
});
