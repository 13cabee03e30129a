import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { gzipSync } from 'node:zlib';
import { startReceiver, trailEventCount, type Receiver, type ReceiverResponse } from '../../support/httpsReceiver.js';
import { fakeSplunkHec, type FakeSplunkHec } from '../../support/fakeSplunkHec.js';
import { deliveryLog, eventIdsOf, jobRows, receivedCounts, seedEvents, statusCounts } from './support.js';
import { generateKeyBase64 } from '../../../src/crypto/keyring.js';

const TOKEN = 'Splunk 5f8d1c2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f';

/**
 * Splunk HEC indexer acknowledgement end to end: the real service, a real HTTPS receiver playing
 * Splunk (channel, ackIds, POST /services/collector/ack), a short poll interval. Two services on two
 * databases: one whose ack timeout never runs out during a test (holding acks is then free of timing),
 * one with a timeout longer than its lease, so waiting for it shows the lease is renewed. The patient
 * one lets an outbound phase take 120 s, four leases, so an ack poll that hangs outlives the lease it
 * must keep.
 *
 * Leases are renewed every third of a lease, and a renewal the loaded machine stalls for the other two
 * thirds lets the lease run out: another claim then sends a copy the exact counts below do not expect.
 * So the leases are long (30 s, 10 s: 20 s and over 6 s of stall), except where a test wants one to run out,
 * and no test waits for the end of a long one.
 */
function serviceFor(kind: TestDb['kind'], leaseS: string, ackTimeoutS: string, env: Record<string, string> = {}) {
  const ctx = { tdb: null as unknown as TestDb, svc: null as unknown as TestService, receivers: [] as Receiver[] };
  beforeAll(async () => {
    ctx.tdb = await openTestDb(kind);
    ctx.svc = await startTestService(ctx.tdb.db, {
      AEGIS_RETRY_DELAYS_S: '1,1,1',
      AEGIS_LEASE_S: leaseS,
      AEGIS_SPLUNK_ACK_TIMEOUT_S: ackTimeoutS,
      AEGIS_SPLUNK_ACK_POLL_MS: '200',
      ...env,
    });
  });
  afterAll(async () => {
    await ctx.svc?.stop();
    for (const r of ctx.receivers) await r.close();
    await ctx.tdb?.close();
  });
  return ctx;
}

