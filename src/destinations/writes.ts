// Creating and changing a destination: the insert, the PATCH's column update, and the locks a change
// takes first (the organization's, for its caps; the row's, for the trail events computed from it).
import { BUMP_ROW_VERSION } from '../queue/dueDestinations.js';
import { notifySettingsChanged } from '../queue/types.js';
import type { Queryable } from '../db/types.js';
import { RESET_DELIVERY_STATE } from '../queue/deliveryState.js';
import type { OutputFormat } from '../siem/outputFormat.js';
import type { DestinationRow } from './row.js';

export async function insertDestination(
  db: Queryable,
  d: Pick<
    DestinationRow,
    'org_id' | 'id' | 'siem' | 'name' | 'url' | 'auth_header_name' | 'auth_header_sealed' | 'signing_secret_sealed' | 'options' | 'filter' | 'enabled'
  > &
    Partial<Pick<DestinationRow, 'auth' | 'auth_client_secret_sealed'>> & {
      /** Default 'ecs', as the column's. */
      format?: OutputFormat;
    },
  idempotency: { keyDigest: Buffer; requestDigest: Buffer } | null = null,
): Promise<void> {
  await db.query(
    `INSERT INTO destinations (org_id, id, siem, name, url, auth_header_name, auth_header_sealed, signing_secret_sealed, options, filter, enabled,
                               auth, auth_client_secret_sealed, format, idempotency_key_digest, idempotency_request_digest)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    [
      d.org_id,
      d.id,
      d.siem,
      d.name,
      d.url,
      d.auth_header_name,
      d.auth_header_sealed,
      d.signing_secret_sealed,
      JSON.stringify(d.options),
      d.filter === null ? null : JSON.stringify(d.filter),
      d.enabled,
      d.auth ? JSON.stringify(d.auth) : null,
      d.auth_client_secret_sealed ?? null,
      d.format ?? 'ecs',
      idempotency?.keyDigest ?? null,
      idempotency?.requestDigest ?? null,
    ],
  );
}

/**
 * The destination (not deleted) an organization created under an Idempotency-Key, by the key's
 * digest, with its request's digest; null when none. Read under the organization's lock (create takes
 * it first), so two creates with one key are one after the other.
 */
export async function destinationOfIdempotencyKey(tx: Queryable, orgId: string, keyDigest: Buffer): Promise<{ id: string; requestDigest: Buffer } | null> {
  const { rows } = await tx.query<{ id: string; idempotency_request_digest: Buffer }>(
    'SELECT id, idempotency_request_digest FROM destinations WHERE org_id = $1 AND idempotency_key_digest = $2 AND deleted_at IS NULL',
    [orgId, keyDigest],
  );
  const row = rows[0];
  return row ? { id: row.id, requestDigest: Buffer.from(row.idempotency_request_digest) } : null;
}

/**
 * Locks the organization's row (until the transaction ends) and counts its destinations: the
 * per-organization caps are checked and the write made under that lock.
 */
export async function lockOrgDestinationCounts(tx: Queryable, orgId: string): Promise<{ total: number; enabled: number; deleting: number }> {
  await tx.query('SELECT id FROM orgs WHERE id = $1 FOR UPDATE', [orgId]);
  // deleting: rows deleted but kept for their farewell (deletion.ts), up to a day for a SIEM that never
  // takes it; each is still a target the worker tries.
  const { rows } = await tx.query<{ total: number; enabled: number; deleting: number }>(
    `SELECT (count(*) FILTER (WHERE deleted_at IS NULL))::int AS total,
            (count(*) FILTER (WHERE enabled AND deleted_at IS NULL))::int AS enabled,
            (count(*) FILTER (WHERE deleted_at IS NOT NULL))::int AS deleting
       FROM destinations WHERE org_id = $1`,
    [orgId],
  );
  return rows[0] ?? { total: 0, enabled: 0, deleting: 0 };
}

/**
 * The row, locked until the transaction ends, for a change and its trail events (null: no such
 * destination, or deleted). FOR NO KEY UPDATE, the lock an UPDATE of the row takes anyway: two changes
 * of one row take turns, and no share lock waits for it. Recording an event (queue/enqueue.ts) share-
 * locks the destinations it gives jobs; with FOR UPDATE, two destinations of one organization changed
 * at once, each recording its trail event in its transaction, each waited for the other's row and one
 * was ended as a deadlock. A recording that does not wait reads the row as its snapshot saw it (or, for
 * a change committed meanwhile, as its lock returns it): an order of the two either way.
 */
export async function lockDestinationRow(tx: Queryable, orgId: string, id: string): Promise<DestinationRow | null> {
  const { rows } = await tx.query<DestinationRow>(
    'SELECT d.* FROM destinations d WHERE d.org_id = $1 AND d.id = $2 AND d.deleted_at IS NULL FOR NO KEY UPDATE',
    [orgId, id],
  );
  return rows[0] ?? null;
}

export type DestinationPatch = Partial<
  Pick<
    DestinationRow,
    | 'name'
    | 'url'
    | 'auth_header_name'
    | 'auth_header_sealed'
    | 'signing_secret_sealed'
    | 'previous_signing_secret_sealed'
    | 'previous_signing_secret_until'
    | 'options'
    | 'filter'
    | 'enabled'
    | 'format'
    | 'auth'
    | 'auth_client_secret_sealed'
  >
>;

// Column names come from this fixed list, never from input, so building the SET clause is safe.
const PATCHABLE = [
  'name',
  'url',
  'auth_header_name',
  'auth_header_sealed',
  'signing_secret_sealed',
  'previous_signing_secret_sealed',
  'previous_signing_secret_until',
  'options',
  'filter',
  'enabled',
  'format',
  'auth',
  'auth_client_secret_sealed',
] as const;

export async function updateDestination(db: Queryable, orgId: string, id: string, patch: DestinationPatch): Promise<boolean> {
  const sets: string[] = [];
  const values: unknown[] = [orgId, id];
  for (const col of PATCHABLE) {
    if (!(col in patch)) continue;
    const v = patch[col];
    values.push(col === 'options' || ((col === 'filter' || col === 'auth') && v !== null) ? JSON.stringify(v) : v);
    sets.push(`${col} = $${values.length}`);
  }
  // Re-enabling a destination lifts any circuit-breaker or hold-limit pause so held jobs flow at once,
  // and starts a new failing streak: the hold limit counts from the next failure.
  if (patch.enabled === true) sets.push(RESET_DELIVERY_STATE);
  sets.push(BUMP_ROW_VERSION);
  // Workers hear of it on commit: a claim being sent under the old settings stops there.
  const { rows } = await db.query(
    `WITH changed AS (UPDATE destinations SET ${sets.join(', ')} WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING id)
     SELECT ${notifySettingsChanged('id')} FROM changed`,
    values,
  );
  return rows.length > 0;
}
