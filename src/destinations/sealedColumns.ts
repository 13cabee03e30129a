// The sealed credential columns as key rotation (cli/rotateKey.ts) reads and re-encrypts them, and as
// the start-up check of the key ring counts them (keyCoverage.ts).
import { BUMP_ROW_VERSION } from '../queue/dueDestinations.js';
import type { Queryable } from '../db/types.js';
import { sealedKeyIdSql } from '../crypto/sealedBox.js';
import type { DestinationRow } from './row.js';

/** The sealed columns of a row, as key rotation reads and rewrites them. */
export type SealedCredentials = Pick<
  DestinationRow,
  'org_id' | 'id' | 'auth_header_sealed' | 'signing_secret_sealed' | 'previous_signing_secret_sealed' | 'auth_client_secret_sealed'
>;

/** Every sealed credential, for key rotation. */
export async function listSealedCredentials(db: Queryable): Promise<SealedCredentials[]> {
  const { rows } = await db.query<SealedCredentials>(
    `SELECT org_id, id, auth_header_sealed, signing_secret_sealed, previous_signing_secret_sealed, auth_client_secret_sealed FROM destinations
      WHERE auth_header_sealed IS NOT NULL OR signing_secret_sealed IS NOT NULL OR previous_signing_secret_sealed IS NOT NULL
         OR auth_client_secret_sealed IS NOT NULL
      ORDER BY org_id, id`,
  );
  return rows;
}

/**
 * Swaps a row's sealed credentials for re-encrypted ones, but only if they are still the boxes that
 * were read (compare-and-set): a credential rotated through the API meanwhile is never overwritten
 * with the re-encrypted old one. Returns false when the row changed (or is gone). Moves updated_at
 * like every write of what the worker reads from the row: a worker holding the old boxes reads the
 * row again instead of keeping boxes only the old key opens (delivery/rowCache.ts).
 */
export async function replaceSealedCredentials(
  db: Queryable,
  row: SealedCredentials,
  resealed: Pick<SealedCredentials, 'auth_header_sealed' | 'signing_secret_sealed' | 'previous_signing_secret_sealed' | 'auth_client_secret_sealed'>,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE destinations SET auth_header_sealed = $3, signing_secret_sealed = $4, previous_signing_secret_sealed = $5, auth_client_secret_sealed = $6,
            ${BUMP_ROW_VERSION}
      WHERE org_id = $1 AND id = $2
        AND auth_header_sealed IS NOT DISTINCT FROM $7 AND signing_secret_sealed IS NOT DISTINCT FROM $8
        AND previous_signing_secret_sealed IS NOT DISTINCT FROM $9 AND auth_client_secret_sealed IS NOT DISTINCT FROM $10`,
    [
      row.org_id,
      row.id,
      resealed.auth_header_sealed,
      resealed.signing_secret_sealed,
      resealed.previous_signing_secret_sealed,
      resealed.auth_client_secret_sealed,
      row.auth_header_sealed,
      row.signing_secret_sealed,
      row.previous_signing_secret_sealed,
      row.auth_client_secret_sealed,
    ],
  );
  return rowCount > 0;
}

/** One row's sealed credentials, for a rotation retry after a concurrent change. */
export async function getSealedCredentials(db: Queryable, orgId: string, id: string): Promise<SealedCredentials | null> {
  const { rows } = await db.query<SealedCredentials>(
    'SELECT org_id, id, auth_header_sealed, signing_secret_sealed, previous_signing_secret_sealed, auth_client_secret_sealed FROM destinations WHERE org_id = $1 AND id = $2',
    [orgId, id],
  );
  return rows[0] ?? null;
}

/**
 * Sealed credentials per key id, read as the box's key id field (crypto/sealedBox.ts layout: version,
 * id length, id), so no box leaves the database. A previous signing secret whose overlap has ended is
 * never opened again and is left out: its key may go.
 */
export async function countSealedByKeyId(db: Queryable): Promise<Array<{ key_id: string; credentials: number }>> {
  const { rows } = await db.query<{ key_id: string; credentials: number }>(
    `SELECT ${sealedKeyIdSql('s.box')} AS key_id, count(*)::int AS credentials
       FROM destinations d
      CROSS JOIN LATERAL (VALUES (d.auth_header_sealed), (d.signing_secret_sealed), (d.auth_client_secret_sealed),
                                 (CASE WHEN d.previous_signing_secret_until > now() THEN d.previous_signing_secret_sealed END)) AS s(box)
      WHERE s.box IS NOT NULL AND length(s.box) >= 2
      GROUP BY 1`,
  );
  return rows;
}
