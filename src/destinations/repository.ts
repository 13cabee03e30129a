import type { Queryable } from '../db/types.js';
import { keysetPage } from '../db/page.js';
import { RESET_DELIVERY_STATE } from '../queue/deliveryState.js';
import type { OutputFormat } from '../siem/outputFormat.js';
import type { SiemId } from '../siem/catalog.js';
import type { StoredOAuth2 } from './oauth2.js';

/** A destinations row as stored (snake_case). Sealed columns hold AES-GCM boxes, never plaintext. */
export interface DestinationRow {
  org_id: string;
  id: string;
  /** Only ever a value the API's `siem` enum admitted (api/schemas/destinations.ts, from siem/catalog.ts). */
  siem: SiemId;
  /** The event format sent: 'ecs' (default) or 'ocsf' (siem/outputFormat.ts). */
  format: OutputFormat;
  /** Optional human name ("Splunk prod"); null: readers show the SIEM's label. */
  name: string | null;
  url: string;
  auth_header_name: string | null;
  auth_header_sealed: Buffer | null;
  signing_secret_sealed: Buffer | null;
  /** The secret a rotation replaced: deliveries are signed with it too until the time below. */
  previous_signing_secret_sealed: Buffer | null;
  previous_signing_secret_until: Date | null;
  /** OAuth2 client credentials without the secret (destinations/oauth2.ts); null: no OAuth2. */
  auth: StoredOAuth2 | null;
  /** The OAuth2 client secret, sealed (purpose oauth_client_secret). */
  auth_client_secret_sealed: Buffer | null;
  /** Preset strings, and the integer delivery limits (max_events_per_second, max_concurrent_requests). */
  options: Record<string, string | number | boolean>;
  /** The checked filter (filters/validate.ts); null: every event. Config, never event data. */
  filter: Record<string, unknown> | null;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
  last_delivery_at: Date | null;
  last_attempt_at: Date | null;
  last_attempt_ok: boolean | null;
  last_error: string | null;
  last_error_at: Date | null;
  last_dead_letter_at: Date | null;
  /** When a test event last reached the SIEM (tests are not live deliveries). */
  last_test_ok_at: Date | null;
  /** Set on a deleted destination whose farewell is still on its way (never shown to readers). */
  deleted_at: Date | null;
  consecutive_failures: number;
  paused_until: Date | null;
  /** Start of the current failing streak (null: the last request got through). See queue/holdLimit.ts. */
  failing_since: Date | null;
  /** When the hold limit (AEGIS_MAX_HOLD_HOURS) paused the destination; null: not paused by it. */
  hold_paused_at: Date | null;
}

export interface DestinationWithCounts extends DestinationRow {
  pending_events: number;
  oldest_pending_at: Date | null;
  failed_events: number;
}

