import { describe, expect, it } from 'vitest';
import { buildTrailEvent } from '../trail/contract.js';
import { SIEM_IDS } from './catalog.js';
import { getEncoder } from './registry.js';
import { StoredEvent } from './storedEvent.js';
import { sampleEvent } from './testEvents.js';
import { byteLength, planBatches, type EncodeContext, type SiemEncoder, type SiemEvent } from './types.js';

// A preset's eventBytes lets the planner measure an event without building its request body; a
// wrong length would let a request grow past the SIEM's limit (a 413 that splitting must undo) or
// split requests early, so every preset that has one is held to encoding.

const trail = buildTrailEvent({
  orgId: 'org_a',
  actor: { type: 'api_key', id: 'key_1' },
  change: { action: 'destination_created', changedFields: ['name'] },
  occurredAt: new Date('2026-05-15T10:33:21.456Z'),
});

function events(): SiemEvent[] {
  const plain: SiemEvent[] = [
    sampleEvent(1),
    sampleEvent(2, { summary: 'é 日本 😀 \u2028 "q" \\ \n' }),
    sampleEvent(3, { timestamp: '2026-05-15T10:33:21Z' }),
    sampleEvent(4, { timestamp: '2026-05-15T10:33:21.1+02:00' }),
    sampleEvent(5, { dataset: 'aegis.audit_stream.test' }),
    trail,
  ];
  // As claimed: stored text, in the API's form and in another writer's.
  return [...plain, ...plain.map((e) => new StoredEvent(JSON.stringify(e))), new StoredEvent(JSON.stringify(sampleEvent(6), null, 1))];
}

const contexts: EncodeContext[] = [
  { hostname: 'aegis-test', userAgent: 'ua', options: {} },
  { hostname: 'hôte-é', userAgent: 'ua', options: { index: 'índice', source: 'src 😀', sourcetype: 'st', host: 'h' }, format: 'ecs' },
  { hostname: 'aegis-test', userAgent: 'ua', options: { index: 'main' }, format: 'ocsf' },
];

describe('eventBytes: a preset measures an event as its one-event request would be', () => {
  const measured = SIEM_IDS.filter((id) => getEncoder(id).eventBytes !== undefined);

  it('is there for Splunk HEC, whose drain it serves', () => {
    expect(measured).toContain('splunk_hec');
  });

  it.each(measured)('%s: gives the bytes of the body encode builds, for every event and context', (id) => {
    const encoder = getEncoder(id);
    for (const ctx of contexts) {
      const measure = encoder.eventBytes!(ctx);
      for (const e of events()) {
        expect(measure(e), `${id} ${JSON.stringify(ctx.options)} ${ctx.format ?? 'ecs'}`).toBe(byteLength(encoder.encode([e], ctx).body));
      }
    }
  });

  it.each(measured)('%s: throws where encode throws (the planner then dead-letters the event alone)', (id) => {
    const encoder = getEncoder(id);
    const { event: _, ...noEvent } = sampleEvent(8);
    const bad: SiemEvent[] = [
      sampleEvent(7, { timestamp: 'not a time' }),
      new StoredEvent(JSON.stringify(sampleEvent(7, { timestamp: 'not a time' }))),
      // A row no encoder can take: no event object, so no id (its head cannot be read either).
      new StoredEvent(JSON.stringify(noEvent)),
    ];
    for (const ctx of contexts) {
      for (const e of bad) {
        expect(() => encoder.encode([e], ctx)).toThrow();
        expect(() => encoder.eventBytes!(ctx)(e)).toThrow();
      }
    }
  });

  it.each(measured)('%s: plans the same requests as measuring by encoding', (id) => {
    const encoder = getEncoder(id);
    const byEncoding: SiemEncoder = { ...encoder };
    delete byEncoding.eventBytes;
    const many = Array.from({ length: 3000 }, (_, i) => new StoredEvent(JSON.stringify(sampleEvent(i, { summary: 'x'.repeat(i % 700) }))));
    for (const ctx of contexts) {
      const ids = (groups: SiemEvent[][]) => groups.map((g) => g.length);
      expect(ids(planBatches(many, encoder, ctx).groups)).toEqual(ids(planBatches(many, byEncoding, ctx).groups));
    }
  });
});
