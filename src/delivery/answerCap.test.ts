import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, TEST_CA_PEM, type Receiver } from '../../test/support/httpsReceiver.js';
import { sampleEvent } from '../siem/testEvents.js';
import { DEFAULT_MAX_ANSWER_BYTES, maxAnswerBytesOf, type SiemEvent } from '../siem/types.js';
import { getEncoder } from '../siem/registry.js';
import { sendRequest, type DeliveryTarget, type SendDeps } from './deliverBatch.js';
import { createOutboundClient, type OutboundClient } from './outbound/client.js';

// How much of an answer the delivery reads: a preset's own need (Elastic reads _bulk answers item by
// item), 8 KiB for the rest. Every byte read is scrubbed, so a SIEM answering a megabyte costs each of
// its requests only what the preset needs.
describe('the answer a delivery reads', () => {
  let receiver: Receiver;
  let client: OutboundClient;
  let deps: SendDeps;
  let answer: (events: SiemEvent[]) => { status: number; body: string } = () => ({ status: 200, body: '' });
  /** The path and query of each request the receiver got, in order. */
  const paths: string[] = [];

  beforeAll(async () => {
    receiver = await startReceiver((req) => {
      const lines = req.body.toString('utf8').split('\n').filter(Boolean);
      const ids = lines.filter((_, i) => i % 2 === 0).map((l) => (JSON.parse(l) as { create: { _id: string } }).create._id);
      const events = ids.map((id) => ({ event: { id } }) as unknown as SiemEvent);
      paths.push(req.path);
      return answer(events);
    });
    // The client's ceiling is the most any preset reads (a full Elastic batch), as the service's is.
    const ceiling = maxAnswerBytesOf(getEncoder('elastic'), getEncoder('elastic').maxBatchEvents);
    client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM, maxResponseBytes: ceiling });
    deps = { client, hostname: 'aegis-test', userAgent: 'aegis-test/1' };
  });
  afterAll(async () => {
    await client.close();
    await receiver.close();
  });

  const target = (siem: DeliveryTarget['siem'], path: string): DeliveryTarget => ({
    orgId: 'org_cap',
    id: `fwd_cap_${siem}`,
    siem,
    url: `${receiver.url}${path}`,
    authHeaderName: 'Authorization',
    authHeaderValue: 'ApiKey c2VjcmV0LWtleS1pZDpzZWNyZXQta2V5LXZhbHVl',
    signingSecret: null,
    previousSigningSecret: null,
    oauth: null,
    options: {},
    format: 'ecs',
  });

  it('Elastic reads a _bulk answer far past 8 KiB, item by item', async () => {
    const events = Array.from({ length: 300 }, (_, i) => sampleEvent(i));
    answer = (sent) => ({
      status: 200,
      body: JSON.stringify({
        took: 3,
        errors: true,
        items: sent.map((e, i) =>
          i === sent.length - 1
            ? { create: { _id: e.event.id, status: 400, error: { type: 'document_parsing_exception', reason: 'bad field' } } }
            : { create: { _id: e.event.id, status: 201, result: 'created' } },
        ),
      }),
    });
    const out = await sendRequest(deps, target('elastic', '/_bulk'), events);
    expect(answer(events).body.length).toBeGreaterThan(16 * 1024);
    // Cut at 8 KiB the answer would read as errors without items, and the whole batch be retried.
    expect(out.items.filter((i) => i.ok)).toHaveLength(299);
    expect(out.items[299]).toMatchObject({ ok: false });
  });

  // Elasticsearch 8.x items at their real size (~230 bytes created, ~400 a 409, ~500 a 400 with its
  // caused_by), as a proxy or a cluster ignoring filter_path gives them: a fixed 64 KiB read a cut
  // prefix of 1,000 of them, and one bad document sent the whole batch back, for ever.
  it('Elastic reads a full-size answer for 1,000 events, whatever filter_path did', async () => {
    const index = '.ds-logs-aegis.preflight-default-2026.05.15-000001';
    const events = Array.from({ length: 1000 }, (_, i) => sampleEvent(i));
    const value = 'two hundred and seven bytes, as a sentence a broken ingest pipeline wrote';
    answer = (sent) => ({
      status: 200,
      body: JSON.stringify({
        took: 31,
        errors: true,
        items: sent.map((e, i) =>
          i === 500
            ? {
                create: {
                  _index: index,
                  _id: e.event.id,
                  status: 400,
                  error: {
                    type: 'mapper_parsing_exception',
                    reason: `failed to parse field [aegis.input_size_bytes] of type [long] in document with id '${e.event.id}'. Preview of field's value: '${value}'`,
                    caused_by: { type: 'illegal_argument_exception', reason: `For input string: "${value}"` },
                  },
                },
              }
            : {
                // A resend: every other document is already there (the largest answer a batch gets).
                create: {
                  _index: index,
                  _id: e.event.id,
                  status: 409,
                  error: {
                    type: 'version_conflict_engine_exception',
                    reason: `[${e.event.id}]: version conflict, document already exists (current version [1])`,
                    index_uuid: 'nQ3kqU8bS6aYw1d0mZr4Fg',
                    shard: '0',
                    index,
                  },
                },
              },
        ),
      }),
    });
    const out = await sendRequest(deps, target('elastic', '/_bulk'), events);
    expect(answer(events).body.length).toBeGreaterThan(300 * 1024);
    expect(out.items.filter((i) => i.ok)).toHaveLength(999);
    expect(out.items[500]).toMatchObject({ ok: false, permanent: true, reason: expect.stringContaining('mapper_parsing_exception: failed to parse field') });
  });

  it('the answer read grows with the batch only for Elastic, and stays bounded', () => {
    expect(maxAnswerBytesOf(getEncoder('elastic'), 1)).toBe(64 * 1024 + 1024);
    expect(maxAnswerBytesOf(getEncoder('elastic'), 1000)).toBe(64 * 1024 + 1000 * 1024);
    expect(maxAnswerBytesOf(getEncoder('splunk_hec'), 1000)).toBe(DEFAULT_MAX_ANSWER_BYTES);
    expect(maxAnswerBytesOf(getEncoder('datadog'), 1)).toBe(DEFAULT_MAX_ANSWER_BYTES);
  });

  // Elastic's own Beats ask _bulk for only what they read (filter_path); a URL's own query stays.
  it('Elastic asks for a small answer, keeping the query the URL already has', async () => {
    const filterPath = 'filter_path=errors%2Citems.*._id%2Citems.*.status%2Citems.*.error.type%2Citems.*.error.reason';
    answer = () => ({ status: 200, body: '{"errors":false}' });
    const events = [sampleEvent(1)];
    for (const [path, expected] of [
      ['/_bulk', `/_bulk?${filterPath}`],
      ['/_bulk?pipeline=aegis-in&refresh=false', `/_bulk?pipeline=aegis-in&refresh=false&${filterPath}`],
      // A filter_path of the user's own would hide what Aegis reads: Aegis's replaces it.
      ['/_bulk?filter_path=took&pipeline=x', `/_bulk?pipeline=x&${filterPath}`],
    ] as const) {
      paths.length = 0;
      const out = await sendRequest(deps, target('elastic', path), events);
      expect(out.items).toMatchObject([{ ok: true }]);
      expect(paths).toEqual([expected]);
    }
  });
});