const COUNTS = `
  (SELECT count(*)::int FROM forwarding_jobs j WHERE j.org_id = d.org_id AND j.destination_id = d.id AND j.status = 'pending') AS pending_events,
  (SELECT min(j.created_at) FROM forwarding_jobs j WHERE j.org_id = d.org_id AND j.destination_id = d.id AND j.status = 'pending') AS oldest_pending_at,
  (SELECT count(*)::int FROM forwarding_jobs j WHERE j.org_id = d.org_id AND j.destination_id = d.id AND j.status = 'failed') AS failed_events`;

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
): Promise<void> {
  await db.query(
    `INSERT INTO destinations (org_id, id, siem, name, url, auth_header_name, auth_header_sealed, signing_secret_sealed, options, filter, enabled,
                               auth, auth_client_secret_sealed, format)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
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
    ],
  );
}

/**
 * Locks the organization's row (until the transaction ends) and counts its destinations: the
 * per-organization caps are checked and the write made under that lock.
 */
export async function lockOrgDestinationCounts(tx: Queryable, orgId: string): Promise<{ total: number; enabled: number }> {
  await tx.query('SELECT id FROM orgs WHERE id = $1 FOR UPDATE', [orgId]);
  const { rows } = await tx.query<{ total: number; enabled: number }>(
    'SELECT count(*)::int AS total, (count(*) FILTER (WHERE enabled))::int AS enabled FROM destinations WHERE org_id = $1 AND deleted_at IS NULL',
    [orgId],
  );
  return rows[0] ?? { total: 0, enabled: 0 };
}

/**
 * The row, locked until the transaction ends, for a change and its trail events (null: no such
 * destination, or deleted).
 */
export async function lockDestinationRow(tx: Queryable, orgId: string, id: string): Promise<DestinationRow | null> {
  const { rows } = await tx.query<DestinationRow>('SELECT d.* FROM destinations d WHERE d.org_id = $1 AND d.id = $2 AND d.deleted_at IS NULL FOR UPDATE', [
    orgId,
    id,
  ]);
  return rows[0] ?? null;
}

/**
 * The bare row, without the queue counts (deleted ones too, whose farewell is on its way): what the
 * worker reads each time it starts draining a destination. Counting a destination's pending jobs walks all of them, which on a backlog of a
 * million events costs more than the claim the runner is about to make.
 */
export async function getDestinationRow(db: Queryable, orgId: string, id: string): Promise<DestinationRow | null> {
  const { rows } = await db.query<DestinationRow>(`SELECT d.* FROM destinations d WHERE d.org_id = $1 AND d.id = $2`, [orgId, id]);
  return rows[0] ?? null;
}

/** Whether the organization has this (not deleted) destination: a primary-key probe, no queue counts. */
export async function destinationExists(db: Queryable, orgId: string, id: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM destinations WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL', [orgId, id]);
  return rows.length > 0;
}

/** A destination's filter (null: every event, or no such destination). */
export async function getDestinationFilter(db: Queryable, orgId: string, id: string): Promise<Record<string, unknown> | null> {
  const { rows } = await db.query<{ filter: Record<string, unknown> | null }>(
    'SELECT filter FROM destinations WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL',
    [orgId, id],
  );
  return rows[0]?.filter ?? null;
}

export async function getDestination(db: Queryable, orgId: string, id: string): Promise<DestinationWithCounts | null> {
  const { rows } = await db.query<DestinationWithCounts>(
    `SELECT d.*, ${COUNTS} FROM destinations d WHERE d.org_id = $1 AND d.id = $2 AND d.deleted_at IS NULL`,
    [orgId, id],
  );
  return rows[0] ?? null;
}

/** Where a page of an organization's destinations starts: after this (created_at, id). */
export interface DestinationPageKey {
  /** created_at in UTC to the microsecond ("2026-11-30T08:00:00.123456"): a JS Date would round it. */
  createdAt: string;
  id: string;
}

// The list's order (creation, then id for ties) as text that round-trips exactly through a cursor.
const PAGE_KEY = `to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS page_created_at`;
const AFTER = `($2::text IS NULL OR (d.created_at, d.id) > (($2::text)::timestamp AT TIME ZONE 'UTC', $3::text))`;

/**
 * One page of an organization's destinations in creation order, read through the primary key's
 * org_id prefix: `limit + 1` rows are asked for so the caller knows whether another page follows.
 */
export async function listDestinationsPage(
  db: Queryable,
  orgId: string,
  page: { limit: number; after: DestinationPageKey | null },
): Promise<{ rows: DestinationWithCounts[]; next: DestinationPageKey | null }> {
  const { rows } = await db.query<DestinationWithCounts & { page_created_at: string }>(
    `SELECT d.*, ${COUNTS}, ${PAGE_KEY} FROM destinations d
      WHERE d.org_id = $1 AND d.deleted_at IS NULL AND ${AFTER}
      ORDER BY d.created_at, d.id LIMIT $4`,
    [orgId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit + 1],
  );
  const { rows: kept, after } = keysetPage(rows, page.limit);
  return { rows: kept, next: after ? { createdAt: after.page_created_at, id: after.id } : null };
}

/** The ids of one page of the list (same order and keys as listDestinationsPage), without the per-row counts. */
export async function listDestinationIdsPage(
  db: Queryable,
  orgId: string,
  page: { limit: number; after: DestinationPageKey | null },
): Promise<{ ids: string[]; next: DestinationPageKey | null }> {
  const { rows } = await db.query<{ id: string; page_created_at: string }>(
    `SELECT d.id, ${PAGE_KEY} FROM destinations d
      WHERE d.org_id = $1 AND d.deleted_at IS NULL AND ${AFTER}
      ORDER BY d.created_at, d.id LIMIT $4`,
    [orgId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit + 1],
  );
  const { rows: kept, after } = keysetPage(rows, page.limit);
  return { ids: kept.map((r) => r.id), next: after ? { createdAt: after.page_created_at, id: after.id } : null };
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
  sets.push('updated_at = now()');
  const { rowCount } = await db.query(`UPDATE destinations SET ${sets.join(', ')} WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL`, values);
  return rowCount > 0;
}

/** An enabled destination with a filter, as the ingest path evaluates it. */
export interface FilteredDestination {
  org_id: string;
  id: string;
  filter: Record<string, unknown>;
  /**
   * md5 of the stored filter's canonical jsonb text: recordEvents compares it with the row's in the
   * same statement that queues jobs, so a filter changed meanwhile is never applied in its old form.
   */
  version: string;
}

/**
 * The enabled destinations with a filter of these organizations: what recording an event must
 * evaluate. Destinations without a filter take every event in SQL and are not read here.
 */
export async function listFilteredDestinations(db: Queryable, orgIds: readonly string[]): Promise<FilteredDestination[]> {
  const { rows } = await db.query<FilteredDestination>(
    `SELECT org_id, id, filter, md5(filter::text) AS version FROM destinations
      WHERE org_id = ANY($1::text[]) AND enabled AND filter IS NOT NULL ORDER BY org_id, id`,
    [orgIds],
  );
  return rows;
}

/**
 * The first step of a delete: the row is disabled and marked deleted (every reader leaves it out),
 * and its pending jobs are cleared, but for farewells and for jobs a worker is sending right now
 * (claimed, lease running): those settle normally, which is what lets a farewell wait for them.
 * Returns the pending jobs cleared, the in-flight ones included (none is retried after this).
 */
export async function tombstoneDestination(tx: Queryable, orgId: string, id: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `WITH gone AS (
       UPDATE destinations SET enabled = false, deleted_at = now(), updated_at = now() WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING id
     ), cleared AS (
       DELETE FROM forwarding_jobs j
        WHERE j.org_id = $1 AND j.destination_id = $2 AND j.status = 'pending' AND NOT j.farewell
          AND NOT (j.claim_id IS NOT NULL AND j.next_attempt_at > now())
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM forwarding_jobs WHERE org_id = $1 AND destination_id = $2 AND status = 'pending' AND NOT farewell)::int AS n
       FROM gone`,
    [orgId, id],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Removes a deleted destination once no farewell of it is pending; its jobs and delivery log go with
 * it (ON DELETE CASCADE). Returns whether it was removed. Called by the delete itself, after the
 * worker settles a farewell, and by the hourly prune (which also gives up on a farewell after a day).
 */
export async function purgeDeletedDestination(db: Queryable, orgId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM destinations d WHERE d.org_id = $1 AND d.id = $2 AND d.deleted_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM forwarding_jobs j WHERE j.org_id = d.org_id AND j.destination_id = d.id AND j.status = 'pending' AND j.farewell)`,
    [orgId, id],
  );
  return rowCount > 0;
}

/** Farewells older than this are given up on (the key ring lost the credential's key, say). */
const FAREWELL_GIVE_UP = "interval '1 day'";

/**
 * The hourly sweep: removes deleted destinations whose farewell is settled (a worker that settled it
 * died before removing the row) or was deleted more than a day ago. Returns how many went.
 */
export async function purgeDeletedDestinations(db: Queryable): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM destinations d WHERE d.deleted_at IS NOT NULL
        AND (d.deleted_at < now() - ${FAREWELL_GIVE_UP}
             OR NOT EXISTS (SELECT 1 FROM forwarding_jobs j WHERE j.org_id = d.org_id AND j.destination_id = d.id AND j.status = 'pending' AND j.farewell))`,
  );
  return rowCount;
}

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
 * with the re-encrypted old one. Returns false when the row changed (or is gone).
 */
export async function replaceSealedCredentials(
  db: Queryable,
  row: SealedCredentials,
  resealed: Pick<SealedCredentials, 'auth_header_sealed' | 'signing_secret_sealed' | 'previous_signing_secret_sealed' | 'auth_client_secret_sealed'>,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE destinations SET auth_header_sealed = $3, signing_secret_sealed = $4, previous_signing_secret_sealed = $5, auth_client_secret_sealed = $6
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
