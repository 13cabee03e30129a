import { describe, expect, it } from 'vitest';
import { DATADOG_ITEM_ATTRIBUTES, DATADOG_OCSF_ITEM_ATTRIBUTES, datadogEncoder, datadogStatus } from './encoder.js';
import type { EncodeContext } from '../types.js';
import { batchEvents } from '../types.js';
import { sampleEvent } from '../testEvents.js';
import { buildTrailEvent } from '../../trail/contract.js';
import { toOcsf } from '../../events/ocsf.js';
import type { WireEvent } from '../../events/contract.js';
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
    expect(DATADOG_OCSF_ITEM_ATTRIBUTES).toEqual([...DATADOG_ITEM_ATTRIBUTES, 'status', 'timestamp']);

    // A failed trail event (status "Failure") is not an emergency: its severity (1) says info.
    const failed = buildTrailEvent({
      orgId: 'org_abc',
      actor: { type: 'api_key', id: 'key_0123456789abcdef' },
      change: { action: 'test_sent', changedFields: [], destination: { id: 'fwd_a', siem: 'datadog' }, outcome: 'failure' },
      occurredAt: new Date('2026-11-30T09:00:00.250Z'),
    }) as unknown as SiemEvent;
    const [trail] = JSON.parse(datadogEncoder.encode([failed], ocsf).body) as Array<Record<string, unknown>>;
    expect(trail).toMatchObject({ class_uid: 3004, status_id: 2, severity_id: 1, status: 'info', timestamp: Date.parse('2026-11-30T09:00:00.250Z') });
    // ECS items: unchanged (no timestamp or status added).
    const [plain] = JSON.parse(datadogEncoder.encode([e], ctx).body) as Array<Record<string, unknown>>;
    expect(Object.keys(plain!)).toEqual([...['ddsource', 'ddtags', 'hostname', 'message', 'service'], ...Object.keys(e)]);
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
