// Splunk HEC indexer acknowledgement across a Splunk restart. Splunk numbers ackIds per channel from 0
// and starts again at 0 when it restarts, forgetting every ack it held: a request that waited for its
// ack across the restart will never be confirmed, and its ackId is soon given to a new request. A
// `true` for that id is then the new request's, never the old one's: counting it for the old request
// loses its events (Splunk never indexed them) and uses up the new request's confirmation.
//
// The real service and a real HTTPS receiver playing Splunk with acknowledgement, which can restart.
// E1 is sent and answered ackId 0, never confirmed; Splunk restarts; one claim then sends two large
// events as two requests: the first is answered ackId 0 (and indexed at once), the second's answer is
// held until Splunk has answered an ack poll for id 0 with `true`. An ack poll in that window used to
// settle E1 as delivered on the first request's `true` (the claim registered its ackIds with the tracker
// only after its last request).
//
// Also: two worker processes never share a channel (their ackId sequences would mix, and one worker's
// ackId 7 would confirm the other's lost ackId 7).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type ReceivedRequest, type ReceiverHandler, type Receiver } from '../../support/httpsReceiver.js';
import { REPO_ROOT } from '../../support/workerProcess.js';
import { recordEvents } from '../../../src/queue/enqueue.js';
import type { Queryable } from '../../../src/db/types.js';
import { makeEvent, statusCounts } from './support.js';

const TOKEN = 'Splunk 5f8d1c2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f';

interface SplunkRequest {
  /** How many times Splunk had restarted when it accepted the request. */
  era: number;
  channel: string;
  ackId: number;
  eventIds: string[];
}

/**
 * A Splunk HEC with indexer acknowledgement (as test/support/fakeSplunkHec.ts) that can restart: its
 * ackId counters start again at 0 and every ack it held is forgotten. `indexed` says whether a
 * request's events are indexed when polled; `hold` may delay a request's answer (its ackId is given
 * out when it arrives, as Splunk does).
 */
