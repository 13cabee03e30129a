import { describe, expect, it } from 'vitest';
import type { ClaimedJob } from '../queue/types.js';
import { SIEM_IDS } from '../siem/catalog.js';
import { getEncoder } from '../siem/registry.js';
import { sampleEvent } from '../siem/testEvents.js';
import { EVENT_AGE_MARGIN_MS, epochMillis } from '../siem/types.js';
import { FAST_ROUND_MS, laneShape, nextClaimSize, oversizeReason, planClaim, runnerShape } from './claimPlan.js';

const ctx = { hostname: 'aegis-test', options: {}, userAgent: 'aegis-audit-stream/test' };
/** The sample events' own time: none of them is old. */
const NOW = epochMillis(sampleEvent(1)['@timestamp']);
const job = (id: number, payload: unknown): ClaimedJob => ({
  id,
  orgId: 'org_a',
  eventId: `evt_${id}`,
  attempts: 0,
  createdAt: new Date(0),
  farewell: false,
  payloadJson: JSON.stringify(payload),
  claimedAt: new Date(NOW),
  shedSince: null,
  shedDueAt: null,
});

describe('planClaim: what a claim becomes before anything is sent', () => {
  it('groups the events within the preset limits, in order, with the job of each', () => {
    const jobs = [1, 2, 3].map((i) => job(i, sampleEvent(i)));
    const plan = planClaim(jobs, getEncoder('splunk_hec'), ctx, NOW);
    expect(plan.refused).toEqual([]);
    expect(plan.refusedReason).toBeNull();
    expect(plan.groups).toHaveLength(1);
    expect(plan.groups[0]!.map((e) => plan.jobOf.get(e)!.id)).toEqual([1, 2, 3]);
  });

  it('dead-letters an event over the per-event limit with its size and the limit, and sends the rest', () => {
    const encoder = getEncoder('datadog');
    const big = sampleEvent(2, { summary: 'x'.repeat(1_100_000) });
    const plan = planClaim([job(1, sampleEvent(1)), job(2, big), job(3, sampleEvent(3))], encoder, ctx, NOW);
    expect(plan.groups.flat().map((e) => plan.jobOf.get(e)!.id)).toEqual([1, 3]);
    expect(plan.refused).toEqual([
      { id: 2, outcome: 'failed', error: expect.stringMatching(/^Event too large for .*per-event limit of 1000000 bytes/) as unknown, statusCode: null },
    ]);
    expect(plan.refusedReason).toMatch(/^Event too large for Datadog Logs: /);
    expect(plan.refusedReason).toBe(plan.refused[0]!.outcome === 'failed' ? plan.refused[0]!.error : null);
  });

  it('dead-letters an event the encoder cannot encode, alone', () => {
    // A poison pill written around the API: a @timestamp no SIEM time can be made of.
    const plan = planClaim(
      [job(1, sampleEvent(1)), job(2, sampleEvent(2, { timestamp: 'not a time' })), job(3, sampleEvent(3))],
      getEncoder('splunk_hec'),
      ctx,
      NOW,
    );
    expect(plan.groups.flat().map((e) => plan.jobOf.get(e)!.id)).toEqual([1, 3]);
    expect(plan.refused).toEqual([
      { id: 2, outcome: 'failed', error: 'An event cannot be encoded for splunk_hec and was dead-lettered: invalid @timestamp: not a time', statusCode: null },
    ]);
  });

  it('dead-letters a stored row no request can carry (no event object), alone, for every batching preset', () => {
    const { event: _, ...noEvent } = sampleEvent(2);
    const batching = SIEM_IDS.filter((id) => getEncoder(id).maxBatchEvents > 1);
    expect(batching).toContain('splunk_hec');
    for (const id of batching) {
      const plan = planClaim([job(1, sampleEvent(1)), job(2, noEvent), job(3, sampleEvent(3))], getEncoder(id), ctx, NOW);
      expect(
        plan.groups.flat().map((e) => plan.jobOf.get(e)!.id),
        id,
      ).toEqual([1, 3]);
      expect(
        plan.refused.map((r) => r.id),
        id,
      ).toEqual([2]);
    }
  });

  it('dead-letters an event older than the SIEM keeps, with its age, and sends the rest', () => {
    const HOUR = 3_600_000;
    const at = (ageMs: number) => new Date(NOW - ageMs).toISOString();
    const jobs = [
      job(1, sampleEvent(1)),
      job(2, { ...sampleEvent(2), '@timestamp': at(3 * 24 * HOUR) }),
      // Inside the margin: it could be past 18 h when Datadog receives it.
      job(3, { ...sampleEvent(3), '@timestamp': at(18 * HOUR - EVENT_AGE_MARGIN_MS + 1000) }),
      job(4, { ...sampleEvent(4), '@timestamp': at(17 * HOUR) }),
    ];
    const plan = planClaim(jobs, getEncoder('datadog'), ctx, NOW);
    expect(plan.groups.flat().map((e) => plan.jobOf.get(e)!.id)).toEqual([1, 4]);
    expect(plan.refused.map((o) => o.id)).toEqual([2, 3]);
    expect(plan.refused[1]).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/is 17 h old \(within the 5-minute margin for clocks\)/) as unknown,
    });
    expect(plan.refused[0]).toEqual({
      id: 2,
      outcome: 'failed',
      error:
        'Event too old for Datadog Logs: its @timestamp is 72 h old, and Datadog Logs drops events older than 18 h after answering 2xx; dead-lettered instead of lost silently (docs/siem explains the limit).',
      statusCode: null,
    });
    // New Relic keeps 48 h; a preset without a limit sends any age.
    expect(planClaim(jobs, getEncoder('new_relic'), ctx, NOW).refused.map((o) => o.id)).toEqual([2]);
    const splunk = planClaim(jobs, getEncoder('splunk_hec'), ctx, NOW);
    expect(splunk.refused).toEqual([]);
    expect(splunk.groups.flat()).toHaveLength(4);
  });

  // Datadog documents "up to two hours in the future": an event dated further ahead (a desktop agent
  // with a skewed clock, an occurred_at up to year 9999) is answered 202 and dropped.
  it('dead-letters an event dated further ahead than Datadog accepts, naming its @timestamp, and sends the rest', () => {
    const HOUR = 3_600_000;
    const at = (aheadMs: number) => new Date(NOW + aheadMs).toISOString();
    const far = '9999-12-31T23:59:59.999Z';
    const jobs = [
      job(1, sampleEvent(1)),
      job(2, { ...sampleEvent(2), '@timestamp': far }),
      // Inside the margin: it could be over 2 h ahead by Datadog's clock.
      job(3, { ...sampleEvent(3), '@timestamp': at(2 * HOUR - EVENT_AGE_MARGIN_MS + 1000) }),
      job(4, { ...sampleEvent(4), '@timestamp': at(1 * HOUR) }),
      job(5, { ...sampleEvent(5), '@timestamp': at(3 * 24 * HOUR) }),
      // Both windows in one list: a too-old event in the same claim is still refused for its age.
      job(6, { ...sampleEvent(6), '@timestamp': new Date(NOW - 3 * 24 * HOUR).toISOString() }),
    ];
    const encoder = getEncoder('datadog');
    expect(encoder.maxEventFutureMs, 'src/siem/datadog/encoder.ts declares maxEventFutureMs: 2 h').toBe(2 * HOUR);
    const plan = planClaim(jobs, encoder, ctx, NOW);
    expect(plan.groups.flat().map((e) => plan.jobOf.get(e)!.id)).toEqual([1, 4]);
    expect(plan.refused.map((o) => o.id)).toEqual([2, 3, 5, 6]);
    const aheadHours = Math.floor((epochMillis(far) - NOW) / HOUR);
    expect(plan.refused[0]).toEqual({
      id: 2,
      outcome: 'failed',
      error:
        `Event dated in the future for Datadog Logs: its @timestamp ${far} is ${aheadHours} h ahead of Aegis's clock, and Datadog Logs drops events ` +
        "more than 2 h in the future after answering 2xx. The source's clock is likely wrong: correct the time of the agent or host that recorded it. " +
        'Dead-lettered instead of lost silently (docs/siem explains the limit).',
      statusCode: null,
    });
    expect(plan.refused[1]).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(
        / is 1 h ahead of Aegis's clock \(within the 5-minute margin for clocks\), and Datadog Logs drops events more than 2 h in the future/,
      ) as unknown,
    });
    expect(plan.refused[2]).toMatchObject({ error: expect.stringMatching(/^Event dated in the future for Datadog Logs: .* is 72 h ahead/) as unknown });
    expect(plan.refused[3]).toMatchObject({ error: expect.stringMatching(/^Event too old for Datadog Logs: its @timestamp is 72 h old/) as unknown });
  });

  it('applies a future window only where the SIEM declares one', () => {
    const ahead = (id: number, ms: number) => job(id, { ...sampleEvent(id), '@timestamp': new Date(NOW + ms).toISOString() });
    const jobs = [ahead(1, 3 * 3_600_000), ahead(2, 30 * 60_000), job(3, { ...sampleEvent(3), '@timestamp': '9999-12-31T23:59:59.999Z' })];
    // No documented future window: sent whatever the time (New Relic documents none either).
    for (const id of ['splunk_hec', 'new_relic'] as const) {
      const plan = planClaim(jobs, getEncoder(id), ctx, NOW);
      expect(plan.refused, id).toEqual([]);
      expect(plan.groups.flat(), id).toHaveLength(3);
    }
    // The rule itself, for any preset that declares a window (here one hour).
    const plan = planClaim(jobs, { ...getEncoder('splunk_hec'), maxEventFutureMs: 3_600_000 }, ctx, NOW);
    expect(plan.refused.map((o) => o.id)).toEqual([1, 3]);
    expect(plan.refusedReason).toMatch(
      /^Event dated in the future for Splunk HEC: its @timestamp 9999-12-31T23:59:59\.999Z is \d+ h ahead .* more than 1 h in the future/,
    );
  });

  it('words an oversize reason with sizes only', () => {
    expect(oversizeReason('datadog', 2_000_000, 1_000_000)).toMatch(
      /^Event too large for Datadog Logs: 2000000 bytes encoded, over its per-event limit of 1000000 bytes/,
    );
  });
});

