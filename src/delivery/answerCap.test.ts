import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, TEST_CA_PEM, type Receiver } from '../../test/support/httpsReceiver.js';
import { sampleEvent } from '../siem/testEvents.js';
import type { SiemEvent } from '../siem/types.js';
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

  beforeAll(async () => {
    receiver = await startReceiver((req) => {
      const lines = req.body.toString('utf8').split('\n').filter(Boolean);
      const ids = lines.filter((_, i) => i % 2 === 0).map((l) => (JSON.parse(l) as { create: { _id: string } }).create._id);
      const events = ids.map((id) => ({ event: { id } }) as unknown as SiemEvent);
      return answer(events);
    });
    client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
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
});