describe.each(DB_KINDS)('Splunk HEC indexer acknowledgement (%s)', (kind) => {
  const patient = serviceFor(kind, '30', '600', { AEGIS_HTTP_TIMEOUT_MS: '120000' });
  const hasty = serviceFor(kind, '10', '12');

  async function splunk(
    ctx: typeof patient,
    fake: FakeSplunkHec,
    org: { orgId: string; apiKey: string },
    options: Record<string, unknown> = { indexer_ack: true },
  ) {
    const { svc, receivers } = ctx;
    const r = await startReceiver(fake.handler);
    receivers.push(r);
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { siem: 'splunk_hec', url: `${r.url}/services/collector/event`, auth_header_value: TOKEN, options },
    });
    expect(res.status, res.text).toBe(201);
    return { r, id: res.body.destination_id as string, view: res.body as Record<string, unknown> };
  }

  it('keeps jobs claimed until Splunk acknowledges, polls one channel per destination for many ackIds at once', async () => {
    const { svc, tdb } = patient;
    const org = await svc.newOrg();
    const a = fakeSplunkHec(eventIdsOf);
    const b = fakeSplunkHec(eventIdsOf);
    let release = false;
    a.indexed = () => release;
    const A = await splunk(patient, a, org);
    const B = await splunk(patient, b, org);
    expect(A.view.options).toEqual({ indexer_ack: true });
    const got = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${A.id}`, { apiKey: org.apiKey });
    expect(got.body.options).toEqual({ indexer_ack: true });

    // Three separate requests while A's acks are held: three ackIds pending on A's channel.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(...(await seedEvents(tdb.db, org.orgId, 2)));
      await expect.poll(() => new Set(a.accepted.flatMap((q) => q.eventIds)).size, { timeout: 30_000 }).toBe(ids.length);
    }
    // A poll that asks about all three at once, answered false.
    await expect.poll(() => a.polls.some((p) => p.ids.length >= 3), { timeout: 30_000 }).toBe(true);
    // B acknowledges at once: delivered (its jobs, queued with the events, are gone; Splunk accepted
    // every event, and no failure is logged). A: not delivered, still claimed, no attempt counted yet.
    await expect.poll(async () => statusCounts(tdb.db, B.id), { timeout: 30_000 }).toEqual({});
    expect(new Set(b.accepted.flatMap((q) => q.eventIds))).toEqual(new Set(ids));
    expect((await deliveryLog(tdb.db, B.id)).failed).toBe(0);
    const held = await jobRows(tdb.db, A.id);
    expect(held).toHaveLength(6);
    for (const j of held) expect(j).toMatchObject({ status: 'pending', attempts: 0 });
    for (const j of held) expect(j.claim_id).not.toBeNull();
    expect(a.accepted.flatMap((q) => q.eventIds).sort()).toEqual([...ids].sort());

    release = true;
    // Delivered at the first attempt: the jobs are gone, each event was sent once, no failure logged.
    await expect.poll(async () => statusCounts(tdb.db, A.id), { timeout: 30_000 }).toEqual({});
    expect(a.accepted.flatMap((q) => q.eventIds).sort()).toEqual([...ids].sort());
    expect((await deliveryLog(tdb.db, A.id)).failed).toBe(0);
    // Every request carried the destination's channel: one per destination, never changing.
    const channels = (f: FakeSplunkHec) => new Set([...f.accepted.map((q) => q.channel), ...f.polls.map((p) => p.channel)]);
    expect(channels(a).size).toBe(1);
    expect(channels(b).size).toBe(1);
    expect([...channels(a)][0]).not.toBe([...channels(b)][0]);
    expect([...channels(a)][0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    for (const q of A.r.requests) expect(q.headers.authorization).toBe(TOKEN);
    // The delivery log records each request once, delivered, after its ack: the fake's requests and
    // those the receiver absorbed (only trail events: destination_created of A and B); it counts
    // the 6 seeded events and every trail event A got, alone or beside them.
    const log = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${A.id}/attempts`, { apiKey: org.apiKey });
    expect(log.status).toBe(200);
    const rows = log.body.attempts as Array<{ event_count: number; delivered_count: number; status_code: number }>;
    expect(rows).toHaveLength(a.accepted.length + A.r.trailRequests.length);
    const trailEvents = trailEventCount([...A.r.requests, ...A.r.trailRequests]);
    expect(trailEvents).toBeGreaterThanOrEqual(2);
    expect(rows.reduce((n, r) => n + r.delivered_count, 0)).toBe(6 + trailEvents);
    const dest = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${A.id}`, { apiKey: org.apiKey });
    expect(dest.body.status).toBe('active');
  });

  it('an ack endpoint that never answers: leases are renewed meanwhile, so no event is sent twice', async () => {
    const { svc, tdb } = patient;
    const org = await svc.newOrg();
    const f = fakeSplunkHec(eventIdsOf);
    // Events are accepted at once; every ack poll hangs (no answer at all) until released.
    let hangAcks = true;
    let hungPolls = 0;
    const { r, id } = await splunk(patient, f, org);
    r.setHandler((req) => {
      if (hangAcks && req.path.includes('/services/collector/ack')) {
        hungPolls++;
        return { action: 'hang' };
      }
      return f.handler(req);
    });
    const ids = await seedEvents(tdb.db, org.orgId, 3);
    try {
      // Every seeded event sent and waiting for its ack, and a poll hanging.
      const leases = async () => (await jobRows(tdb.db, id)).map((j) => ({ claim: j.claim_id, end: j.claim_id ? j.next_attempt_at.getTime() : 0 }));
      await expect.poll(async () => hungPolls > 0 && (await leases()).every((l) => l.claim !== null), { timeout: 150_000, interval: 200 }).toBe(true);
      // The lease is renewed while that first poll still hangs (it would for 120 s, four leases): the
      // same claims, with later ends, read while the receiver still holds the one poll it was sent.
      // Renewed only once the poll ended, the lease would run out first. Waiting for a renewal (a third
      // of a lease), not for the 30 s lease's end, keeps the test short.
      const first = await leases();
      const firstEnd = Math.max(...first.map((l) => l.end));
      await expect
        .poll(
          async () => {
            const now = await leases();
            const renewed = now.every((l, i) => l.claim === first[i]!.claim && l.end > firstEnd);
            return renewed && hungPolls === 1 && r.held === 1;
          },
          { timeout: 100_000, interval: 250 },
        )
        .toBe(true);
    } finally {
      // The hung polls are cut (a reset, as a dropped connection would end them) and the next one is answered.
      hangAcks = false;
      r.releaseHeld();
    }
    // Delivered at the first attempt: the jobs are gone, no failed attempt logged, each event sent once.
    await expect.poll(async () => statusCounts(tdb.db, id), { timeout: 60_000 }).toEqual({});
    expect((await deliveryLog(tdb.db, id)).failed).toBe(0);
    for (const e of ids)
      expect(
        f.accepted.filter((q) => q.eventIds.includes(e)),
        e,
      ).toHaveLength(1);
  }, 240_000);

  it('sends a request again when its ack does not come within the timeout', async () => {
    const { svc, tdb } = hasty;
    const org = await svc.newOrg();
    // Every event a request carries, the configuration trail's ("cfg_", the destination's creation) too:
    // it may share the first request with the seeded events.
    const f = fakeSplunkHec((req) => [...req.body.toString('utf8').matchAll(/"event":\{"id":"((?:pflt|cfg)_[A-Za-z0-9_-]+)"/g)].map((m) => m[1]!));
    // The ack of the first request that carries a seeded event is lost (never true); every other one
    // is acknowledged (a request of the trail's event alone, sent before the seeding, too).
    let lostAck: number | null = null;
    f.indexed = (q) => {
      if (lostAck === null && q.eventIds.some((e) => !e.startsWith('cfg_'))) lostAck = q.ackId;
      return q.ackId !== lostAck;
    };
    const { id } = await splunk(hasty, f, org);
    const ids = await seedEvents(tdb.db, org.orgId, 3);
    await expect.poll(() => f.accepted.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
    // Delivered at the second attempt: the jobs are gone, and the log holds one failure per event the
    // lost request carried (the seeded three, and the trail's event when it went with them) besides
    // the deliveries.
    await expect.poll(async () => statusCounts(tdb.db, id), { timeout: 60_000 }).toEqual({});
    const lost = f.accepted.find((q) => q.ackId === lostAck)!.eventIds;
    expect(lost.filter((e) => !e.startsWith('cfg_')).sort()).toEqual([...ids].sort());
    expect((await deliveryLog(tdb.db, id)).failed).toBe(lost.length);
    // Sent exactly twice: once lost, once acknowledged. The lease (10 s) is shorter than the timeout
    // (12 s): not renewed meanwhile, it would have run out and another claim sent the events again
    // before the timeout (and the lost request's failure, fenced out, would not be logged).
    const counts = new Map<string, number>();
    for (const q of f.accepted) for (const e of q.eventIds) counts.set(e, (counts.get(e) ?? 0) + 1);
    for (const e of ids) expect(counts.get(e)).toBe(2);
    // The failed attempt is the ack timeout.
    const log = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${id}/attempts`, { apiKey: org.apiKey });
    const failedRows = (log.body.attempts as Array<{ failed_count: number; error: string | null }>).filter((a) => a.failed_count > 0);
    expect(failedRows.map((a) => a.failed_count)).toEqual([lost.length]);
    expect(failedRows[0]!.error).toMatch(/did not confirm indexing within 12 s/);
  });

  it('a worker that stops while waiting leaves its jobs claimed; after the lease another sends them again', async () => {
    // Its own database: only the stopping service and then its successor may claim these jobs.
    const tdb = await openTestDb(kind);
    // One encryption key for both: the successor must open the credential the first one sealed.
    const env = {
      AEGIS_ENCRYPTION_KEY: generateKeyBase64(),
      AEGIS_RETRY_DELAYS_S: '1,1,1',
      AEGIS_LEASE_S: '5',
      AEGIS_SPLUNK_ACK_TIMEOUT_S: '600',
      AEGIS_SPLUNK_ACK_POLL_MS: '200',
    };
    let first: TestService | null = await startTestService(tdb.db, env);
    let second: TestService | null = null;
    const f = fakeSplunkHec(eventIdsOf);
    // Nothing the first service sends is ever confirmed: with its 5 s lease, a stall may let it claim
    // and send its jobs again before it stops, and that copy must not end the wait either.
    let successorFrom = Infinity;
    f.indexed = (q) => f.accepted.indexOf(q) >= successorFrom;
    try {
      const org = await first.newOrg();
      const { id } = await splunk({ tdb, svc: first, receivers: patient.receivers }, f, org);
      const ids = await seedEvents(tdb.db, org.orgId, 2);
      await expect.poll(() => f.polls.length, { timeout: 30_000 }).toBeGreaterThan(0);
      await first.stop();
      first = null;
      successorFrom = f.accepted.length;
      const claimed = await jobRows(tdb.db, id);
      expect(claimed.map((j) => j.status)).toEqual(['pending', 'pending']);
      for (const j of claimed) expect(j.claim_id).not.toBeNull();
      second = await startTestService(tdb.db, env);
      // Delivered by the successor, with no failed attempt counted for the lost claim: the jobs are
      // gone and the log has no failure.
      await expect.poll(async () => statusCounts(tdb.db, id), { timeout: 60_000 }).toEqual({});
      expect((await deliveryLog(tdb.db, id)).failed).toBe(0);
      // Sent by the first service and again by its successor: at least once, never lost. Not an exact
      // count: a lease this short may run out once more under a stall, and a copy more is allowed.
      // (On one channel here: both services run in this one process, and the channel is per process;
      // two worker processes use two, splunkAckReset.test.ts.)
      expect(new Set(f.accepted.map((q) => q.channel)).size).toBe(1);
      const sentBy = (from: number, to: number, e: string) => f.accepted.slice(from, to).filter((q) => q.eventIds.includes(e)).length;
      for (const e of ids) {
        expect(sentBy(0, successorFrom, e), e).toBeGreaterThanOrEqual(1);
        expect(sentBy(successorFrom, f.accepted.length, e), e).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await first?.stop();
      await second?.stop();
      await tdb.close();
    }
  });

  it('counts a request delivered on its 2xx when the token has acknowledgement off', async () => {
    const { svc, tdb } = patient;
    const org = await svc.newOrg();
    const f = fakeSplunkHec(eventIdsOf);
    f.ackEnabled = false;
    const { r, id } = await splunk(patient, f, org);
    const ids = await seedEvents(tdb.db, org.orgId, 2);
    // Delivered on the 2xx alone: the jobs are gone, each event was received once, no failure logged.
    await expect.poll(async () => statusCounts(tdb.db, id), { timeout: 30_000 }).toEqual({});
    expect(receivedCounts(r.requests)).toEqual(new Map(ids.map((e) => [e, 1])));
    expect((await deliveryLog(tdb.db, id)).failed).toBe(0);
    expect(f.polls).toEqual([]);
  });

  it('a 2xx whose ackId cannot be read confirms nothing: a failed attempt, sent again, delivered once acknowledged', async () => {
    const { svc, tdb } = patient;
    // Answers a proxy or a misbehaving Splunk may give an accepted request, none of them a token with
    // acknowledgement off ({"text":"Success","code":0}): each was once counted delivered unconfirmed.
    const unreadable: Record<string, (splunks: ReceiverResponse) => ReceiverResponse> = {
      gzip: (a) => ({ ...a, headers: { ...a.headers, 'content-encoding': 'gzip' }, body: gzipSync(String(a.body)) }),
      'ackId as a string': (a) => ({ ...a, body: String(a.body).replace(/"ackId":(\d+)/, '"ackId":"$1"') }),
      'an empty body': (a) => ({ ...a, body: '' }),
    };
    await Promise.all(
      Object.entries(unreadable).map(async ([name, mangle]) => {
        const org = await svc.newOrg();
        // The configuration trail's event ("cfg_") may share a request with the seeded ones.
        const f = fakeSplunkHec((req) => [...req.body.toString('utf8').matchAll(/"event":\{"id":"((?:pflt|cfg)_[A-Za-z0-9_-]+)"/g)].map((m) => m[1]!));
        // The first request carrying a seeded event is answered unreadably; every other as Splunk does.
        let mangled: number | null = null;
        f.answer = (q, splunks) => {
          if (mangled === null && q.eventIds.some((e) => !e.startsWith('cfg_'))) mangled = q.ackId;
          return q.ackId === mangled ? mangle(splunks) : splunks;
        };
        const { r, id } = await splunk(patient, f, org);
        const ids = await seedEvents(tdb.db, org.orgId, 2);
        await expect.poll(async () => statusCounts(tdb.db, id), { timeout: 60_000 }).toEqual({});
        // Sent twice: the unreadable answer was a failed attempt, and the copy was acknowledged.
        expect(receivedCounts(r.requests), name).toEqual(new Map(ids.map((e) => [e, 2])));
        const confirmed = f.accepted.filter((q) => q.ackId !== mangled).map((q) => q.ackId);
        expect(
          f.polls.flatMap((p) => p.ids.filter((i) => p.answered[String(i)])),
          name,
        ).toEqual(expect.arrayContaining(confirmed));
        expect(
          f.polls.some((p) => p.ids.includes(mangled!)),
          name,
        ).toBe(false);
        const log = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${id}/attempts`, { apiKey: org.apiKey });
        const failedRows = (log.body.attempts as Array<{ failed_count: number; error: string | null }>).filter((a) => a.failed_count > 0);
        expect(
          failedRows.map((a) => a.failed_count),
          name,
        ).toEqual([f.accepted.find((q) => q.ackId === mangled)!.eventIds.length]);
        expect(failedRows[0]!.error, name).toMatch(/no ackId that can be read/);
      }),
    );
  });

  it('refuses indexer_ack on other presets and a non-boolean value, naming the field', async () => {
    const { svc } = patient;
    const org = await svc.newOrg();
    const base = `/api/orgs/${org.orgId}/forwarding-destinations`;
    const dd = await svc.request('POST', base, {
      apiKey: org.apiKey,
      body: { siem: 'datadog', url: 'https://http-intake.logs.datadoghq.com/api/v2/logs', auth_header_value: 'k', options: { indexer_ack: true } },
    });
    expect(dd.status).toBe(400);
    expect(dd.text).toContain('indexer_ack');
    const bad = await svc.request('POST', base, {
      apiKey: org.apiKey,
      body: { siem: 'splunk_hec', url: 'https://splunk.example.com:8088/services/collector/event', auth_header_value: TOKEN, options: { indexer_ack: 'yes' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('indexer_ack');
  });
});