describe('runnerShape and laneShape: how a destination is run from its state', () => {
  const cfg = { singleEventClaim: 64, batchClaim: 1000, requestsPerLane: 16 };

  it.each([
    // consecutive failures, farewell only, lanes per destination, concurrent requests -> shape
    [0, false, 3, 8, { probing: false, lanes: 3 }],
    [0, false, 3, 2, { probing: false, lanes: 2 }],
    [1, false, 3, 8, { probing: false, lanes: 1 }],
    [5, false, 3, 8, { probing: true, lanes: 1 }],
    [0, true, 3, 8, { probing: false, lanes: 1 }],
  ] as const)('%i failures, farewell %s, %i lanes, %i requests -> %j', (failures, farewell, lanes, requests, expected) => {
    expect(runnerShape(failures, farewell, lanes, requests)).toEqual(expected);
  });

  it.each([
    [1, false, { claimSize: 64, maxClaim: 256, firstClaim: 64, requests: 16, firstRequests: 16 }],
    [1, true, { claimSize: 64, maxClaim: 256, firstClaim: 1, requests: 16, firstRequests: 1 }],
    [500, false, { claimSize: 500, maxClaim: 500, firstClaim: 500, requests: 1, firstRequests: 1 }],
    [10_000, true, { claimSize: 1000, maxClaim: 1000, firstClaim: 1000, requests: 1, firstRequests: 1 }],
  ] as const)('maxBatchEvents %i, probing %s -> %j', (maxBatchEvents, probing, expected) => {
    expect(laneShape({ maxBatchEvents }, cfg, probing)).toEqual(expected);
  });
});

