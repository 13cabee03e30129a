import { describe, expect, it } from 'vitest';
import { newRelicEncoder } from './encoder.js';
import type { EncodeContext } from '../types.js';
import { sampleEvent } from '../testEvents.js';

const ctx: EncodeContext = { hostname: 'aegis-test', options: {}, userAgent: 'aegis-audit-stream/test' };

describe('New Relic', () => {
  it('wraps events in the detailed envelope with epoch-ms timestamps', () => {
    const e = sampleEvent(1, { timestamp: '2026-05-15T10:33:21.456789+00:00' });
    const payload = JSON.parse(newRelicEncoder.encode([e], ctx).body);
    expect(payload).toEqual([
      {
        common: { attributes: { service: 'aegis-audit-stream', logtype: 'aegis.audit' } },
        logs: [{ timestamp: 1778841201456, message: e.aegis.summary, attributes: e }],
      },
    ]);
    expect(newRelicEncoder.maxBatchBytes).toBe(1_000_000);
    expect(newRelicEncoder.describeError!(403, '')).toMatch(/LICENSE key/);
  });
});
