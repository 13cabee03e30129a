import { describe, expect, it } from 'vitest';
import { datadogEncoder } from './encoder.js';
import type { EncodeContext } from '../types.js';
import { batchEvents } from '../types.js';
import { sampleEvent } from '../testEvents.js';

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
