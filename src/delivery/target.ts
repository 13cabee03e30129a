import type { KeyRing } from '../crypto/keyring.js';
import type { DestinationRow } from '../destinations/row.js';
import { openSecrets } from '../destinations/credentials.js';
import type { DeliveryTarget } from './deliverBatch.js';
import { configuredLimits } from './configuredLimits.js';
import { urlSecrets } from './urlSecrets.js';

/**
 * Each held row's target, opened once (per key ring): a runner starts at every wake-up of a busy
 * destination (dozens a second), and opening its credentials (an AES-GCM context per sealed column)
 * cost more than the rest of the runner's start. Keyed by the row object, which the worker's row
 * cache replaces on any change of the row (a rotation, a PATCH), so a changed credential is opened
 * afresh and a dropped row takes its opened secrets with it. The secrets stay in memory as long as
 * the row is held, as they do in the scrubber cache. A previous signing secret stops being used when
 * its overlap ends: the target is opened again then, without it.
 */
const opened = new WeakMap<KeyRing, WeakMap<object, { target: DeliveryTarget; until: number }>>();

export function heldTarget(ring: KeyRing, row: Omit<DestinationRow, 'filter'>, now = Date.now()): DeliveryTarget {
  let byRow = opened.get(ring);
  if (!byRow) opened.set(ring, (byRow = new WeakMap()));
  const hit = byRow.get(row);
  if (hit && now < hit.until) return hit.target;
  const target = toTarget(ring, row, new Date(now));
  byRow.set(row, { target, until: target.previousSigningSecret?.until.getTime() ?? Infinity });
  return target;
}

export function toTarget(ring: KeyRing, row: Omit<DestinationRow, 'filter'>, now = new Date()): DeliveryTarget {
  const secrets = openSecrets(ring, row, now);
  return {
    orgId: row.org_id,
    id: row.id,
    siem: row.siem,
    url: row.url,
    authHeaderName: row.auth_header_name,
    authHeaderValue: secrets.authHeaderValue,
    signingSecret: secrets.signingSecret,
    previousSigningSecret: secrets.previousSigningSecret,
    oauth:
      row.auth && secrets.oauthClientSecret !== null
        ? {
            tokenUrl: row.auth.token_url,
            clientId: row.auth.client_id,
            clientSecret: secrets.oauthClientSecret,
            scope: row.auth.scope,
            authMethod: row.auth.token_endpoint_auth_method,
          }
        : null,
    options: row.options,
    format: row.format,
  };
}

/**
 * The target's credentials: what every answer about it is scrubbed of (OAuth2 access tokens join them
 * per request). One list for the delivery and the Splunk ack poll, so both share one cached scrubber.
 */
export function targetSecrets(target: DeliveryTarget): Array<string | null> {
  return [
    target.authHeaderValue,
    target.signingSecret,
    target.previousSigningSecret?.secret ?? null,
    target.oauth?.clientSecret ?? null,
    // A token in the URL (Sumo Logic's path, a webhook's ?token=): answers quote request lines. The
    // token URL's too (a token proxy's ?code=): its failure sentence quotes the endpoint's answer.
    ...urlSecrets(target.url),
    ...(target.oauth ? urlSecrets(target.oauth.tokenUrl) : []),
  ];
}

/**
 * The destination's own connection pool in the outbound client: sized to its max_concurrent_requests
 * (its option or its SIEM's default), the most requests it may ever have in flight.
 */
export function targetPool(target: Pick<DeliveryTarget, 'orgId' | 'id' | 'siem' | 'options'>): { poolKey: string; orgId: string; connections: number } {
  return { poolKey: target.id, orgId: target.orgId, connections: configuredLimits(target.siem, target.options).concurrentRequests };
}
