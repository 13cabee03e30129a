// Shared fixtures for the queue tests: rows written straight with SQL (the queue speaks only to the
// database, so these tests need no service, crypto or HTTP), and the database's own clock.
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../../../src/db/types.js';
import { claimJobs } from '../../../src/queue/claimJobs.js';
import { recordEvents } from '../../../src/queue/enqueue.js';
import type { ClaimReport } from '../../../src/queue/settleJobs.js';
import type { ClaimedJob } from '../../../src/queue/types.js';

let seq = 0;
const nextId = (prefix: string) => `${prefix}_${process.pid}_${++seq}`;

export async function newOrg(db: Queryable): Promise<string> {
  const id = nextId('org');
  await db.query(`INSERT INTO orgs (id, name) VALUES ($1, $1)`, [id]);
  return id;
}

export async function newDestination(db: Queryable, orgId: string, opts: { enabled?: boolean } = {}): Promise<string> {
  const id = nextId('dst');
  await db.query(`INSERT INTO destinations (org_id, id, siem, url, enabled) VALUES ($1, $2, 'webhook', 'https://siem.example.com/hook', $3)`, [
    orgId,
    id,
    opts.enabled ?? true,
  ]);
  return id;
}

/**
 * What another organization's 2,000 jobs are when the statistics are taken: delivered, to one
 * destination; or dead letters spread over 200 destinations (an unknown destination's dead letters then
 * look more numerous than an unknown organization's jobs: the shape on which the dead-letter walk read
 * the organization's jobs by org_id alone).
 */
export type OthersJobs = 'delivered' | 'dead letters of many destinations';

/**
 * Statistics of tables in use, taken (in `tx`) before the organization tested had a row: another
 * organization's 2,000 events dated `occurredAt`, a job each (`others`), then ANALYZE. Taken on tables
 * with no live row (only rows rolled back by earlier tests) they would say they are empty, and on
 * "empty" every plan costs the same, so the planner walks whatever index, as it would a tiny table:
 * not the state of a service in use (PostgreSQL's autovacuum, and the embedded upkeep, analyze a table
 * long before it holds thousands of dead letters).
 */
