// The Splunk indexer-acknowledgement destination the ack tracker tests drive, pointed at a local receiver.
import type { DeliveryTarget } from '../../../src/delivery/deliverBatch.js';

export function splunkAckTarget(orgId: string, id: string, receiverUrl: string): DeliveryTarget {
  return {
    orgId,
    id,
    siem: 'splunk_hec',
    url: `${receiverUrl}/services/collector/event`,
    authHeaderName: 'Authorization',
    authHeaderValue: 'Splunk 5f8d1c2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f',
    signingSecret: null,
    previousSigningSecret: null,
    oauth: null,
    options: { indexer_ack: true },
    format: 'ecs',
  };
}
