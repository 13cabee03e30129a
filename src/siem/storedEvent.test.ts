import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildWireEvent } from '../events/contract.js';
import { buildTrailEvent } from '../trail/contract.js';
import { SIEM_IDS } from './catalog.js';
import { getEncoder } from './registry.js';
import { eventIdOf, readHead, StoredEvent } from './storedEvent.js';
import { sampleEvent } from './testEvents.js';
import { eventJson, type EncodeContext, type SiemEvent } from './types.js';

const apiEvent = buildWireEvent({
  orgId: 'org_a',
  occurredAt: new Date('2026-05-15T10:33:21.456Z'),
  fields: {
    preflight_id: 'pflt_abcdefghijklmnopqrstuvwx',
    decision: 'BLOCKED',
    destination: 'AI_TOOL',
    summary: 'Detected SSN; blocked. "quoted" \\ é 😀',
    policy_version: 'v1',
    policy_id: 'pol_1',
    source_type: 'api',
    input_type: 'text',
    input_size_bytes: 12,
    finding_counts_by_type: { SSN: 1 },
  },
});
const trailEvent = buildTrailEvent({
  orgId: 'org_a',
  actor: { type: 'api_key', id: 'key_1' },
  change: { action: 'destination_created', changedFields: ['name'] },
  occurredAt: new Date('2026-05-15T10:33:21.456Z'),
});

