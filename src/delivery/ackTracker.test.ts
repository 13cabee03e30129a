// The Splunk ack tracker when Splunk's ackId counter restarts (a Splunk restart: ackIds per channel
// start again at 0 and every ack held is forgotten), with ack polls in flight. A real HTTPS receiver
// answers the polls when the test says; the database is a stand-in that records each settle.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startReceiver, TEST_CA_PEM, type Receiver } from '../../test/support/httpsReceiver.js';
import { generateKeyBase64, parseKeyRing } from '../crypto/keyring.js';
import type { Db } from '../db/types.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { ACK_REUSED_ERROR, AckTracker, leaseRenewalDue, renewalIntervalMs, type PendingAck } from './ackTracker.js';
import { splunkAckTarget } from '../../test/integration/delivery/ackSupport.js';
import { createOutboundClient, type OutboundClient } from './outbound/client.js';
import { PROCESS_INSTANCE_ID, splunkChannel, splunkUntrackedChannel } from './splunkAck.js';
import { monotonicNow } from '../monotonicClock.js';

interface Poll {
  ids: number[];
  answer(acks: Record<string, boolean>): void;
}

/** Ack polls as they arrive, each answered when the test calls answer(). */
function pollQueue() {
  const arrived: Poll[] = [];
  let taken = 0;
  return {
    handler: () =>
      new Promise<{ status: number; headers: Record<string, string>; body: string }>((resolve) => {
        // Filled in by the receiver's request below.
        arrived.push({ ids: [], answer: (acks) => resolve({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ acks }) }) });
      }),
    arrived,
    /** The next poll not yet handed to the test. */
    async next(): Promise<Poll> {
      await expect.poll(() => arrived.length > taken, { timeout: 60_000, interval: 20 }).toBe(true);
      return arrived[taken++]!;
    },
  };
}

/** A database that settles nothing but records what each settle said: job id -> 'done' or its error. */
function recordingDb() {
  const outcome = new Map<number, string>();
  const db = {
    kind: 'postgres',
    async query(text: string, values: readonly unknown[] = []) {
      if (text.includes('settled_done')) {
        const others = values[2] as number[];
        const errors = values[4] as string[];
        others.forEach((id, i) => outcome.set(id, errors[i]!));
        for (const id of values[19] as number[]) outcome.set(id, 'done');
      }
      return { rows: [], rowCount: 0 };
    },
  } as unknown as Db;
  return { db, outcome };
}

let ackIdSeq = 1000;
function request(ackId: number, jobId: number): PendingAck {
  return {
    ackId,
    claimId: `00000000-0000-4000-8000-${String(ackIdSeq++).padStart(12, '0')}`,
    jobIds: [jobId],
    jobAttempts: [0],
    jobCreatedAt: [Date.now()],
    attempt: { orgId: 'org_ack', destinationId: 'fwd_ack_reset', eventCount: 1, statusCode: 200, durationMs: 1, responseSnippet: null },
    deadline: monotonicNow() + 600_000,
  };
}

