import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing } from './keyring.js';

/**
 * AES-256-GCM with a random 96-bit nonce. Layout: version(1) | keyIdLength(1) | keyId | nonce(12) |
 * tag(16) | ciphertext. The associated data binds a ciphertext to its row (org, destination, purpose),
 * so a sealed value copied to another destination fails to open instead of leaking there.
 */
const VERSION = 1;
const NONCE_LENGTH = 12;
/** GCM accepts tags as short as 4 bytes; a box whose tag is shorter than ours is forged or cut. */
const TAG_LENGTH = 16;

export class DecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptError';
  }
}

/** What a sealed box holds: a box opened under another purpose fails, so columns cannot be swapped. */
export type SealedPurpose = 'auth_header' | 'signing_secret' | 'previous_signing_secret' | 'oauth_client_secret';

export function associatedData(orgId: string, destinationId: string, purpose: SealedPurpose): string {
  return `aegis/${orgId}/${destinationId}/${purpose}`;
}

export function seal(ring: KeyRing, plaintext: string, aad: string): Buffer {
  const { id, key } = ring.primary;
  const nonce = randomBytes(NONCE_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const idBuf = Buffer.from(id, 'utf8');
  return Buffer.concat([Buffer.from([VERSION, idBuf.length]), idBuf, nonce, cipher.getAuthTag(), ct]);
}

/**
 * sealedKeyId as SQL, for a bytea column holding a box: the start-up check of the key ring counts
 * boxes by key without reading them out (destinations' credentials, alert webhooks' secrets). One
 * reading of the header, in both languages, beside the code that writes it.
 */
export const sealedKeyIdSql = (column: string): string => `convert_from(substring(${column} from 3 for get_byte(${column}, 1)), 'UTF8')`;

export function sealedKeyId(box: Buffer): string {
  if (box.length < 2 || box[0] !== VERSION) throw new DecryptError('unknown sealed-box version');
  return box.subarray(2, 2 + box[1]!).toString('utf8');
}

export function open(ring: KeyRing, box: Buffer, aad: string): string {
  const keyId = sealedKeyId(box);
  const key = ring.byId.get(keyId);
  if (!key) throw new DecryptError(`credential was encrypted with key "${keyId}", which is not in AEGIS_ENCRYPTION_KEY`);
  let off = 2 + box[1]!;
  if (box.length < off + NONCE_LENGTH + TAG_LENGTH) throw new DecryptError('credential is truncated (sealed box shorter than nonce and tag)');
  const nonce = box.subarray(off, (off += NONCE_LENGTH));
  const tag = box.subarray(off, (off += TAG_LENGTH));
  const ct = box.subarray(off);
  // authTagLength makes setAuthTag refuse any other length, whatever the layout above computed.
  const decipher = createDecipheriv('aes-256-gcm', key.key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptError('credential failed authentication (wrong key or tampered data)');
  }
}