function restartableSplunk() {
  let era = 0;
  let next = new Map<string, number>();
  let held = new Map<string, Map<number, SplunkRequest>>();
  const fake = {
    accepted: [] as SplunkRequest[],
    /** Requests Splunk confirmed (`true` for their ackId). */
    confirmed: [] as SplunkRequest[],
    /** Every ack poll answer, with Splunk's era when it answered. */
    polls: [] as Array<{ era: number; channel: string; answered: Record<string, boolean> }>,
    log: [] as string[],
    indexed: (_r: SplunkRequest): boolean => true,
    hold: (_r: SplunkRequest): Promise<void> | null => null,
    get era() {
      return era;
    },
    restart() {
      era++;
      next = new Map();
      held = new Map();
      fake.log.push(`restart (era ${era})`);
    },
    handler: (async (req: ReceivedRequest) => {
      const json = (status: number, body: unknown) => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const url = new URL(req.path, 'https://splunk.invalid');
      const h = req.headers['x-splunk-request-channel'];
      const channel = (Array.isArray(h) ? h[0] : h) ?? url.searchParams.get('channel') ?? undefined;
      if (!channel) return json(400, { text: 'Data channel is missing', code: 10 });
      const known = held.get(channel) ?? new Map<number, SplunkRequest>();
      held.set(channel, known);
      if (url.pathname.endsWith('/services/collector/ack')) {
        const answered: Record<string, boolean> = {};
        for (const id of (JSON.parse(req.body.toString('utf8')) as { acks: number[] }).acks) {
          const r = known.get(id);
          const yes = r !== undefined && fake.indexed(r);
          answered[String(id)] = yes;
          // Splunk forgets an ack once it has reported it true.
          if (yes) {
            known.delete(id);
            fake.confirmed.push(r);
          }
        }
        fake.polls.push({ era, channel, answered });
        fake.log.push(`poll ${JSON.stringify(answered)}`);
        return json(200, { acks: answered });
      }
      const ackId = next.get(channel) ?? 0;
      next.set(channel, ackId + 1);
      const eventIds = [...req.body.toString('utf8').matchAll(/"event":\{"id":"((?:pflt|cfg)_[A-Za-z0-9_-]+)"/g)].map((m) => m[1]!);
      const r: SplunkRequest = { era, channel, ackId, eventIds };
      fake.accepted.push(r);
      known.set(ackId, r);
      const wait = fake.hold(r);
      if (wait) await wait;
      fake.log.push(`event req ${fake.accepted.indexOf(r) + 1} -> ackId ${ackId} (${eventIds.length} events)`);
      return json(200, { text: 'Success', code: 0, ackId });
    }) satisfies ReceiverHandler,
  };
  return fake;
}

async function jobsLeft(db: Queryable, destinationId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM forwarding_jobs WHERE destination_id = $1', [destinationId]);
  return rows[0]!.n;
}

async function jobOf(db: Queryable, destinationId: string, eventId: string) {
  const { rows } = await db.query<{ attempts: number; last_error: string | null }>(
    'SELECT attempts, last_error FROM forwarding_jobs WHERE destination_id = $1 AND event_id = $2',
    [destinationId, eventId],
  );
  return rows[0] ?? null;
}

describe.each(DB_KINDS)('Splunk indexer acknowledgement across a Splunk restart (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  const receivers: Receiver[] = [];
  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, {
      AEGIS_RETRY_DELAYS_S: '1,1,1',
      // Long: nothing here waits for a lease to run out, and a renewal a loaded machine stalls past a
      // short one lets another claim send E1 again while it waits for its ack, a copy the checks of
      // E1's requests below do not expect.
      AEGIS_LEASE_S: '30',
      // Short enough that a request whose `true` the tracker set aside around the restart (it cannot
      // tell which request it was for: see ackTracker.ts) is sent again within the test's ceilings.
      // Only at-least-once is promised there: the assertions allow such copies, never a false `true`.
      AEGIS_SPLUNK_ACK_TIMEOUT_S: '15',
      AEGIS_SPLUNK_ACK_POLL_MS: '200',
    });
  });
  afterAll(async () => {
    await svc?.stop();
    for (const r of receivers) await r.close();
    await tdb?.close();
  });

  it('a `true` for an ackId given out again after the restart never confirms the request that waited across it', async () => {
    const org = await svc.newOrg();
    const splunk = restartableSplunk();
    const r = await startReceiver(splunk.handler);
    receivers.push(r);
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { siem: 'splunk_hec', url: `${r.url}/services/collector/event`, auth_header_value: TOKEN, options: { indexer_ack: true } },
    });
    expect(res.status, res.text).toBe(201);
    const dest = res.body.destination_id as string;
    // The destination's creation (a configuration trail event) is delivered and confirmed first.
    await expect.poll(() => jobsLeft(tdb.db, dest), { timeout: 60_000 }).toBe(0);

    // A fresh Splunk, then E1: accepted as ackId 0 and never indexed (the restart will lose it).
    splunk.restart();
    const e1 = makeEvent(org.orgId, 1);
    const E1 = e1.event.id;
    splunk.indexed = (q) => q.era > 1 || !q.eventIds.includes(E1);
    await tdb.db.transaction((tx) => recordEvents(tx, [{ orgId: org.orgId, id: E1, occurredAt: new Date(), payload: e1 }]));
    await expect.poll(() => splunk.polls.some((p) => p.era === 1 && p.answered['0'] === false), { timeout: 60_000 }).toBe(true);
    expect(splunk.accepted.filter((q) => q.eventIds.includes(E1)).map((q) => [q.era, q.ackId])).toEqual([[1, 0]]);

    // Splunk restarts. The next claim carries two large events, sent as two requests; the second one's
    // answer waits until Splunk has said `true` for ackId 0 (the first one's).
    splunk.restart();
    let firstTrue!: () => void;
    const sawTrueForZero = new Promise<void>((resolve) => (firstTrue = resolve));
    const onPoll = setInterval(() => {
      if (splunk.polls.some((p) => p.era === 2 && p.answered['0'] === true)) firstTrue();
    }, 20);
    // A ceiling, not an expectation: the poll comes within a second on a quiet machine.
    const ceiling = setTimeout(firstTrue, 30_000);
    let heldOne = false;
    splunk.hold = (q) => {
      if (q.era !== 2 || heldOne || q.ackId !== 1) return null;
      heldOne = true;
      return sawTrueForZero;
    };
    const big = [2, 3].map((n) => makeEvent(org.orgId, n, `Detected SSN; masked. (#${n}) ${'x'.repeat(600_000)}`));
    const bigIds = big.map((e) => e.event.id);
    try {
      await tdb.db.transaction((tx) =>
        recordEvents(
          tx,
          big.map((e) => ({ orgId: org.orgId, id: e.event.id, occurredAt: new Date(), payload: e })),
        ),
      );
      // Every event is delivered in the end, each only once Splunk confirmed a request carrying it.
      await expect.poll(async () => (await jobOf(tdb.db, dest, E1)) === null, { timeout: 90_000 }).toBe(true);
      const e1Confirmed = splunk.confirmed.filter((q) => q.eventIds.includes(E1)).map((q) => q.era);
      const story = `E1 was counted delivered without a true for a request carrying it:\n${splunk.log.join('\n')}`;
      expect(e1Confirmed.length, story).toBeGreaterThanOrEqual(1);
      expect(
        e1Confirmed.every((era) => era === 2),
        story,
      ).toBe(true);
      await expect.poll(() => statusCounts(tdb.db, dest), { timeout: 90_000 }).toEqual({});
      for (const id of bigIds) expect(splunk.confirmed.filter((q) => q.eventIds.includes(id)).length, id).toBeGreaterThanOrEqual(1);
    } finally {
      clearInterval(onPoll);
      clearTimeout(ceiling);
    }
    // The race did happen: the first large request was answered ackId 0 after the restart, while E1's
    // ackId 0 still waited.
    const first = splunk.accepted.find((q) => q.era === 2 && q.eventIds.includes(bigIds[0]!))!;
    expect(first.ackId).toBe(0);
    // E1 was sent again after the restart and confirmed by a `true` for one of its own new ackIds.
    const e1Copies = splunk.accepted.filter((q) => q.eventIds.includes(E1)).map((q) => q.era);
    expect(e1Copies[0]).toBe(1);
    expect(e1Copies).toContain(2);
    // Its first copy counts a failed attempt, retried, not delivered; the log says why.
    const log = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${dest}/attempts`, { apiKey: org.apiKey });
    const failed = (log.body.attempts as Array<{ failed_count: number; error: string | null }>).filter((a) => a.failed_count > 0);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.some((a) => /ackId.*; Aegis will retry\.$/.test(a.error ?? ''))).toBe(true);
    for (const a of failed) expect(a.error).toMatch(/; Aegis will retry\.$/);
  });
});

describe('Splunk HEC channels of two worker processes', () => {
  it('differ for the same destination, and each is a GUID', () => {
    // Two separate Node processes, as two `aegis-stream start --role worker` are.
    const url = new URL('../../../src/delivery/splunkAck.ts', import.meta.url).href;
    const code = `const m = await import(${JSON.stringify(url)}); console.log(m.splunkChannel('fwd_two_workers'));`;
    const run = () =>
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 }).trim();
    const a = run();
    const b = run();
    for (const ch of [a, b]) expect(ch).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
  }, 120_000);
});
