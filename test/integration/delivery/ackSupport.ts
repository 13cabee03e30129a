// The Splunk indexer-acknowledgement destination and tracker the ack tracker tests drive, pointed at a
// local receiver.
import { AckTracker, type AckTrackerOptions } from '../../../src/delivery/ackTracker.js';
import type { DeliveryTarget } from '../../../src/delivery/deliverBatch.js';
import type { OutboundClient } from '../../../src/delivery/outbound/client.js';
import { generateKeyBase64, parseKeyRing } from '../../../src/crypto/keyring.js';
import type { Db } from '../../../src/db/types.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';

/** The HEC token every Splunk ack test target carries (a test that checks it is scrubbed reads it here). */
export const SPLUNK_ACK_TOKEN = '5f8d1c2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f';

export function splunkAckTarget(orgId: string, id: string, receiverUrl: string): DeliveryTarget {
  return {
    orgId,
    id,
    siem: 'splunk_hec',
    url: `${receiverUrl}/services/collector/event`,
    authHeaderName: 'Authorization',
    authHeaderValue: `Splunk ${SPLUNK_ACK_TOKEN}`,
    signingSecret: null,
    previousSigningSecret: null,
    oauth: null,
    options: { indexer_ack: true },
    format: 'ecs',
  };
}

/** A tracker for `target` with the real database and outbound client, silent logs and no per-destination metrics. */
export function ackTrackerFor(db: Db, client: OutboundClient, target: DeliveryTarget, opts: AckTrackerOptions, wake: () => void = () => {}): AckTracker {
  const delivery = { db, keyRing: parseKeyRing(generateKeyBase64()), client, hostname: 'aegis-test', userAgent: 'aegis-test/1' };
  return new AckTracker(target, { db, delivery, metrics: createMetrics(db, { perDestination: false }), logger: createLogger('silent'), wake }, opts);
}
