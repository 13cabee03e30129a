import type { KeyRing } from '../crypto/keyring.js';
import { associatedData, DecryptError, open, seal, type SealedPurpose } from '../crypto/sealedBox.js';
import type { DestinationRow } from './row.js';

/** Plaintext credentials exist only here, in memory, on their way into a sealed box or onto the wire. */
export interface DestinationSecrets {
  authHeaderValue: string | null;
  signingSecret: string | null;
  /** The secret the last rotation replaced, and until when deliveries are still signed with it. */
  previousSigningSecret: { secret: string; until: Date } | null;
  /** The OAuth2 client secret (destinations/oauth2.ts), when the destination authenticates with OAuth2. */
  oauthClientSecret: string | null;
}

export function sealOAuthClientSecret(ring: KeyRing, orgId: string, id: string, secret: string): Buffer {
  return seal(ring, secret, associatedData(orgId, id, 'oauth_client_secret'));
}

export function sealAuthHeader(ring: KeyRing, orgId: string, id: string, value: string): Buffer {
  return seal(ring, value, associatedData(orgId, id, 'auth_header'));
}

export function sealSigningSecret(
  ring: KeyRing,
  orgId: string,
  id: string,
  secret: string,
  purpose: 'signing_secret' | 'previous_signing_secret' = 'signing_secret',
): Buffer {
  return seal(ring, secret, associatedData(orgId, id, purpose));
}

type SealedRow = Pick<
  DestinationRow,
  'org_id' | 'id' | 'auth_header_sealed' | 'signing_secret_sealed' | 'previous_signing_secret_sealed' | 'previous_signing_secret_until'
> &
  Partial<Pick<DestinationRow, 'auth_client_secret_sealed'>>;

export function openSecrets(ring: KeyRing, row: SealedRow, now = new Date(), unreadable: 'throw' | 'null' = 'throw'): DestinationSecrets {
  const openBox = (box: Buffer | null, purpose: SealedPurpose): string | null => {
    if (!box) return null;
    try {
      return open(ring, Buffer.from(box), associatedData(row.org_id, row.id, purpose));
    } catch (err) {
      // 'null': each column on its own, one sealed under a key that left the ring is read as unset
      // and does not hide the others (a PATCH's plain-field check). Only a decryption failure.
      if (unreadable === 'null' && err instanceof DecryptError) return null;
      throw err;
    }
  };
  const until = row.previous_signing_secret_until;
  // An overlap that has ended is not even opened: its secret never reaches memory again.
  const previous = until && until > now ? openBox(row.previous_signing_secret_sealed, 'previous_signing_secret') : null;
  return {
    authHeaderValue: openBox(row.auth_header_sealed, 'auth_header'),
    signingSecret: openBox(row.signing_secret_sealed, 'signing_secret'),
    previousSigningSecret: previous && until ? { secret: previous, until } : null,
    oauthClientSecret: openBox(row.auth_client_secret_sealed ?? null, 'oauth_client_secret'),
  };
}

/**
 * The sealed-column changes of a signing secret rotation: the new secret becomes current and, when
 * `overlapHours` > 0 and there was a secret, the old one keeps signing until `now + overlapHours`
 * (re-sealed under its own purpose). Rotating again within the overlap replaces the previous secret
 * with the one being retired: receivers are only ever asked to accept the last two.
 */
export function rotatedSigningSecret(
  ring: KeyRing,
  row: Pick<DestinationRow, 'org_id' | 'id' | 'signing_secret_sealed'>,
  newSecret: string,
  overlapHours: number,
  now = new Date(),
): Pick<DestinationRow, 'signing_secret_sealed' | 'previous_signing_secret_sealed' | 'previous_signing_secret_until'> {
  let current: string | null = null;
  try {
    current = row.signing_secret_sealed ? open(ring, Buffer.from(row.signing_secret_sealed), associatedData(row.org_id, row.id, 'signing_secret')) : null;
  } catch (err) {
    // A secret whose key has left the ring signs nothing today: rotating replaces it, without overlap.
    if (!(err instanceof DecryptError)) throw err;
  }
  return {
    signing_secret_sealed: sealSigningSecret(ring, row.org_id, row.id, newSecret),
    previous_signing_secret_sealed:
      current !== null && overlapHours > 0 ? sealSigningSecret(ring, row.org_id, row.id, current, 'previous_signing_secret') : null,
    previous_signing_secret_until: current !== null && overlapHours > 0 ? new Date(now.getTime() + overlapHours * 3_600_000) : null,
  };
}

/**
 * What the tenant sees (last_error, the test's answer, the alerts) when a stored credential cannot be
 * opened: the server's key ring lacks its key (dropped too early, a restore with another key, a data
 * directory copied without its key file). The cause is the operator's to fix and is logged for them
 * with the key ids (the worker's line, the start-up warning); the tenant is told what it means and
 * the one thing it can do, never a server setting's name or a key id.
 */
export const CREDENTIAL_UNREADABLE_MESSAGE =
  "Cannot open this destination's stored credential: the service no longer holds the key it was encrypted with (its operator is told). Its events are held, not dropped, until the key is back; setting the credential again also resumes delivery.";
