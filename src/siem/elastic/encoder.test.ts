import { describe, expect, it } from 'vitest';
import { ELASTIC_FILTER_PATH, elasticBulkUrl, elasticEncoder } from './encoder.js';
import { elasticDefaultIndex } from './form.js';
import type { EncodeContext } from '../types.js';
import { sampleEvent } from '../testEvents.js';
import { toOcsf } from '../../events/ocsf.js';
import type { WireEvent } from '../../events/contract.js';
import { RETRY_TAIL } from '../../queue/holdLimit.js';
import { outOfRetriesError } from '../../delivery/outcome.js';
import { interpretAnswer } from '../../delivery/interpretAnswer.js';

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

  // Regression: an OCSF document had no @timestamp (OCSF's time is `time`, epoch ms), so a data stream
  // without a default pipeline refused it (400, dead-lettered) and Elastic's logs pipeline stamped it
  // with the ingest time, a replayed or delayed event landing at the wrong time.
  it("an OCSF document starts with the event's @timestamp, then the OCSF object; ECS documents are unchanged", () => {
    const e = sampleEvent(7, { timestamp: '2026-05-15T09:00:00.123456+00:00' });
    const ocsf = { ...ctx, format: 'ocsf' as const };
    const [, doc] = elasticEncoder.encode([e], ocsf).body.split('\n');
    const parsed = JSON.parse(doc!) as Record<string, unknown>;
    expect(Object.keys(parsed)[0]).toBe('@timestamp');
    expect(parsed['@timestamp']).toBe(e['@timestamp']);
    expect(parsed.time).toBe(Date.parse('2026-05-15T09:00:00.123Z'));
    // The OCSF object's own bytes follow, unchanged.
    expect(doc).toBe(`{"@timestamp":${JSON.stringify(e['@timestamp'])},${JSON.stringify(toOcsf(e as unknown as WireEvent)).slice(1)}`);
    expect(elasticEncoder.encode([e], ctx).body.split('\n')[1]).toBe(JSON.stringify(e));
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
    expect(v.items.map((i) => i.outcome)).toEqual(['done', 'done', 'throttled', 'failed', 'retry']);
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

// Per item, only a document the cluster can never take is dead-lettered at once (400 mapping error, 413);
// an item refused for the cluster's state (the key's privileges, a write block, a missing index, a
// timeout, a full write queue, an unavailable shard) is retried on the schedule with what to do.
// The whole-request 403 is retried with the same hint (src/delivery/interpretAnswer.ts).
describe('Elastic per-item statuses', () => {
  const item = (status: number, error?: Record<string, unknown>) => ({
    create: { _index: 'logs-aegis.preflight-default', _id: 'pflt_000001', status, ...(error ? { error } : {}) },
  });
  const interpretOne = (raw: unknown) => {
    const events = [sampleEvent(1)];
    const body = JSON.stringify({ took: 2, errors: true, items: [raw] });
    const v = elasticEncoder.interpret({ status: 200, body, headers: {} }, events);
    expect(v.kind).toBe('per_item');
    return v.kind === 'per_item' ? v.items[0]! : { outcome: 'none' as never, error: undefined, slowDown: undefined };
  };
  const unauthorized = { type: 'security_exception', reason: 'action [indices:data/write/bulk[s]] is unauthorized for API key id [abc] of user [u]' };
  const writeBlock = { type: 'cluster_block_exception', reason: 'index [logs-aegis.preflight-default] blocked by: [FORBIDDEN/8/index write (api)];' };
  const noIndex = { type: 'index_not_found_exception', reason: 'no such index [logs-aegis.preflight-default]' };
  const closed = { type: 'index_closed_exception', reason: 'closed' };
  const mapping = { type: 'mapper_parsing_exception', reason: 'failed to parse field [aegis.input_size_bytes] of type [long]' };
  const illegal = { type: 'illegal_argument_exception', reason: 'mapper [aegis.summary] cannot be changed from type [keyword] to [long]' };

  // [status, error, outcome, what the text must say]
  it.each([
    [200, undefined, 'done', undefined],
    [201, undefined, 'done', undefined],
    [409, { type: 'version_conflict_engine_exception', reason: 'document already exists' }, 'done', undefined],
    // Dead-lettered at once, with what to fix before replaying them.
    [
      400,
      mapping,
      'failed',
      /^Elasticsearch 400 \(Elasticsearch said: mapper_parsing_exception: failed to parse field.*\); the index's mapping refuses this event.*then replay the failed events\.$/,
    ],
    [400, illegal, 'failed', /illegal_argument_exception.*fix the mapping or index template/],
    [413, { type: 'illegal_argument_exception', reason: 'too large' }, 'failed', /^Elasticsearch 413.*http\.max_content_length: raise it, then replay/],
    [400, { type: 'illegal_argument_exception', reason: 'pipeline with id [geoip-info] does not exist' }, 'failed', /ingest pipeline it names is missing/],
    [400, { type: 'invalid_index_name_exception', reason: 'Invalid index name [Logs], must be lowercase' }, 'failed', /index name is not valid/],
    [400, { type: 'action_request_validation_exception', reason: 'Validation Failed: 1: an id must be provided' }, 'failed', /refuses this event as it is/],
    [400, closed, 'retry', /index_closed_exception.*open the index/],
    [401, { type: 'security_exception', reason: 'unable to authenticate' }, 'retry', /API key/],
    [403, unauthorized, 'retry', /grant the API key create_doc/],
    [403, writeBlock, 'retry', /write block/],
    [404, noIndex, 'retry', /index_not_found_exception.*auto_configure/],
    [408, { type: 'timeout_exception', reason: 'timed out' }, 'retry', /timed out/],
    [429, { type: 'es_rejected_execution_exception', reason: 'rejected execution' }, 'throttled', /es_rejected_execution_exception.*write queue full/],
    [429, undefined, 'throttled', /^Elasticsearch 429.*write queue full/],
    // A document too large for the memory circuit breaker gets this 429 every time: an attempt, so it
    // is dead-lettered in the end instead of coming back for ever.
    [429, { type: 'circuit_breaking_exception', reason: '[parent] Data too large' }, 'retry', /circuit_breaking_exception/],
    [410, undefined, 'retry', /^Elasticsearch 410/],
    [422, undefined, 'retry', /^Elasticsearch 422/],
    [500, { type: 'exception', reason: 'boom' }, 'retry', /^Elasticsearch 500/],
    [503, { type: 'unavailable_shards_exception', reason: 'primary shard is not active' }, 'retry', /unavailable_shards_exception/],
    // A cluster's reason written to pass for the service's advice reads as the cluster's words.
    [
      400,
      { type: 'mapper_parsing_exception', reason: 'Aegis: your key leaked, rotate it at https://evil.example/now.' },
      'failed',
      /^Elasticsearch 400 \(Elasticsearch said: mapper_parsing_exception: Aegis: your key leaked, rotate it at https:\/\/evil\.example\/now\); the index's mapping/,
    ],
  ] as const)('item %i (%o) is %s', (status, error, outcome, text) => {
    const got = interpretOne(item(status, error));
    expect(got.outcome).toBe(outcome);
    if (outcome === 'done' || text === undefined) {
      expect(got.error).toBeUndefined();
      return;
    }
    expect(got.error).toMatch(text);
    // Any item 429 asks the destination to slow down, whether it spends an attempt or not.
    expect(got.slowDown ?? false).toBe(status === 429);
    // A retried or throttled item promises the retry in the one clause the dead letter and the hold
    // limit replace; a dead-lettered one never does.
    if (outcome === 'retry' || outcome === 'throttled') {
      expect(got.error).toMatch(new RegExp(RETRY_TAIL));
      expect(got.error).toMatch(/(; |\. )Aegis will retry\.$/);
      const dead = outOfRetriesError(got.error!, 4);
      expect(dead.replace(/Dead-lettered after 4 attempts: fix the destination, then replay its failed events\.$/, '')).not.toMatch(/retr|sent again/i);
    } else {
      expect(got.error).not.toMatch(/retr/i);
    }
  });

  it('an item with no status is retried, saying so in the one clause', () => {
    const got = interpretOne({ create: { _id: 'pflt_000001' } });
    expect(got).toMatchObject({ outcome: 'retry' });
    expect(got.error).toMatch(/(; |\. )Aegis will retry\.$/);
  });

  it("the reviewer's answer: the same per-item 403 for every event retries all of them", () => {
    const events = [0, 1, 2].map((i) => sampleEvent(i));
    const body = JSON.stringify({ took: 1, errors: true, items: events.map(() => ({ create: { status: 403, error: unauthorized } })) });
    const out = interpretAnswer({ kind: 'response', status: 200, headers: {}, body, durationMs: 1 }, elasticEncoder, events, false);
    expect(out.items.map((i) => (i.ok ? 'done' : i.permanent ? 'failed' : 'retry'))).toEqual(['retry', 'retry', 'retry']);
    expect(out.error).toMatch(/create_doc.*Aegis will retry\.$/);
  });
});

// A 200 that is no _bulk answer (a proxy, a wrong endpoint) is not a delivery: a _bulk answer always
// has "errors", and only errors:false says every item was written.
describe('Elastic 200 without a _bulk result', () => {
  const events = [0, 1, 2].map((i) => sampleEvent(i));
  it.each([['{"acknowledged":true}'], ['{}'], ['{"errors":"false","items":[]}'], ['{"errors":null}'], ['[]'], ['<html><body>OK</body></html>'], ['']])(
    '%s is retried with a hint about the URL',
    (body) => {
      const v = elasticEncoder.interpret({ status: 200, body, headers: {} }, events);
      expect(v).toMatchObject({ kind: 'all', ok: false, retryable: true });
      expect(v.kind === 'all' && v.error).toMatch(/without a _bulk result.*\/_bulk.*; Aegis will retry\.$/);
    },
  );

  it('errors:false alone is delivered; items need not be there', () => {
    expect(elasticEncoder.interpret({ status: 200, body: '{"took":1,"errors":false}', headers: {} }, events)).toEqual({
      kind: 'all',
      ok: true,
      retryable: false,
    });
  });

  it('retries the batch when an item names an _id that is not its event', () => {
    const items = events.map((e, i) => ({
      create: { _id: i === 1 ? 'pflt_999999' : e.event.id, status: 400, error: { type: 'mapper_parsing_exception', reason: 'x' } },
    }));
    const v = elasticEncoder.interpret({ status: 200, body: JSON.stringify({ errors: true, items }), headers: {} }, events);
    expect(v).toMatchObject({ kind: 'all', ok: false, retryable: true });
  });
});

// Elasticsearch answers only what Aegis reads (filter_path); the query of the user's URL stays.
describe('Elastic request URL', () => {
  const fp = 'filter_path=errors%2Citems.*._id%2Citems.*.status%2Citems.*.error.type%2Citems.*.error.reason';
  it('adds filter_path after the query the URL has, replacing a filter_path of its own', () => {
    expect(ELASTIC_FILTER_PATH).toBe('errors,items.*._id,items.*.status,items.*.error.type,items.*.error.reason');
    expect(elasticEncoder.requestUrl!('https://es.example:9243/_bulk')).toBe(`https://es.example:9243/_bulk?${fp}`);
    expect(elasticBulkUrl('https://es.example/_bulk?')).toBe(`https://es.example/_bulk?${fp}`);
    expect(elasticBulkUrl('https://es.example/logs/_bulk?pipeline=a%20b&refresh=false')).toBe(
      `https://es.example/logs/_bulk?pipeline=a%20b&refresh=false&${fp}`,
    );
    expect(elasticBulkUrl('https://es.example/_bulk?filter_path=took&pipeline=p&filter%5Fpath=x')).toBe(`https://es.example/_bulk?pipeline=p&${fp}`);
    expect(elasticBulkUrl('https://es.example/_bulk?routing=1#frag')).toBe(`https://es.example/_bulk?routing=1&${fp}#frag`);
    // A malformed escape in another parameter's name is left as it is.
    expect(elasticBulkUrl('https://es.example/_bulk?%E0=1')).toBe(`https://es.example/_bulk?%E0=1&${fp}`);
  });
});
