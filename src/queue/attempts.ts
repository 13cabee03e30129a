import type { Queryable } from '../db/types.js';

/** One HTTP request to a SIEM (delivery or test probe): the per-delivery log. */
export interface AttemptRecord {
  orgId: string;
  destinationId: string;
  eventCount: number;
  deliveredCount: number;
  failedCount: number;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseSnippet: string | null;
}

/**
 * The delivery log rows of one claim: every failed (or partly failed) request keeps a row of its own,
 * and the requests that delivered everything they carried with the same HTTP status share one row
 * (event counts summed, the slowest duration, the first snippet). A one-event-per-request preset
 * (custom webhook) made a log row per event, each an index entry and a foreign-key check on the
 * destination: with this a claim of 64 events writes one row for its successes. The failures, which
 * are what the log is read for, stay one row per request.
 */
export function compactAttempts(recs: AttemptRecord[]): AttemptRecord[] {
  const out: AttemptRecord[] = [];
  const merged = new Map<number | null, AttemptRecord>();
  for (const r of recs) {
    if (r.error !== null || r.failedCount !== 0) {
      out.push(r);
      continue;
    }
    const into = merged.get(r.statusCode);
    if (!into) {
      const row = { ...r };
      merged.set(r.statusCode, row);
      out.push(row);
      continue;
    }
    into.eventCount += r.eventCount;
    into.deliveredCount += r.deliveredCount;
    into.durationMs = Math.max(into.durationMs, r.durationMs);
    into.responseSnippet ??= r.responseSnippet;
  }
  return out;
}

export async function insertAttempts(db: Queryable, recs: AttemptRecord[]): Promise<void> {
  if (recs.length === 0) return;
  await db.query(
    `INSERT INTO delivery_attempts (org_id, destination_id, event_count, delivered_count, failed_count, status_code, duration_ms, error, response_snippet)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::text[], $9::text[])`,
    [
      recs.map((r) => r.orgId),
      recs.map((r) => r.destinationId),
      recs.map((r) => r.eventCount),
      recs.map((r) => r.deliveredCount),
      recs.map((r) => r.failedCount),
      recs.map((r) => r.statusCode),
      recs.map((r) => Math.round(r.durationMs)),
      recs.map((r) => r.error),
      recs.map((r) => (r.responseSnippet ? r.responseSnippet.slice(0, 512) : null)),
    ],
  );
}

/** One logged request as the delivery log API answers it. */
export interface AttemptView {
  attempted_at: string;
  status_code: number | null;
  event_count: number;
  delivered_count: number;
  failed_count: number;
  duration_ms: number;
  error: string | null;
  response_snippet: string | null;
}

/**
 * Rows one filtered page of the delivery log examines at most: about 2 ms of reading on PGlite (a
 * scan of 1,000,000 took 111 ms), so four such requests of one organization hold the embedded
 * database's one connection a few ms, while a search for one failure among a million successes takes
 * 50 pages, not the 2,000 a bound per page size (the pull API's) would take for a page of 50.
 */
export const FILTERED_SCAN_ROWS = 20_000;

/**
 * A page of one destination's delivery log, newest first. `beforeId` continues after the previous
 * page's last row (the opaque cursor carries it); `outcome` keeps the requests that failed (an error
 * was recorded) or those that did not; `since`/`until` bound attempted_at (inclusive, exclusive), as
 * exact instants: the column holds the microseconds of the database's now().
 *
 * The filters are tests on each row, not index ranges (no index serves them), so a filter that
 * matches little (failures in a log of successes, an empty window) could make one request read the
 * destination's whole log, and on PGlite's one connection every organization waits behind it. With
 * a filter, one request therefore examines at most FILTERED_SCAN_ROWS rows, newest first; the
 * cursor moves to the last row examined, so a page may be short or empty and still have a next page.
 * Without a filter every row matches and this is the plain keyset page (limit + 1 rows read).
 */
export async function listAttempts(
  db: Queryable,
  orgId: string,
  destinationId: string,
  q: { limit: number; beforeId: number | null; outcome: 'failed' | 'delivered' | null; since: string | null; until: string | null },
): Promise<{ attempts: AttemptView[]; afterId: number | null }> {
  const filtered = q.outcome !== null || q.since !== null || q.until !== null;
  const scan = filtered ? Math.max(FILTERED_SCAN_ROWS, q.limit + 1) : q.limit + 1;
  // The scan reads each row's id and whether it matches, and only the first limit + 1 matches are
  // read whole: a filter that matches most rows must not bring 20,000 errors and snippets into the
  // process to show 50. One summary row (how many were examined, and the oldest) even when none matched.
  const { rows } = await db.query<
    Omit<AttemptView, 'attempted_at'> & { id: number | null; attempted_at: Date | null; examined: number; oldest: number | null }
  >(
    `WITH examined AS MATERIALIZED (
       SELECT id, ($4::text IS NULL OR ($4 = 'failed') = (error IS NOT NULL))
                  AND ($5::timestamptz IS NULL OR attempted_at >= $5)
                  AND ($6::timestamptz IS NULL OR attempted_at < $6) AS hit
         FROM delivery_attempts
        WHERE org_id = $1 AND destination_id = $2
          AND ($3::bigint IS NULL OR id < $3)
        ORDER BY id DESC
        LIMIT $7
     )
     SELECT s.examined, s.oldest, a.id, a.attempted_at, a.status_code, a.event_count, a.delivered_count, a.failed_count,
            a.duration_ms, a.error, a.response_snippet
       FROM (SELECT count(*)::int AS examined, min(id) AS oldest FROM examined) s
       LEFT JOIN delivery_attempts a
         ON a.org_id = $1 AND a.id IN (SELECT id FROM examined WHERE hit ORDER BY id DESC LIMIT $8)
      ORDER BY a.id DESC`,
    [orgId, destinationId, q.beforeId, q.outcome, q.since, q.until, scan, q.limit + 1],
  );
  const hits = rows.filter((r) => r.id !== null);
  const attempts: AttemptView[] = hits
    .slice(0, q.limit)
    .map(({ id: _id, examined: _examined, oldest: _oldest, attempted_at, ...rest }) => ({ attempted_at: new Date(attempted_at!).toISOString(), ...rest }));
  // A full page with a match after it goes on after its last entry; a shorter one after the last row
  // examined, when the scan stopped at its bound (the rest of the log not read yet).
  if (hits.length > q.limit) return { attempts, afterId: hits[q.limit - 1]!.id };
  const summary = rows[0];
  return { attempts, afterId: summary && summary.examined === scan ? summary.oldest : null };
}
