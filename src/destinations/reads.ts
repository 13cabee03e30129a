// Reads and lists of destination rows: the API's views, the worker's bare row and the ingest path's
// filtered destinations. The locks a change takes are in writes.ts.
import type { Queryable } from '../db/types.js';
import { keysetPage } from '../db/page.js';
import { filterVersionSql, ROW_VERSION } from '../queue/dueDestinations.js';
import { QUEUE_COUNT_CAP } from '../queue/countCap.js';
import type { DestinationWithCounts, VersionedDestinationRow } from './row.js';

/**
 * The view's queue figures, each reading at most QUEUE_COUNT_CAP entries of a partial index whatever
 * the backlog: counting a million pending jobs took seconds per destination and slowed every other
 * organization's reads on the shared database. A count that answers the cap means "at least this many"
 * (the API's descriptions say so). The counts walk forwarding_jobs_due and forwarding_jobs_failed
 * index-only; there is no org_id in their conditions because neither index has it, and a filter on it
 * turned the walk into a bitmap scan of the destination's whole range, LIMIT or not (EXPLAIN). Leaving
 * it out reads no other organization's jobs: destination ids are unique across organizations
 * (destinations_id) and every writer queues a job under its destination's organization.
 *
 * No index orders pending jobs by created_at: oldest_pending_at is the earliest creation among the
 * first QUEUE_COUNT_CAP pending jobs in due order. A fresh job is due when it is created, so these are
 * the oldest but for jobs whose retry is due after all of them.
 */
const COUNTS = `
  (SELECT count(*)::int FROM (SELECT 1 FROM forwarding_jobs j WHERE j.destination_id = d.id AND j.status = 'pending' LIMIT ${QUEUE_COUNT_CAP}) p) AS pending_events,
  (SELECT min(o.created_at) FROM (SELECT j.created_at FROM forwarding_jobs j WHERE j.destination_id = d.id AND j.status = 'pending'
     ORDER BY j.next_attempt_at, j.id LIMIT ${QUEUE_COUNT_CAP}) o) AS oldest_pending_at,
  (SELECT count(*)::int FROM (SELECT 1 FROM forwarding_jobs j WHERE j.destination_id = d.id AND j.status = 'failed' LIMIT ${QUEUE_COUNT_CAP}) f) AS failed_events`;

/**
 * The bare row and its version, without the queue counts (deleted ones too, whose farewell is on its
 * way): what the worker reads when it starts draining a destination whose row it does not hold in
 * this version (delivery/rowCache.ts). Counting a destination's pending jobs walks all of them, which
 * on a backlog of a million events costs more than the claim the runner is about to make.
 */
export async function getDestinationRow(db: Queryable, orgId: string, id: string): Promise<VersionedDestinationRow | null> {
  const { rows } = await db.query<VersionedDestinationRow>(`SELECT d.*, ${ROW_VERSION} AS row_version FROM destinations d WHERE d.org_id = $1 AND d.id = $2`, [
    orgId,
    id,
  ]);
  return rows[0] ?? null;
}

/**
 * Which of these destination ids still have a row (deleted ones too, until their farewell is settled
 * and the row purged): what a worker keeps metrics series and limiters for.
 */
export async function destinationIdsWithRows(db: Queryable, ids: readonly string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM destinations WHERE id = ANY($1::text[])', [ids]);
  return new Set(rows.map((r) => r.id));
}

/** Whether the organization has this (not deleted) destination: a primary-key probe, no queue counts. */
export async function destinationExists(db: Queryable, orgId: string, id: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM destinations WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL', [orgId, id]);
  return rows.length > 0;
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
    `SELECT org_id, id, filter, ${filterVersionSql()} AS version FROM destinations
      WHERE org_id = ANY($1::text[]) AND enabled AND filter IS NOT NULL ORDER BY org_id, id`,
    [orgIds],
  );
  return rows;
}