describe('the Splunk ack tracker across a restart of Splunk’s ackId counter', () => {
  let client: OutboundClient;
  let r: Receiver;
  let polls: ReturnType<typeof pollQueue>;
  const trackers: AckTracker[] = [];

  beforeAll(async () => {
    client = createOutboundClient({ allowPrivate: true, timeoutMs: 60_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
  });
  afterAll(async () => {
    for (const t of trackers) t.stop();
    await client?.close();
  });

  async function setup() {
    polls = pollQueue();
    r = await startReceiver((req) => {
      const p = polls.handler();
      polls.arrived[polls.arrived.length - 1]!.ids = (JSON.parse(req.body.toString('utf8')) as { acks: number[] }).acks;
      return p;
    });
    const { db, outcome } = recordingDb();
    const target = splunkAckTarget('org_ack', 'fwd_ack_reset', r.url);
    const delivery = { db, keyRing: parseKeyRing(generateKeyBase64()), client, hostname: 'aegis-test', userAgent: 'aegis-test/1' };
    const tracker = new AckTracker(
      target,
      { db, delivery, metrics: createMetrics(null, { perDestination: false }), logger: createLogger('silent'), wake: () => {} },
      { leaseMs: 60_000, retryDelaysS: [1], pollMs: 100, timeoutMs: 600_000, maxPendingEvents: 1000 },
    );
    trackers.push(tracker);
    return { tracker, outcome, close: () => (tracker.stop(), r.close()) };
  }

  it('a poll sent before the restart was seen confirms none of the requests registered before it', async () => {
    const { tracker, outcome, close } = await setup();
    try {
      // E1 and E2 wait (ackIds 0 and 1); a poll asks about both and Splunk has not answered yet.
      tracker.add(request(0, 1));
      tracker.add(request(1, 2));
      const first = await polls.next();
      expect(first.ids.sort()).toEqual([0, 1]);
      // Splunk restarted: a new request is answered ackId 0 while the poll is in flight.
      tracker.add(request(0, 3));
      // The poll's answer, written after the restart: both `true`s are about the new counter's requests.
      first.answer({ '0': true, '1': true });
      // E1 and E2 are failed attempts, sent again; never delivered.
      await expect.poll(() => [outcome.get(1), outcome.get(2)], { timeout: 60_000 }).toEqual([ACK_REUSED_ERROR, ACK_REUSED_ERROR]);
      expect(ACK_REUSED_ERROR).toMatch(/; Aegis will retry\.$/);
      // The new request waits for a poll sent after the restart was seen, and its own `true`.
      const second = await polls.next();
      expect(outcome.has(3)).toBe(false);
      expect(second.ids).toEqual([0]);
      second.answer({ '0': true });
      await expect.poll(() => outcome.get(3), { timeout: 60_000 }).toBe('done');
      expect(tracker.pendingEvents).toBe(0);
    } finally {
      await close();
    }
  });

  it('a poll answered while a request is in flight confirms nothing until that request’s ackId is known', async () => {
    const { tracker, outcome, close } = await setup();
    try {
      tracker.add(request(0, 11));
      // A request is sent; Splunk restarts before it and gives it ackId 0 and indexes it; the poll
      // about E1's ackId 0 is answered `true` before the request's own answer is read.
      const ticket = tracker.beginSend();
      const first = await polls.next();
      first.answer({ '0': true });
      // Answered, but held: the next round's poll is sent, and E1 is still waiting.
      const second = await polls.next();
      expect(outcome.has(11)).toBe(false);
      tracker.add(request(0, 12), { ticket });
      // The round settles once its poll is answered.
      second.answer({});
      await expect.poll(() => outcome.get(11), { timeout: 60_000 }).toBe(ACK_REUSED_ERROR);
      expect(outcome.has(12)).toBe(false);
    } finally {
      await close();
    }
  });

  it('without a restart, a `true` answered while a request is in flight counts once its ackId is known', async () => {
    const { tracker, outcome, close } = await setup();
    try {
      tracker.add(request(4, 21));
      const ticket = tracker.beginSend();
      const first = await polls.next();
      first.answer({ '4': true });
      const second = await polls.next();
      expect(outcome.has(21)).toBe(false);
      tracker.add(request(5, 22), { ticket });
      second.answer({});
      await expect.poll(() => outcome.get(21), { timeout: 60_000 }).toBe('done');
      expect(outcome.has(22)).toBe(false);
    } finally {
      await close();
    }
  });

  it('answers read out of order (requests in flight together) are not a restart', async () => {
    const { tracker, outcome, close } = await setup();
    try {
      tracker.add(request(3, 31));
      const a = tracker.beginSend();
      const b = tracker.beginSend();
      // b was answered first with the higher ackId; a, sent before b's answer was read, has a lower one.
      tracker.add(request(5, 32), { ticket: b });
      tracker.add(request(4, 33), { ticket: a });
      const poll = await polls.next();
      expect(poll.ids.sort()).toEqual([3, 4, 5]);
      poll.answer({ '3': true, '4': true, '5': true });
      await expect.poll(() => [31, 32, 33].map((id) => outcome.get(id)), { timeout: 60_000 }).toEqual(['done', 'done', 'done']);
    } finally {
      await close();
    }
  });

  it('one ackId given to two requests in flight together: neither can be confirmed', async () => {
    const { tracker, outcome, close } = await setup();
    try {
      const a = tracker.beginSend();
      const b = tracker.beginSend();
      tracker.add(request(2, 41), { ticket: b });
      tracker.add(request(2, 42), { ticket: a });
      await expect.poll(() => [outcome.get(41), outcome.get(42)], { timeout: 60_000 }).toEqual([ACK_REUSED_ERROR, ACK_REUSED_ERROR]);
      expect(tracker.pendingEvents).toBe(0);
    } finally {
      await close();
    }
  });

  // A review's: polls were spaced on Date.now(), so a wall clock set back an hour (NTP, an operator)
  // left every request unpolled, and its lease unrenewed, for the hour: sent twice. Only Date is
  // faked here; the tracker's own clock (monotonicNow) and its timers run on.
  it('polls on its interval while the wall clock is set back an hour', async () => {
    const { tracker, outcome, close } = await setup();
    try {
      tracker.add(request(7, 51));
      const first = await polls.next();
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: Date.now() - 3_600_000 });
      first.answer({ '7': false });
      const second = await polls.next();
      expect(second.ids).toEqual([7]);
      second.answer({ '7': true });
      await expect.poll(() => outcome.get(51), { timeout: 60_000 }).toBe('done');
    } finally {
      vi.useRealTimers();
      await close();
    }
  });

  it('is not idle while a request is in flight (its tracker must not be replaced meanwhile)', async () => {
    const { tracker, close } = await setup();
    try {
      expect(tracker.idle()).toBe(true);
      const t = tracker.beginSend();
      expect(tracker.idle()).toBe(false);
      tracker.endSend(t);
      expect(tracker.idle()).toBe(true);
    } finally {
      await close();
    }
  });
});

