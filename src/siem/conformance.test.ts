import { describe, expect, it } from 'vitest';
import { SIEM_IDS, type SiemId } from './catalog.js';
import { getEncoder } from './registry.js';
import { batchEvents, byteLength, type EncodeContext, type SiemEvent } from './types.js';
import { sampleEvent } from './testEvents.js';
import { DATADOG_ITEM_ATTRIBUTES } from './datadog/encoder.js';

const ctx: EncodeContext = { hostname: 'aegis-test', options: {}, userAgent: 'aegis-audit-stream/test' };

/** Parse a body back the way the SIEM would and return the ECS objects it carries. */
function decode(siem: SiemId, body: string): SiemEvent[] {
  switch (siem) {
    case 'splunk_hec': {
      // HEC reads concatenated JSON objects; split on object boundaries with a streaming scan.
      const out: SiemEvent[] = [];
      let depth = 0;
      let start = -1;
      let inString = false;
      let escaped = false;
      for (let i = 0; i < body.length; i++) {
        const c = body[i];
        if (inString) {
          if (escaped) escaped = false;
          else if (c === '\\') escaped = true;
          else if (c === '"') inString = false;
          continue;
        }
        if (c === '"') inString = true;
        else if (c === '{') {
          if (depth === 0) start = i;
          depth++;
        } else if (c === '}') {
          depth--;
          if (depth === 0) out.push((JSON.parse(body.slice(start, i + 1)) as { event: SiemEvent }).event);
        }
      }
      expect(depth).toBe(0);
      return out;
    }
    case 'sumo_logic':
      expect(body.endsWith('\n')).toBe(true);
      return body
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as SiemEvent);
    case 'elastic': {
      expect(body.endsWith('\n')).toBe(true);
      const lines = body.split('\n').filter((l) => l !== '');
      expect(lines.length % 2).toBe(0);
      const out: SiemEvent[] = [];
      for (let i = 0; i < lines.length; i += 2) {
        const action = JSON.parse(lines[i]!) as { create: { _id: string } };
        const doc = JSON.parse(lines[i + 1]!) as SiemEvent;
        expect(action.create._id).toBe(doc.event.id);
        out.push(doc);
      }
      return out;
    }
    case 'datadog': {
      const items = JSON.parse(body) as Array<Record<string, unknown>>;
      // The item is the event plus the attributes the encoder lists as its own.
      return items.map((item) => {
        const rest = { ...item };
        for (const k of DATADOG_ITEM_ATTRIBUTES) delete rest[k];
        return rest as unknown as SiemEvent;
      });
    }
    case 'new_relic': {
      const payload = JSON.parse(body) as Array<{ logs: Array<{ attributes: SiemEvent }> }>;
      expect(payload).toHaveLength(1);
      return payload[0]!.logs.map((l) => l.attributes);
    }
    case 'microsoft_sentinel': {
      // TimeGenerated is the event's @timestamp; every other column is the event's own field.
      const records = JSON.parse(body) as Array<Record<string, unknown>>;
      return records.map(({ TimeGenerated, ...rest }) => ({ '@timestamp': TimeGenerated, ...rest }) as unknown as SiemEvent);
    }
    case 'custom':
      return [JSON.parse(body) as SiemEvent];
  }
}

describe.each(SIEM_IDS.map((id) => [id]))('preset %s conformance', (siem) => {
  const encoder = getEncoder(siem);

  it('has the registry id', () => {
    expect(encoder.id).toBe(siem);
  });

  it('round-trips every event intact, with every event.id in the body', () => {
    const events = Array.from({ length: siem === 'custom' ? 1 : 25 }, (_, i) => sampleEvent(i));
    const req = encoder.encode(events, ctx);
    expect(decode(siem, req.body)).toEqual(events);
    expect(req.eventIds).toEqual(events.map((e) => e.event.id));
    for (const e of events) expect(req.body).toContain(JSON.stringify(e.event.id));
    expect(req.contentType).toMatch(/^application\/(json|x-ndjson)$/);
    for (const [name, value] of Object.entries(req.headers)) {
      expect(name).not.toMatch(/^authorization$/i);
      expect(value).not.toMatch(/[\r\n]/);
    }
  });

  it('batchEvents respects maxBatchEvents and maxBatchBytes with large events', () => {
    // A seventh of the byte limit each: at most six fit a request, so 16 make three byte-bound batches.
    const big = 'x'.repeat(Math.floor(encoder.maxBatchBytes / 7));
    const events = Array.from({ length: 16 }, (_, i) => sampleEvent(i, { summary: `${big}${i}` }));
    const batches = batchEvents(events, encoder, ctx);
    expect(batches.flat()).toEqual(events);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(encoder.maxBatchEvents);
      const bytes = byteLength(encoder.encode(batch, ctx).body);
      if (batch.length > 1) expect(bytes).toBeLessThanOrEqual(encoder.maxBatchBytes);
    }
    if (encoder.maxBatchEvents > 1) expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThan(1);
  });

  it('batchEvents respects maxBatchEvents with many small events', () => {
    const events = Array.from({ length: Math.min(encoder.maxBatchEvents * 2 + 3, 2003) }, (_, i) => sampleEvent(i, { summary: 's' }));
    const batches = batchEvents(events, encoder, ctx);
    expect(batches.flat()).toEqual(events);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(encoder.maxBatchEvents);
      expect(byteLength(encoder.encode(batch, ctx).body)).toBeLessThanOrEqual(encoder.maxBatchBytes);
    }
  });

  it('sends an event larger than the byte limit alone', () => {
    const events = [sampleEvent(1), sampleEvent(2, { summary: 'y'.repeat(encoder.maxBatchBytes + 10) }), sampleEvent(3)];
    const batches = batchEvents(events, encoder, ctx);
    expect(batches.flat()).toEqual(events);
    expect(batches.find((b) => b.includes(events[1]!))).toHaveLength(1);
  });

  it('interprets 2xx as success and 5xx as retryable', () => {
    const events = [sampleEvent(1)];
    for (const status of [200, 201, 202, 204]) {
      const body = siem === 'elastic' ? '{"errors":false,"items":[{"create":{"status":201}}]}' : siem === 'splunk_hec' ? '{"text":"Success","code":0}' : '';
      expect(encoder.interpret({ status, body, headers: {} }, events)).toEqual({ kind: 'all', ok: true, retryable: false });
    }
    for (const status of [500, 502, 503, 504]) {
      const v = encoder.interpret({ status, body: 'upstream trouble', headers: {} }, events);
      expect(v.kind).toBe('all');
      if (v.kind === 'all') {
        expect(v.ok).toBe(false);
        expect(v.retryable).toBe(true);
        expect(v.error).toBeTruthy();
      }
    }
  });

  it('treats other non-2xx answers (including 3xx and 4xx) as failures', () => {
    for (const status of [301, 400, 401, 403, 404, 413, 429]) {
      const v = encoder.interpret({ status, body: '', headers: {} }, [sampleEvent(1)]);
      expect(v.kind === 'all' && !v.ok).toBe(true);
    }
  });
});
