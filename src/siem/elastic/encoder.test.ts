import { describe, expect, it } from 'vitest';
import { elasticEncoder } from './encoder.js';
import { elasticDefaultIndex } from './form.js';
import type { EncodeContext } from '../types.js';
import { sampleEvent } from '../testEvents.js';

const ctx: EncodeContext = { hostname: 'aegis-test', options: {}, userAgent: 'aegis-audit-stream/test' };

describe('Elastic', () => {
  it('writes create actions keyed by event.id into the default data stream, NDJSON with a final newline', () => {
    const e = sampleEvent(7);
    const req = elasticEncoder.encode([e], ctx);
    expect(req.contentType).toBe('application/x-ndjson');
    expect(req.body).toBe(`{"create":{"_index":"logs-${e.event.dataset}-default","_id":"pflt_000007"}}\n${JSON.stringify(e)}\n`);
    expect(e.event.dataset).toBe('aegis.preflight');
    expect(elasticEncoder.encode([e], { ...ctx, options: { index: 'logs-aegis.audit-prod' } }).body).toContain('"_index":"logs-aegis.audit-prod"');
    // The test event has its own dataset, hence its own data stream; a dataset no data stream name
    // allows cannot pick another stream (or break out of the name).
    const test = { ...e, event: { ...e.event, dataset: 'aegis.audit_stream.test' } };
    expect(elasticEncoder.encode([test], ctx).body).toContain('"_index":"logs-aegis.audit_stream.test-default"');
    expect(elasticDefaultIndex('Aegis-X/../*')).toBe('logs-aegis_x_..__-default');
  });

  // Regression: the client reads a capped prefix of the answer, so a 1,000-item _bulk answer arrives cut
  // off; it used to parse as "not errors:true" and count every item as delivered.
  it('never counts a cut-off answer as delivered unless its prefix says errors:false', () => {
    const events = [0, 1, 2].map((i) => sampleEvent(i));
    const items = events.map((e) => ({ create: { _id: e.event.id, status: 429, error: { type: 'es_rejected_execution_exception' } } }));
    const full = JSON.stringify({ took: 3, errors: true, items });
    const cut = elasticEncoder.interpret({ status: 200, body: full.slice(0, full.length - 20), headers: {} }, events);
    expect(cut).toMatchObject({ kind: 'all', ok: false, retryable: true });
    const okFull = JSON.stringify({ took: 3, errors: false, items: events.map((e) => ({ create: { _id: e.event.id, status: 201 } })) });
    expect(elasticEncoder.interpret({ status: 200, body: okFull.slice(0, 40), headers: {} }, events)).toMatchObject({ kind: 'all', ok: true });
    expect(elasticEncoder.interpret({ status: 200, body: 'not json', headers: {} }, events)).toMatchObject({ kind: 'all', ok: false, retryable: true });
  });

  it('settles a 201/409/429/400/503 mix per item', () => {
    const events = [0, 1, 2, 3, 4].map((i) => sampleEvent(i));
    const body = JSON.stringify({
      took: 3,
      errors: true,
      items: [
        { create: { _id: 'pflt_000000', status: 201, result: 'created' } },
        { create: { _id: 'pflt_000001', status: 409, error: { type: 'version_conflict_engine_exception', reason: 'document already exists' } } },
        { create: { _id: 'pflt_000002', status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution' } } },
        {
          create: { _id: 'pflt_000003', status: 400, error: { type: 'document_parsing_exception', reason: 'failed to parse field [aegis.input_size_bytes]' } },
        },
        { create: { _id: 'pflt_000004', status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary shard is not active' } } },
      ],
    });
    const v = elasticEncoder.interpret({ status: 200, body, headers: {} }, events);
    expect(v.kind).toBe('per_item');
    if (v.kind !== 'per_item') return;
    expect(v.items.map((i) => i.outcome)).toEqual(['done', 'done', 'retry', 'failed', 'retry']);
    expect(v.items[3]!.error).toContain('document_parsing_exception: failed to parse field [aegis.input_size_bytes]');
  });

  it('errors:false is all done; whole-request errors carry a hint naming the privilege', () => {
    expect(elasticEncoder.interpret({ status: 200, body: '{"errors":false,"items":[]}', headers: {} }, [sampleEvent(1)])).toEqual({
      kind: 'all',
      ok: true,
      retryable: false,
    });
    const body = JSON.stringify({
      error: {
        root_cause: [{ type: 'security_exception', reason: 'action [indices:data/write/bulk[s]] is unauthorized for API key id [abc]' }],
        type: 'security_exception',
      },
      status: 403,
    });
    const v = elasticEncoder.interpret({ status: 403, body, headers: {} }, [sampleEvent(1)]);
    expect(v.kind === 'all' && v.error).toMatch(/create_doc/);
    expect(elasticEncoder.describeError!(401, '{"error":{"type":"security_exception","reason":"unable to authenticate"}}')).toMatch(/Authentication failed/);
    expect(elasticEncoder.describeError!(404, '')).toMatch(/_bulk/);
    expect(elasticEncoder.describeError!(413, '')).toMatch(/max_content_length/);
    expect(elasticEncoder.describeError!(429, '')).toMatch(/Aegis will retry\.$/);
  });

  it('retries the batch when the per-item answer does not line up', () => {
    const v = elasticEncoder.interpret({ status: 200, body: '{"errors":true,"items":[]}', headers: {} }, [sampleEvent(1)]);
    expect(v).toMatchObject({ kind: 'all', ok: false, retryable: true });
  });
});