describe('Splunk HEC channels', () => {
  it('differ per worker process instance for one destination, each a GUID', () => {
    const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const a = splunkChannel('fwd_abc', 'instance-a');
    const b = splunkChannel('fwd_abc', 'instance-b');
    expect(a).toMatch(guid);
    expect(b).toMatch(guid);
    expect(a).not.toBe(b);
    // This process's own instance id is random, made at start, and is the default.
    expect(PROCESS_INSTANCE_ID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(splunkChannel('fwd_abc')).toBe(splunkChannel('fwd_abc', PROCESS_INSTANCE_ID));
    // Requests whose ackId nobody polls (Save & test) never use the channel whose ackIds are tracked.
    expect(splunkUntrackedChannel('fwd_abc')).toMatch(guid);
    expect(splunkUntrackedChannel('fwd_abc')).not.toBe(splunkChannel('fwd_abc'));
  });
});

describe('when a lease awaiting its ack is renewed', () => {
  // The rounds run every floor(lease / 3) ms and may start a millisecond early against the last
  // renewal's clock: a claim judged "not due" there waited a whole round more, two thirds of a lease
  // between renewals, which a loaded machine's late round turned into a lapsed lease and a resend.
  it('a round one interval after the last renewal renews, even a millisecond short of a third of the lease', () => {
    for (const leaseMs of [5_000, 30_000, 60_000, 1_000]) {
      const interval = renewalIntervalMs(leaseMs);
      expect(leaseRenewalDue(10_000 + interval - 1, 10_000, leaseMs), `lease ${leaseMs}`).toBe(true);
      expect(leaseRenewalDue(10_000 + interval, 10_000, leaseMs), `lease ${leaseMs}`).toBe(true);
    }
    expect(leaseRenewalDue(1_666, 0, 5_000)).toBe(true);
  });

  it('a claim just renewed by the lane is left for the next round, and one never renewed is due', () => {
    expect(leaseRenewalDue(10_000, 10_000, 5_000)).toBe(false);
    expect(leaseRenewalDue(10_500, 10_000, 30_000)).toBe(false);
    expect(leaseRenewalDue(10_000, undefined, 5_000)).toBe(true);
  });

  it('so renewals are at most half a lease apart: a skipped claim is due by the next round', () => {
    for (const leaseMs of [3_000, 5_000, 15_000, 30_000, 60_000]) {
      const interval = renewalIntervalMs(leaseMs);
      // Renewed by the lane just after a round: skipped at the next round only if under half an interval.
      for (let renewedAt = 0; renewedAt <= interval; renewedAt += 7) {
        const skipped = !leaseRenewalDue(interval, renewedAt, leaseMs);
        const renewedBy = skipped ? 2 * interval : interval;
        expect(renewedBy - renewedAt, `lease ${leaseMs}, renewed at ${renewedAt}`).toBeLessThanOrEqual(leaseMs / 2);
      }
    }
  });
});
