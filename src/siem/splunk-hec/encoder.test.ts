import { describe, expect, it } from 'vitest';
import { splunkHecEncoder, hecTime, describeSplunkError, SPLUNK_HEC_CODES } from './encoder.js';
import type { EncodeContext } from '../types.js';
import { epochMillis } from '../types.js';
import { sampleEvent } from '../testEvents.js';

const ctx: EncodeContext = { hostname: 'aegis-test', options: {}, userAgent: 'aegis-audit-stream/test' };

describe('Splunk HEC', () => {
  it('builds the envelope with time from @timestamp (microseconds truncated to ms)', () => {
    const e = sampleEvent(1, { timestamp: '2026-05-15T10:33:21.456789+00:00' });
    const env = JSON.parse(splunkHecEncoder.encode([e], { ...ctx, options: { index: 'security' } }).body);
    expect(env).toEqual({ time: 1778841201.456, host: 'aegis-test', source: 'aegis', sourcetype: 'aegis:audit', index: 'security', event: e });
    expect(splunkHecEncoder.encode([e], ctx).body).toContain('"time":1778841201.456,');
  });

  it('handles offsets, Z and missing fractions', () => {
    expect(hecTime('2026-05-15T12:33:21.456789+02:00')).toBe(1778841201.456);
    expect(hecTime('2026-05-15T10:33:21Z')).toBe(1778841201);
    expect(hecTime('2026-05-15T10:33:21.4Z')).toBe(1778841201.4);
    expect(epochMillis('2026-05-15T10:33:21.999999Z')).toBe(1778841201999);
  });

  it('omits index unless configured and concatenates envelopes without commas or brackets', () => {
    const body = splunkHecEncoder.encode([sampleEvent(1), sampleEvent(2)], ctx).body;
    expect(body.startsWith('{"time":')).toBe(true);
    expect(body).not.toContain('"index"');
    expect(body).toMatch(/}\n\{"time"/);
  });

  it('splits a partial batch on invalid-event-number: before N done, N failed, after N retry', () => {
    const events = [0, 1, 2, 3, 4].map((i) => sampleEvent(i));
    const v = splunkHecEncoder.interpret({ status: 400, body: '{"text":"Invalid data format","code":6,"invalid-event-number":2}', headers: {} }, events);
    expect(v.kind).toBe('per_item');
    if (v.kind !== 'per_item') return;
    expect(v.items.map((i) => i.outcome)).toEqual(['done', 'done', 'failed', 'retry', 'retry']);
    expect(v.items[2]!.error).toMatch(/event 2/);
  });

  it('dead-letters a single event Splunk cannot parse', () => {
    const v = splunkHecEncoder.interpret({ status: 400, body: '{"text":"Invalid data format","code":6,"invalid-event-number":0}', headers: {} }, [
      sampleEvent(0),
    ]);
    expect(v.kind === 'per_item' && v.items.map((i) => i.outcome)).toEqual(['failed']);
  });

  it('treats an out-of-range invalid-event-number as a whole-request failure', () => {
    const v = splunkHecEncoder.interpret({ status: 400, body: '{"text":"Invalid data format","code":6,"invalid-event-number":9}', headers: {} }, [
      sampleEvent(0),
      sampleEvent(1),
    ]);
    expect(v).toMatchObject({ kind: 'all', ok: false, retryable: true });
  });

  it('turns every HEC code 1-14 into a hint', () => {
    for (let code = 1; code <= 14; code++) {
      expect(SPLUNK_HEC_CODES[code]).toBeDefined();
      expect(describeSplunkError(400, JSON.stringify({ text: 'x', code }))).toContain(`code ${code}`);
    }
    expect(describeSplunkError(401, '{"text":"Invalid authorization","code":3}')).toContain(
      'Authentication failed: the token must be sent as "Splunk <token>" — check the Splunk prefix.',
    );
    expect(describeSplunkError(403, '{"text":"Token disabled","code":1}')).toMatch(/disabled/);
    expect(describeSplunkError(400, '{"text":"Incorrect index","code":7}')).toMatch(/allowed indexes/);
    expect(describeSplunkError(400, '{"text":"Data channel is missing","code":10}')).toMatch(/indexer acknowledgement/);
    expect(describeSplunkError(500, 'oops')).toBeUndefined();
    const v = splunkHecEncoder.interpret({ status: 401, body: '{"text":"Invalid authorization","code":3}', headers: {} }, [sampleEvent(1)]);
    expect(v).toMatchObject({ kind: 'all', ok: false, retryable: true });
    if (v.kind === 'all') expect(v.error).toMatch(/Splunk prefix/);
  });

  // A review's: a proxy or HEC-compatible receiver answering 200 with a HEC error had its events
  // counted delivered.
  it('sends again a 2xx whose answer names a HEC error; a 2xx of code 0, none, or no JSON is delivered', () => {
    const events = [sampleEvent(1), sampleEvent(2)];
    for (const body of ['{"text":"Invalid token","code":4}', '{"text":"Server is busy","code":9}', '{"text":"Incorrect index","code":7,"ackId":3}']) {
      const v = splunkHecEncoder.interpret({ status: 200, body, headers: {} }, events);
      expect(v, body).toMatchObject({ kind: 'all', ok: false, retryable: true });
      if (v.kind === 'all') expect(v.error).toMatch(/^the answer names an error, so its events are sent again: Splunk HEC code \d+ \(/);
    }
    for (const body of ['{"text":"Success","code":0}', '{"text":"Success","code":0,"ackId":7}', '', 'OK', '<html>ok</html>', '{"code":"4"}']) {
      expect(splunkHecEncoder.interpret({ status: 200, body, headers: {} }, events), body).toEqual({ kind: 'all', ok: true, retryable: false });
    }
  });
});
