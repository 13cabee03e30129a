import { describe, expect, it } from 'vitest';
import { splunkHecEncoder, hecTime, describeSplunkError, SPLUNK_HEC_CODES } from './splunkHec.js';
import { elasticEncoder } from './elastic.js';
import { elasticDefaultIndex } from './catalog.js';
import { datadogEncoder } from './datadog.js';
import { newRelicEncoder } from './newRelic.js';
import { sumoLogicEncoder } from './sumoLogic.js';
import { customEncoder } from './custom.js';
import { getEncoder } from './registry.js';
import type { EncodeContext } from './types.js';
import { batchEvents, epochMillis } from './types.js';
import { sampleEvent } from './testEvents.js';
import { Webhook } from 'standardwebhooks';

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
    const v = splunkHecEncoder.interpret(
      { status: 400, body: '{"text":"Invalid data format","code":6,"invalid-event-number":2}', headers: {} },
      events,
    );
    expect(v.kind).toBe('per_item');
    if (v.kind !== 'per_item') return;
    expect(v.items.map((i) => i.outcome)).toEqual(['done', 'done', 'failed', 'retry', 'retry']);
    expect(v.items[2]!.error).toMatch(/event 2/);
  });

  it('dead-letters a single event Splunk cannot parse', () => {
    const v = splunkHecEncoder.interpret(
      { status: 400, body: '{"text":"Invalid data format","code":6,"invalid-event-number":0}', headers: {} },
      [sampleEvent(0)],
    );
    expect(v.kind === 'per_item' && v.items.map((i) => i.outcome)).toEqual(['failed']);
  });

  it('treats an out-of-range invalid-event-number as a whole-request failure', () => {
    const v = splunkHecEncoder.interpret(
      { status: 400, body: '{"text":"Invalid data format","code":6,"invalid-event-number":9}', headers: {} },
      [sampleEvent(0), sampleEvent(1)],
    );
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
});

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
        { create: { _id: 'pflt_000003', status: 400, error: { type: 'document_parsing_exception', reason: 'failed to parse field [aegis.input_size_bytes]' } } },
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
      error: { root_cause: [{ type: 'security_exception', reason: 'action [indices:data/write/bulk[s]] is unauthorized for API key id [abc]' }], type: 'security_exception' },
      status: 403,
    });
    const v = elasticEncoder.interpret({ status: 403, body, headers: {} }, [sampleEvent(1)]);
    expect(v.kind === 'all' && v.error).toMatch(/create_doc/);
    expect(elasticEncoder.describeError!(401, '{"error":{"type":"security_exception","reason":"unable to authenticate"}}')).toMatch(/Authentication failed/);
    expect(elasticEncoder.describeError!(404, '')).toMatch(/_bulk/);
    expect(elasticEncoder.describeError!(413, '')).toMatch(/max_content_length/);
    expect(elasticEncoder.describeError!(429, '')).toMatch(/retries/);
  });

  it('retries the batch when the per-item answer does not line up', () => {
    const v = elasticEncoder.interpret({ status: 200, body: '{"errors":true,"items":[]}', headers: {} }, [sampleEvent(1)]);
    expect(v).toMatchObject({ kind: 'all', ok: false, retryable: true });
  });
});

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

describe('event age windows', () => {
  // Replay leaves dead letters older than these windows in place (src/queue/deadLetters.ts).
  it('declares Datadog 18 h and New Relic 48 h, and no window for the others', () => {
    expect(datadogEncoder.maxEventAgeMs).toBe(18 * 3_600_000);
    expect(newRelicEncoder.maxEventAgeMs).toBe(48 * 3_600_000);
    expect(splunkHecEncoder.maxEventAgeMs).toBeUndefined();
  });
});

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

describe('Sumo Logic', () => {
  it('sends compact NDJSON and the optional X-Sumo headers, dropping unsafe values', () => {
    const req = sumoLogicEncoder.encode([sampleEvent(1), sampleEvent(2)], {
      ...ctx,
      options: { category: 'security/aegis', sourceName: 'aegis', sourceHost: 'aegis-1', fields: { env: 'prod', team: 'sec' } },
    });
    expect(req.body.split('\n')).toHaveLength(3);
    expect(req.body).not.toMatch(/\n\s+"/);
    expect(req.headers).toEqual({
      'X-Sumo-Category': 'security/aegis',
      'X-Sumo-Name': 'aegis',
      'X-Sumo-Host': 'aegis-1',
      'X-Sumo-Fields': 'env=prod,team=sec',
    });
    const bad = sumoLogicEncoder.encode([sampleEvent(1)], { ...ctx, options: { category: 'a\r\nX-Evil: 1' } });
    expect(bad.headers).toEqual({});
    expect(sumoLogicEncoder.describeError!(401, '')).toMatch(/URL/);
  });
});

describe('custom webhook', () => {
  it('posts one plain object with Idempotency-Key', () => {
    const e = sampleEvent(5);
    const req = customEncoder.encode([e], ctx);
    expect(JSON.parse(req.body)).toEqual(e);
    expect(req.headers).toEqual({ 'Idempotency-Key': 'pflt_000005' });
    expect(req.contentType).toBe('application/json');
    expect(customEncoder.maxBatchEvents).toBe(1);
    expect(() => customEncoder.encode([e, e], ctx)).toThrow();
  });

  it('signs with Standard Webhooks when a signing secret is configured, verifiable by the standardwebhooks package', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const now = Date.now();
    const e = sampleEvent(5);
    const req = customEncoder.encode([e], { ...ctx, options: { signingSecret: secret }, now: () => now });
    expect(req.headers['webhook-id']).toBe('pflt_000005');
    expect(req.headers['webhook-timestamp']).toBe(String(Math.floor(now / 1000)));
    expect(new Webhook(secret).verify(req.body, req.headers)).toEqual(e);
  });
});

describe('registry', () => {
  it('returns each preset encoder', () => {
    expect(getEncoder('splunk_hec')).toBe(splunkHecEncoder);
    expect(getEncoder('custom')).toBe(customEncoder);
    expect(() => getEncoder('nope' as never)).toThrow(/unknown SIEM preset/);
  });
});