describe('StoredEvent: a claimed event read from its stored text', () => {
  afterEach(() => vi.restoreAllMocks());

  it('reads the id and @timestamp of what the API and the trail store from the text, without parsing it', () => {
    for (const wire of [apiEvent, trailEvent] as SiemEvent[]) {
      const text = JSON.stringify(wire);
      const parse = vi.spyOn(JSON, 'parse');
      const e = new StoredEvent(text);
      const read = { head: readHead(text), id: eventIdOf(e), timestamp: e['@timestamp'], body: eventJson(e) };
      const parsesBefore = parse.mock.calls.length;
      expect(parsesBefore).toBe(0);
      expect(read).toEqual({ head: { timestamp: wire['@timestamp'], id: wire.event.id }, id: wire.event.id, timestamp: wire['@timestamp'], body: text });
      // Anything else is the parse, once.
      expect(e.aegis).toEqual(wire.aegis);
      expect(e.organization).toEqual(wire.organization);
      expect(e.event).toEqual(wire.event);
      expect(parse.mock.calls.filter(([t]) => t === text)).toHaveLength(1);
      expect(JSON.stringify(e)).toBe(text);
      parse.mockRestore();
    }
  });

  it('parses any text whose head is spelled otherwise: the values are always the parsed ones', () => {
    const base = {
      '@timestamp': '2026-05-15T10:33:21.456000+00:00',
      event: { id: 'pflt_x', dataset: 'd' },
      aegis: { summary: 's' },
      organization: { id: 'o' },
    };
    const texts = [
      // jsonb's rendering (keys by length, spaced), padding, another key order.
      '{"event": {"id": "pflt_x", "dataset": "d"}, "aegis": {"summary": "s"}, "@timestamp": "2026-05-15T10:33:21.456000+00:00", "organization": {"id": "o"}}',
      ` ${JSON.stringify(base)}`,
      JSON.stringify({ event: base.event, '@timestamp': base['@timestamp'], aegis: base.aegis, organization: base.organization }),
      JSON.stringify({ ...base, event: { dataset: 'd', id: 'pflt_x' } }),
      // Escapes in either value: the text is not the value.
      '{"@timestamp":"2026-05-15T10:33:21.456000\\u002b00:00","event":{"id":"pflt_x","dataset":"d"}}',
      '{"@timestamp":"2026-05-15T10:33:21.456000+00:00","event":{"id":"pflt\\u005fx","dataset":"d"}}',
      '{"@timestamp":"a\\"b","event":{"id":"pflt_x","dataset":"d"}}',
      '{"@timestamp":"2026","event":{"id":"x\\\\","dataset":"d"}}',
      // A key that only starts like the next one.
      '{"@timestamp":"t","event":{"idx":"no","id":"pflt_x","dataset":"d"}}',
      '{"@timestamp":"t","eventual":{"id":"no"},"event":{"id":"pflt_x","dataset":"d"}}',
    ];
    for (const text of texts) {
      const parsed = JSON.parse(text) as SiemEvent;
      const e = new StoredEvent(text);
      expect(eventIdOf(e), text).toBe(parsed.event.id);
      expect(e['@timestamp'], text).toBe(parsed['@timestamp']);
      expect(eventJson(e), text).toBe(JSON.stringify(parsed));
    }
  });

  it('agrees with JSON.parse on random ids and timestamps (fixed seed)', () => {
    const pieces = ['a', '0', '"', '\\', '\\"', ':', ',', '}', '{', 'é', '😀', '\u2028', '\u0001', ' ', 'pflt_', '","event":{"id":"'];
    const value = fc.array(fc.constantFrom(...pieces), { maxLength: 4 }).map((p) => p.join(''));
    // Mostly as JSON.stringify writes it; else with an escaped letter at the end.
    const spelled = fc.tuple(value, fc.integer({ min: 0, max: 4 })).map(([v, k]) => (k > 0 ? JSON.stringify(v) : `${JSON.stringify(v).slice(0, -1)}\\u0061"`));
    let fast = 0;
    let runs = 0;
    fc.assert(
      fc.property(spelled, spelled, spelled, (timestamp, id, summary) => {
        const text = `{"@timestamp":${timestamp},"event":{"id":${id},"dataset":"d"},"aegis":{"summary":${summary}}}`;
        const parsed = JSON.parse(text) as SiemEvent;
        const e = new StoredEvent(text);
        runs++;
        if (readHead(text) !== null) fast++;
        expect(eventIdOf(e), text).toBe(parsed.event.id);
        expect(e['@timestamp'], text).toBe(parsed['@timestamp']);
      }),
      { numRuns: 5_000, seed: 20261202 },
    );
    // Both paths were exercised.
    expect(fast).toBeGreaterThan(runs / 10);
    expect(fast).toBeLessThan(runs - runs / 10);
  });

  it('encodes to the same bytes as the parsed event for every preset and format', () => {
    const collide = { ...sampleEvent(3), message: 'an event field Datadog also sets', hostname: 'h' } as SiemEvent;
    const events: SiemEvent[] = [sampleEvent(1), sampleEvent(2, { dataset: 'aegis.audit_stream.test' }), apiEvent, trailEvent, collide];
    const texts = [
      ...events.map((e) => JSON.stringify(e)),
      // A payload another writer stored spaced out: parsed, and serialised as before.
      JSON.stringify(sampleEvent(4), null, 1),
    ];
    const now = () => Date.parse('2026-05-15T10:40:00Z');
    for (const id of SIEM_IDS) {
      const encoder = getEncoder(id);
      for (const format of ['ecs', 'ocsf'] as const) {
        const ctx: EncodeContext = {
          hostname: 'aegis-test',
          userAgent: 'ua',
          now,
          format,
          options: id === 'custom' ? { signingSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } : { index: 'main', source: 'src' },
        };
        const parsed = texts.map((t) => JSON.parse(t) as SiemEvent);
        const stored = texts.map((t) => new StoredEvent(t));
        const groups = encoder.maxBatchEvents === 1 ? texts.map((_, i) => [i]) : [texts.map((_, i) => i)];
        for (const g of groups) {
          const want = encoder.encode(
            g.map((i) => parsed[i]!),
            ctx,
          );
          const got = encoder.encode(
            g.map((i) => stored[i]!),
            ctx,
          );
          // Sentinel's request id is new for every request.
          const sameId = (r: typeof want) => ({ ...r, headers: { ...r.headers, 'x-ms-client-request-id': r.headers['x-ms-client-request-id'] && 'random' } });
          expect(sameId(got), `${id} ${format}`).toEqual(sameId(want));
        }
      }
    }
  });
});