describe('nextClaimSize: claims grow while a backlog drains fast, and only then', () => {
  const single = laneShape({ maxBatchEvents: 1 }, { singleEventClaim: 64, batchClaim: 1000, requestsPerLane: 16 }, false);
  const batching = laneShape({ maxBatchEvents: 1000 }, { singleEventClaim: 64, batchClaim: 1000, requestsPerLane: 16 }, false);

  it('doubles a full claim sent fast, up to four times the base', () => {
    const sizes = [64];
    for (let i = 0; i < 4; i++) sizes.push(nextClaimSize(single, sizes.at(-1)!, sizes.at(-1)!, FAST_ROUND_MS));
    expect(sizes).toEqual([64, 128, 256, 256, 256]);
  });

  it('falls back to the base size after a short claim (the backlog is gone) or a slow round', () => {
    expect(nextClaimSize(single, 256, 255, 10)).toBe(64);
    expect(nextClaimSize(single, 256, 256, FAST_ROUND_MS + 1)).toBe(64);
    expect(nextClaimSize(single, 128, 128, 60_000)).toBe(64);
  });

  it('goes to the base size after a probe, never doubling the probe', () => {
    expect(nextClaimSize(single, 1, 1, 5)).toBe(64);
  });

  it('never grows a batching preset past its claim (one request per claim already)', () => {
    expect(nextClaimSize(batching, 1000, 1000, 5)).toBe(1000);
  });
});
