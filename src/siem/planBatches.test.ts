import { describe, expect, it } from 'vitest';
import { SIEM_IDS } from './catalog.js';
import { getEncoder } from './registry.js';
import { byteLength, maxEventBytesOf, planBatches, type EncodeContext } from './types.js';
import { sampleEvent } from './testEvents.js';

const ctx: EncodeContext = { hostname: 'aegis-test', options: { index: 'aegis', tags: 'team:sec' }, userAgent: 'aegis-audit-stream/test' };

/** Each preset's documented limits (docs/siem/<preset>.md): the planner must never go past them. */
const DOCUMENTED = {
  splunk_hec: { events: 1000, batchBytes: 1_000_000, eventBytes: 1_000_000 },
  datadog: { events: 1000, batchBytes: 5_000_000, eventBytes: 1_000_000 },
  sumo_logic: { events: 10_000, batchBytes: 1_000_000, eventBytes: 1_000_000 },
  elastic: { events: 1000, batchBytes: 5_000_000, eventBytes: 100_000_000 },
  new_relic: { events: 10_000, batchBytes: 1_000_000, eventBytes: 1_000_000 },
  custom: { events: 1, batchBytes: 1_000_000, eventBytes: Number.POSITIVE_INFINITY },
  // Logs Ingestion API: 1 MB per call (the Azure SDK's chunk size, uncompressed JSON).
  microsoft_sentinel: { events: 10_000, batchBytes: 1_000_000, eventBytes: 1_000_000 },
} as const;

describe.each(SIEM_IDS)('batch planner: %s', (siem) => {
  const encoder = getEncoder(siem);
  const limits = DOCUMENTED[siem];

  it('uses the documented limits', () => {
    expect(encoder.maxBatchEvents).toBe(limits.events);
    expect(encoder.maxBatchBytes).toBe(limits.batchBytes);
    expect(maxEventBytesOf(encoder)).toBe(limits.eventBytes);
  });

  it('keeps every planned request within the byte and count limits, in order, losing nothing', () => {
    // Events of varied sizes (seeded, so the same plan every run), some big enough to force byte splits.
    let seed = 42;
    const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const events = Array.from({ length: 2500 }, (_, i) => sampleEvent(i, { summary: 'x'.repeat(Math.floor(rand() * (i % 50 === 0 ? 90_000 : 900))) }));
    const plan = planBatches(events, encoder, ctx);
    expect(plan.oversize).toEqual([]);
    expect(plan.groups.flat().map((e) => e.event.id)).toEqual(events.map((e) => e.event.id));
    for (const g of plan.groups) {
      expect(g.length).toBeGreaterThan(0);
      expect(g.length).toBeLessThanOrEqual(limits.events);
      expect(byteLength(encoder.encode(g, ctx).body)).toBeLessThanOrEqual(limits.batchBytes);
    }
    if (limits.events > 1) expect(plan.groups.some((g) => g.length > 1)).toBe(true);
  });

  it('sets aside an event over the per-event limit and sends the rest', () => {
    // Elastic's 100 MB is checked above; building a 100 MB event here would only cost time, so the
    // rule is exercised with the limit passed in. Infinity (custom): no documented limit, nothing is
    // set aside and the receiver's 413 decides.
    const documented = maxEventBytesOf(encoder);
    const limit = Number.isFinite(documented) ? Math.min(documented, 2_000_000) : undefined;
    const events = [sampleEvent(1), sampleEvent(2, { summary: 'y'.repeat((limit ?? 2_000_000) + 10) }), sampleEvent(3)];
    const plan = planBatches(events, encoder, ctx, limit);
    if (limit !== undefined) {
      expect(plan.oversize.map((o) => o.event.event.id)).toEqual([events[1]!.event.id]);
      expect(plan.oversize[0]!.bytes).toBe(byteLength(encoder.encode([events[1]!], ctx).body));
      expect(plan.oversize[0]!.bytes).toBeGreaterThan(limit);
      expect(plan.groups.flat().map((e) => e.event.id)).toEqual([events[0]!.event.id, events[2]!.event.id]);
    } else {
      expect(plan.oversize).toEqual([]);
      expect(plan.groups.flat()).toHaveLength(3);
    }
  });

  it('sends an event between the batch and per-event limits alone', () => {
    const limit = maxEventBytesOf(encoder);
    if (!(limit > encoder.maxBatchBytes) || !Number.isFinite(limit)) return; // only Elastic has such a band
    const events = [sampleEvent(1), sampleEvent(2, { summary: 'z'.repeat(encoder.maxBatchBytes + 10) }), sampleEvent(3)];
    const plan = planBatches(events, encoder, ctx);
    expect(plan.oversize).toEqual([]);
    expect(plan.groups.map((g) => g.map((e) => e.event.id))).toEqual([[events[0]!.event.id], [events[1]!.event.id], [events[2]!.event.id]]);
  });
});
