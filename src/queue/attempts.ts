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
