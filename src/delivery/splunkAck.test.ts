import { describe, expect, it } from 'vitest';
import { respondWith, startReceiver, TEST_CA_PEM } from '../../test/support/httpsReceiver.js';
import { SPLUNK_ACK_TOKEN, splunkAckTarget } from '../../test/integration/delivery/ackSupport.js';
import { createOutboundClient, type OutboundClient } from './outbound/client.js';
import { indexerAckOn, queryAcks, readAckAnswer, splunkAckUrl, splunkChannel } from './splunkAck.js';

describe('Splunk indexer acknowledgement protocol', () => {
  it('derives one stable GUID channel per destination', () => {
    const a = splunkChannel('fwd_abc');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(splunkChannel('fwd_abc')).toBe(a);
    expect(splunkChannel('fwd_abd')).not.toBe(a);
  });

  it('builds the ack URL beside the event URL, keeping a path prefix and dropping the query', () => {
    const ch = splunkChannel('fwd_x');
    expect(splunkAckUrl('https://splunk.example.com:8088/services/collector/event', ch)).toBe(
      `https://splunk.example.com:8088/services/collector/ack?channel=${ch}`,
    );
    expect(splunkAckUrl('https://proxy.example.com/hec/services/collector/event?x=1', ch)).toBe(
      `https://proxy.example.com/hec/services/collector/ack?channel=${ch}`,
    );
    expect(splunkAckUrl('https://splunk.example.com/', ch)).toBe(`https://splunk.example.com/services/collector/ack?channel=${ch}`);
  });

  it('reads the ackId of an accepted request; only a readable success without one means acknowledgement is off', () => {
    expect(readAckAnswer('{"text":"Success","code":0,"ackId":7}')).toEqual({ kind: 'ack_id', ackId: 7 });
    expect(readAckAnswer('{"text":"Success","code":0,"ackId":0}')).toEqual({ kind: 'ack_id', ackId: 0 });
    expect(readAckAnswer('{"text":"Success","code":0}')).toEqual({ kind: 'off' });
    // Anything else confirms nothing: never taken for a token with acknowledgement off.
    for (const body of [
      '{"ackId":"7"}',
      '{"text":"Success","code":0,"ackId":"0"}',
      '{"text":"Success","code":0,"ackId":-1}',
      '{"text":"Success","code":0,"ackId":1.5}',
      '{"text":"Success","code":0,"ackId":null}',
      '{"text":"Success","code":0,"ackId":1e300}',
      '{"text":"Success"}',
      '{"text":"Success","code":"0"}',
      '{}',
      '[]',
      '',
      'not json',
      '{"text":"Success","code":0,"ack',
      '(an answer compressed with gzip, not read: we ask for none)',
    ]) {
      expect(readAckAnswer(body), body).toEqual({ kind: 'unreadable' });
    }
  });

  it('is on only for Splunk destinations with indexer_ack: true', () => {
    expect(indexerAckOn({ siem: 'splunk_hec', options: { indexer_ack: true } })).toBe(true);
    expect(indexerAckOn({ siem: 'splunk_hec', options: { indexer_ack: false } })).toBe(false);
    expect(indexerAckOn({ siem: 'splunk_hec', options: {} })).toBe(false);
    expect(indexerAckOn({ siem: 'datadog', options: { indexer_ack: true } })).toBe(false);
  });
});

describe('the acknowledgement poll of a Splunk that quotes the token back', () => {
  it('scrubs the answer before its error sentence clips it: no start of the token survives the clip', async () => {
    const token = SPLUNK_ACK_TOKEN;
    // The sentence quotes 120 characters of a 400's body, which ends 20 characters into the token.
    const splunk = await startReceiver(respondWith(400, `${'x'.repeat(100)} Splunk ${token} is not allowed to ask`));
    const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    const target = splunkAckTarget('org_ack', 'fwd_ack_scrub', splunk.url);
    try {
      const poll = await queryAcks({ client }, target, [1, 2]);
      expect(poll.acked.size).toBe(0);
      expect(poll.error).toContain('[redacted]');
      expect(poll.error).not.toContain(token.slice(0, 6));
    } finally {
      await client.close();
      await splunk.close();
    }
  });
});

describe('the acknowledgement poll of a Splunk that answers at length', () => {
  it('reads no more of any answer than its ids need: every byte read is scrubbed on the worker’s one thread', async () => {
    const splunk = await startReceiver(respondWith(200, `{"acks":{"1":true,"2":false}}${' '.repeat(200_000)}`));
    const real = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    const read: number[] = [];
    const client: OutboundClient = {
      ...real,
      send: async (req) => {
        const r = await real.send(req);
        if (r.kind === 'response') read.push(r.body.length);
        return r;
      },
    };
    const target = splunkAckTarget('org_ack', 'fwd_ack_long', splunk.url);
    try {
      await queryAcks({ client }, target, [1, 2]);
      splunk.setHandler(respondWith(503, 'x'.repeat(200_000)));
      const refused = await queryAcks({ client }, target, [1, 2]);
      expect(refused.error).toMatch(/503/);
      expect(read).toHaveLength(2);
      // 8 KiB for an error's text, and room for each id's entry ("123456789":false,).
      for (const n of read) expect(n).toBeLessThanOrEqual(8 * 1024 + 32 * 2);
    } finally {
      await real.close();
      await splunk.close();
    }
  });
});
