import { describe, expect, it } from 'vitest';
import { indexerAckOn, readAckId, splunkAckUrl, splunkChannel } from './splunkAck.js';

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

  it('reads the ackId of an accepted request', () => {
    expect(readAckId('{"text":"Success","code":0,"ackId":7}')).toBe(7);
    expect(readAckId('{"text":"Success","code":0}')).toBeUndefined();
    expect(readAckId('{"ackId":"7"}')).toBeUndefined();
    expect(readAckId('not json')).toBeUndefined();
  });

  it('is on only for Splunk destinations with indexer_ack: true', () => {
    expect(indexerAckOn({ siem: 'splunk_hec', options: { indexer_ack: true } })).toBe(true);
    expect(indexerAckOn({ siem: 'splunk_hec', options: { indexer_ack: false } })).toBe(false);
    expect(indexerAckOn({ siem: 'splunk_hec', options: {} })).toBe(false);
    expect(indexerAckOn({ siem: 'datadog', options: { indexer_ack: true } })).toBe(false);
  });
});
