import { describe, expect, it } from 'vitest';
import { microsoftSentinelEncoder, SENTINEL_COLUMNS } from './encoder.js';
import type { EncodeContext } from '../types.js';
import { sampleEvent } from '../testEvents.js';

const ctx: EncodeContext = { hostname: 'aegis-test', options: {}, userAgent: 'aegis-audit-stream/test' };

describe('Microsoft Sentinel', () => {
  it('sends a JSON array of records: TimeGenerated (the event time as written), then the event fields but @timestamp', () => {
    const e = sampleEvent(3, { timestamp: '2026-05-15T10:33:21.456789+00:00' });
    const req = microsoftSentinelEncoder.encode([e, sampleEvent(4)], ctx);
    const records = JSON.parse(req.body) as Array<Record<string, unknown>>;
    expect(records).toHaveLength(2);
    const { '@timestamp': _t, ...rest } = e;
    expect(records[0]).toEqual({ TimeGenerated: '2026-05-15T10:33:21.456789+00:00', ...rest });
    expect(Object.keys(records[0]!)).toEqual(SENTINEL_COLUMNS.map((c) => c.name));
    expect(req.eventIds).toEqual(['pflt_000003', 'pflt_000004']);
    expect(req.headers['x-ms-client-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(microsoftSentinelEncoder.gzip).toBe(true);
  });

  it('refuses an event whose @timestamp no datetime column takes (dead-lettered alone)', () => {
    expect(() => microsoftSentinelEncoder.encode([sampleEvent(1, { timestamp: 'yesterday' })], ctx)).toThrow(/invalid @timestamp/);
  });

  it('says what Azure Monitor answers mean, with its own code and message', () => {
    const verdict = microsoftSentinelEncoder.interpret(
      { status: 403, body: '{"error":{"code":"OperationFailed","message":"The authentication token provided does not have access"}}', headers: {} },
      [],
    );
    expect(verdict).toMatchObject({ kind: 'all', ok: false, retryable: true });
    expect(verdict.kind === 'all' ? verdict.error : '').toMatch(/Monitoring Metrics Publisher.*OperationFailed/);
    expect(microsoftSentinelEncoder.describeError!(404, '')).toMatch(/immutable id/);
    expect(microsoftSentinelEncoder.interpret({ status: 204, body: '', headers: {} }, [])).toEqual({ kind: 'all', ok: true, retryable: false });
  });
});
