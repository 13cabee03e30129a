import type { KeyRing } from '../crypto/keyring.js';
import { associatedData, open, seal } from '../crypto/sealedBox.js';
import type { DestinationRow } from './repository.js';

/** Plaintext credentials exist only here, in memory, on their way into a sealed box or onto the wire. */
export interface DestinationSecrets {
  authHeaderValue: string | null;
  signingSecret: string | null;
}

export function sealAuthHeader(ring: KeyRing, orgId: string, id: string, value: string): Buffer {
  return seal(ring, value, associatedData(orgId, id, 'auth_header'));
}

export function sealSigningSecret(ring: KeyRing, orgId: string, id: string, secret: string): Buffer {
  return seal(ring, secret, associatedData(orgId, id, 'signing_secret'));
}

export function openSecrets(ring: KeyRing, row: Pick<DestinationRow, 'org_id' | 'id' | 'auth_header_sealed' | 'signing_secret_sealed'>): DestinationSecrets {
  return {
    authHeaderValue: row.auth_header_sealed ? open(ring, Buffer.from(row.auth_header_sealed), associatedData(row.org_id, row.id, 'auth_header')) : null,
    signingSecret: row.signing_secret_sealed
      ? open(ring, Buffer.from(row.signing_secret_sealed), associatedData(row.org_id, row.id, 'signing_secret'))
      : null,
  };
}

/** What users see when a stored credential cannot be opened (its key was dropped from the ring too early). */
export function credentialUnreadableMessage(err: Error): string {
  return `Cannot decrypt this destination's credential: ${err.message}. Restore the key in AEGIS_ENCRYPTION_KEY or set the credential again.`;
}
