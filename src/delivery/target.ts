import type { KeyRing } from '../crypto/keyring.js';
import type { DestinationRow } from '../destinations/repository.js';
import { openSecrets } from '../destinations/credentials.js';
import type { SiemId } from '../siem/catalog.js';
import type { DeliveryTarget } from './deliverBatch.js';

export function toTarget(ring: KeyRing, row: DestinationRow): DeliveryTarget {
  const secrets = openSecrets(ring, row);
  return {
    orgId: row.org_id,
    id: row.id,
    siem: row.siem as SiemId,
    url: row.url,
    authHeaderName: row.auth_header_name,
    authHeaderValue: secrets.authHeaderValue,
    signingSecret: secrets.signingSecret,
    previousSigningSecret: secrets.previousSigningSecret,
    options: row.options,
    format: row.format,
  };
}
