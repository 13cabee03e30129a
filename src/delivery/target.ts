import type { KeyRing } from '../crypto/keyring.js';
import type { DestinationRow } from '../destinations/repository.js';
import { openSecrets } from '../destinations/credentials.js';
import type { DeliveryTarget } from './deliverBatch.js';

export function toTarget(ring: KeyRing, row: DestinationRow): DeliveryTarget {
  const secrets = openSecrets(ring, row);
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
