import { describe, expect, it } from 'vitest';
import { DATADOG_ITEM_ATTRIBUTES, DATADOG_OCSF_ITEM_ATTRIBUTES, datadogEncoder, datadogStatus } from './encoder.js';
import type { EncodeContext } from '../types.js';
import { batchEvents } from '../types.js';
import { sampleEvent } from '../testEvents.js';
import { buildTrailEvent } from '../../trail/contract.js';
import { toOcsf } from '../../events/ocsf.js';
import { formatTimestamp, type WireEvent } from '../../events/contract.js';
import type { SiemEvent } from '../types.js';

const ctx: EncodeContext = { hostname: 'aegis-test', options: {}, userAgent: 'aegis-audit-stream/test' };

describe('Datadog', () => {
  it('adds ddsource, service, ddtags, hostname and message to the ECS object', () => {
    const e = sampleEvent(3);
    const [item] = JSON.parse(datadogEncoder.encode([e], ctx).body) as Array<Record<string, unknown>>;
    expect(item).toMatchObject({
      ...e,
      ddsource: 'aegis',
      service: 'aegis-audit-stream',
      ddtags: 'org_id:org_abc,dataset:aegis.preflight',
      hostname: 'aegis-test',
      message: e.aegis.summary,
    });
    expect(datadogEncoder.maxBatchEvents).toBe(1000);
    expect(datadogEncoder.maxBatchBytes).toBe(5_000_000);
  });

  // Regression: an OCSF item had no date attribute Datadog reads (timestamp, date, ...; OCSF's `time`
  // is not one), so each was stamped with its receive time; and Datadog's status remapper read the
  // OCSF status caption as the log level ("New" -> notice, "Failure" -> emergency).
  it("an OCSF item carries timestamp (epoch ms of @timestamp) and a status from severity_id, in place of OCSF's caption", () => {
    const ocsf: EncodeContext = { ...ctx, format: 'ocsf' };
    const e = sampleEvent(3, { timestamp: '2026-05-15T09:00:00.123456+00:00' });
    const body = datadogEncoder.encode([e], ocsf).body;
    const [item] = JSON.parse(body) as Array<Record<string, unknown>>;
    const object = toOcsf(e as unknown as WireEvent) as unknown as Record<string, unknown>;
    expect(item!.timestamp).toBe(Date.parse('2026-05-15T09:00:00.123Z'));
    expect(item!.timestamp).toBe(object.time);
    // ALLOWED_WITH_MASKING: severity_id 2 Low.
    expect(object.severity_id).toBe(2);
    expect(item!.status).toBe('notice');
    // Datadog's reserved attributes first, in the order Datadog's client writes them, then the OCSF
    // object without the keys those replace (message is the same summary; status_id keeps the status).
    const { message: _m, status: _s, ...rest } = object;
    expect(Object.keys(item!)).toEqual(['ddsource', 'ddtags', 'hostname', 'message', 'service', 'status', 'timestamp', ...Object.keys(rest)]);
    expect(item).toMatchObject({ ...rest, message: e.aegis.summary, status_id: 1 });
    expect([...DATADOG_OCSF_ITEM_ATTRIBUTES].sort()).toEqual([...DATADOG_ITEM_ATTRIBUTES, 'status'].sort());

    // A failed trail event (status "Failure") is not an emergency: its severity (1) says info.
    const failed = buildTrailEvent({
      orgId: 'org_abc',
      actor: { type: 'api_key', id: 'key_0123456789abcdef' },
      change: { action: 'test_sent', changedFields: [], destination: { id: 'fwd_a', siem: 'datadog' }, outcome: 'failure' },
      occurredAt: new Date('2026-11-30T09:00:00.250Z'),
    }) as unknown as SiemEvent;
    const [trail] = JSON.parse(datadogEncoder.encode([failed], ocsf).body) as Array<Record<string, unknown>>;
    expect(trail).toMatchObject({ class_uid: 3004, status_id: 2, severity_id: 1, status: 'info', timestamp: Date.parse('2026-11-30T09:00:00.250Z') });
    // ECS items: timestamp too (below), but no status (ECS has no status caption to replace).
    const [plain] = JSON.parse(datadogEncoder.encode([e], ctx).body) as Array<Record<string, unknown>>;
    expect(Object.keys(plain!)).toEqual(['ddsource', 'ddtags', 'hostname', 'message', 'service', 'timestamp', ...Object.keys(e)]);
  });

  // Regression: an ECS item (the default format) carried only the ECS @timestamp, which is not one of
  // Datadog's date attributes, so an event delivered late (a retry, a backlog after an outage, a
  // replay) was filed at its arrival time, outside the hour a search for the incident looks at.
  it('an ECS item carries timestamp: the epoch ms of its @timestamp, hours before it is sent', () => {
    const fiveHoursAgo = Date.now() - 5 * 3_600_000;
    const e = sampleEvent(4, { timestamp: formatTimestamp(new Date(fiveHoursAgo)) });
    const body = datadogEncoder.encode([e], ctx).body;
    const [item] = JSON.parse(body) as Array<Record<string, unknown>>;
    expect(item!.timestamp).toBe(fiveHoursAgo);
    // After Datadog's client's attributes, before the event (its additionalProperties), the event intact.
    expect(Object.keys(item!)).toEqual(['ddsource', 'ddtags', 'hostname', 'message', 'service', 'timestamp', ...Object.keys(e)]);
    expect(item).toMatchObject({ ...e, timestamp: fiveHoursAgo });
    // Microseconds past the millisecond are truncated, as in OCSF's time.
    const [micro] = JSON.parse(datadogEncoder.encode([sampleEvent(1)], ctx).body) as Array<Record<string, unknown>>;
    expect(micro!.timestamp).toBe(Date.parse('2026-05-15T10:33:01.456Z'));
  });

  // The item's attribute wins over an event's own `timestamp` (one key, never two: a JSON reader keeps
  // one of duplicate keys as it likes, and Datadog would date the log by whichever it kept).
  it("an ECS event's own timestamp key gives way to the item's, with no duplicate key", () => {
    const at = '2026-05-15T09:00:00.123456+00:00';
    const e = { ...sampleEvent(5, { timestamp: at }), timestamp: 'not the time' } as SiemEvent;
    const body = datadogEncoder.encode([e], ctx).body;
    expect(body.match(/"timestamp":/g)).toHaveLength(1);
    const [item] = JSON.parse(body) as Array<Record<string, unknown>>;
    expect(item!.timestamp).toBe(Date.parse('2026-05-15T09:00:00.123Z'));
    const { timestamp: _own, ...rest } = e as unknown as Record<string, unknown>;
    expect(Object.keys(item!)).toEqual(['ddsource', 'ddtags', 'hostname', 'message', 'service', 'timestamp', ...Object.keys(rest)]);
  });

  it('lists the attributes an item adds: ECS and OCSF both timestamp, OCSF also status', () => {
    expect([...DATADOG_ITEM_ATTRIBUTES].sort()).toEqual(['ddsource', 'ddtags', 'hostname', 'message', 'service', 'timestamp']);
    for (const format of [undefined, 'ocsf'] as const) {
      const [item] = JSON.parse(datadogEncoder.encode([sampleEvent(1)], { ...ctx, ...(format ? { format } : {}) }).body) as Array<Record<string, unknown>>;
      const listed = format ? DATADOG_OCSF_ITEM_ATTRIBUTES : DATADOG_ITEM_ATTRIBUTES;
      const n = listed.length;
      expect(Object.keys(item!).slice(0, n).sort()).toEqual([...listed].sort());
    }
  });

  it('status by OCSF severity_id: Datadog log levels, never a caption', () => {
    const levels = [0, 1, 2, 3, 4, 5, 6, 99, 7].map(datadogStatus);
    expect(levels).toEqual(['info', 'info', 'notice', 'warning', 'error', 'critical', 'emergency', 'info', 'info']);
  });

  it('splits 2500 events into batches of at most 1000', () => {
    const events = Array.from({ length: 2500 }, (_, i) => sampleEvent(i, { summary: 's' }));
    expect(batchEvents(events, datadogEncoder, ctx).map((b) => b.length)).toEqual([1000, 1000, 500]);
  });

  it('explains 401, 403 (wrong site, application key), 413 and error bodies', () => {
    expect(datadogEncoder.describeError!(401, '')).toMatch(/no API key/);
    const forbidden = datadogEncoder.describeError!(403, '{"errors":[{"status":"403","title":"Forbidden","detail":"API key is invalid"}]}');
    expect(forbidden).toMatch(/application key/);
    expect(forbidden).toMatch(/site/);
    expect(forbidden).toContain('Forbidden: API key is invalid');
    expect(datadogEncoder.describeError!(413, '')).toMatch(/5 MB/);
    expect(datadogEncoder.describeError!(400, '{"errors":["Invalid JSON"]}')).toContain('Invalid JSON');
    expect(datadogEncoder.describeError!(500, '')).toBeUndefined();
  });
});