export async function analyzeWithOthersJobs(tx: Queryable, occurredAt: Date, others: OthersJobs = 'delivered'): Promise<void> {
  const other = await newOrg(tx);
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO destinations (org_id, id, siem, url, enabled)
     SELECT $1, $1 || '_dst_' || g, 'webhook', 'https://siem.example.com/hook', false FROM generate_series(1, $2::int) g RETURNING id`,
    [other, others === 'delivered' ? 1 : 200],
  );
  await tx.query(`INSERT INTO audit_events (org_id, id, occurred_at, payload) SELECT $1, 'evt_other_' || g, $2, '{}' FROM generate_series(1, 2000) g`, [
    other,
    occurredAt,
  ]);
  await tx.query(
    `INSERT INTO forwarding_jobs (org_id, destination_id, event_id, status, settled_at)
     SELECT $1, ($2::text[])[1 + g % cardinality($2::text[])], 'evt_other_' || g, $3, now() FROM generate_series(1, 2000) g`,
    [other, rows.map((r) => r.id), others === 'delivered' ? 'done' : 'failed'],
  );
  await tx.query('ANALYZE forwarding_jobs');
  await tx.query('ANALYZE audit_events');
}

/** Records `count` events through the outbox (one job per enabled destination); returns their ids in order. */
export async function addEvents(db: Db, orgId: string, count: number, occurredAt = new Date()): Promise<string[]> {
  const ids = Array.from({ length: count }, () => nextId('pflt'));
  await db.transaction((tx) =>
    recordEvents(
      tx,
      ids.map((id, n) => ({ orgId, id, occurredAt, payload: { event: { id }, n } })),
    ),
  );
  return ids;
}

export interface Job {
  id: number;
  event_id: string;
  status: string;
  attempts: number;
  claim_id: string | null;
  next_attempt_at: Date;
  settled_at: Date | null;
  last_error: string | null;
  last_status_code: number | null;
}

export async function jobs(db: Queryable, destinationId: string): Promise<Job[]> {
  const { rows } = await db.query<Job>(
    `SELECT id::int AS id, event_id, status, attempts, claim_id, next_attempt_at, settled_at, last_error, last_status_code
       FROM forwarding_jobs WHERE destination_id = $1 ORDER BY id`,
    [destinationId],
  );
  return rows;
}

export async function job(db: Queryable, id: number): Promise<Job> {
  const { rows } = await db.query<Job>(
    `SELECT id::int AS id, event_id, status, attempts, claim_id, next_attempt_at, settled_at, last_error, last_status_code
       FROM forwarding_jobs WHERE id = $1`,
    [id],
  );
  if (!rows[0]) throw new Error(`no job ${id}`);
  return rows[0];
}

/** The database's clock (the one every queue statement reads), never the test process's. */
export async function dbNow(db: Queryable): Promise<Date> {
  const { rows } = await db.query<{ now: Date }>(`SELECT clock_timestamp() AS now`);
  return new Date(rows[0]!.now);
}

/** Makes every pending job of a destination due now (time passing, without waiting for it). */
export async function makeDue(db: Queryable, destinationId: string): Promise<void> {
  await db.query(`UPDATE forwarding_jobs SET next_attempt_at = now() - interval '1 second' WHERE destination_id = $1 AND status = 'pending'`, [destinationId]);
}

export async function claim(db: Queryable, orgId: string, destinationId: string, opts: { limit?: number; leaseMs?: number; claimId?: string } = {}) {
  const claimId = opts.claimId ?? randomUUID();
  const claimed: ClaimedJob[] = await claimJobs(db, { orgId, destinationId, limit: opts.limit ?? 1000, leaseMs: opts.leaseMs ?? 60_000, claimId });
  return { claimId, claimed, ids: claimed.map((j) => j.id) };
}

export const ms = (a: Date, b: Date) => new Date(a).getTime() - new Date(b).getTime();

/** A claim report for `n` events sent in one request that failed (or succeeded) with `status`. */
export function report(
  orgId: string,
  destinationId: string,
  r: { n: number; ok: boolean; status: number | null; error: string | null; snippet?: string | null },
): ClaimReport {
  return {
    destinationId,
    attempts: [
      {
        orgId,
        destinationId,
        eventCount: r.n,
        deliveredCount: r.ok ? r.n : 0,
        failedCount: r.ok ? 0 : r.n,
        statusCode: r.status,
        durationMs: 12.4,
        error: r.error,
        responseSnippet: r.snippet ?? null,
      },
    ],
    last: { ok: r.ok, error: r.error },
    delivered: r.ok,
  };
}

export interface AttemptRow {
  attempted_at: Date;
  event_count: number;
  delivered_count: number;
  failed_count: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_snippet: string | null;
}

export async function attemptRows(db: Queryable, destinationId: string): Promise<AttemptRow[]> {
  const { rows } = await db.query<AttemptRow>(
    `SELECT attempted_at, event_count, delivered_count, failed_count, status_code, duration_ms, error, response_snippet
       FROM delivery_attempts WHERE destination_id = $1 ORDER BY id`,
    [destinationId],
  );
  return rows;
}

export interface DestState {
  last_attempt_at: Date | null;
  last_attempt_ok: boolean | null;
  last_delivery_at: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
  last_dead_letter_at: Date | null;
  last_delivery_seq: number | null;
  last_dead_letter_seq: number | null;
  consecutive_failures: number;
  paused_until: Date | null;
}

export async function destState(db: Queryable, destinationId: string): Promise<DestState> {
  const { rows } = await db.query<DestState>(
    `SELECT last_attempt_at, last_attempt_ok, last_delivery_at, last_error, last_error_at, last_dead_letter_at, last_delivery_seq, last_dead_letter_seq,
            consecutive_failures, paused_until
       FROM destinations WHERE id = $1`,
    [destinationId],
  );
  if (!rows[0]) throw new Error(`no destination ${destinationId}`);
  return rows[0];
}
