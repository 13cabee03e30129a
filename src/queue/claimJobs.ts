import { prepared } from '../db/prepared.js';
import type { Queryable } from '../db/types.js';
import { ROW_VERSION } from './dueDestinations.js';
import type { ClaimedJob } from './types.js';

/**
 * What both claims end with, after their own `picked` step ($4 lease in ms, $5 claim id): the picked
 * jobs stamped with the claim, then the claimed rows, their events' payloads and the database's time.
 * By primary key (id = ANY(ARRAY(...))), not a join with picked: joined, the planner hash-joined a
 * sequential scan of the whole table on mid-sized queues (~100k rows). By id alone: picked is this
 * organization's already, and with org_id here the planner could read every job of the organization
 * by forwarding_jobs_event instead (migration 0016).
 * The payload as its stored text (the json column keeps the text the API built), not parsed here: the
 * worker parses it only if it reads more than the event's id and @timestamp (siem/storedEvent.ts), and
 * encoders splice the text instead of serialising the event again. The times as epoch milliseconds (truncated, as a parsed timestamp is): a number
 * per row instead of two timestamps parsed per row, the claim's cost being per event.
 */
const CLAIM_PICKED = `claimed AS (
       UPDATE forwarding_jobs j
          SET claim_id = $5::uuid, next_attempt_at = now() + make_interval(secs => $4::float8 / 1000)
        WHERE j.id = ANY(ARRAY(SELECT id FROM picked))
       RETURNING j.id, j.org_id, j.event_id, j.attempts, j.created_at, j.farewell, j.shed_since, j.shed_due_at
     )
     SELECT c.id, c.org_id, c.event_id, c.attempts, floor(extract(epoch FROM c.created_at) * 1000)::float8 AS created_ms, c.farewell,
            floor(extract(epoch FROM c.shed_since) * 1000)::float8 AS shed_ms, floor(extract(epoch FROM c.shed_due_at) * 1000)::float8 AS shed_due_ms,
            e.payload::text AS payload_text, floor(extract(epoch FROM now()) * 1000)::float8 AS claimed_ms
       FROM claimed c JOIN audit_events e ON e.org_id = c.org_id AND e.id = c.event_id
      ORDER BY c.id`;

interface ClaimedRow {
  id: number;
  org_id: string;
  event_id: string;
  attempts: number;
  created_ms: number;
  farewell: boolean;
  shed_ms: number | null;
  shed_due_ms: number | null;
  payload_text: string;
  claimed_ms: number;
}

function toClaimedJob(r: ClaimedRow): ClaimedJob {
  return {
    id: r.id,
    orgId: r.org_id,
    eventId: r.event_id,
    attempts: r.attempts,
    createdAt: new Date(r.created_ms),
    farewell: r.farewell,
    shedSince: r.shed_ms === null ? null : new Date(r.shed_ms),
    shedDueAt: r.shed_due_ms === null ? null : new Date(r.shed_due_ms),
    payloadJson: r.payload_text,
    claimedAt: new Date(r.claimed_ms),
  };
}

/** claimJobs' statement: $1 org, $2 destination, $3 limit, $4 lease (ms), $5 claim id, $6 config version. */
// Not prepared (db/prepared.ts), unlike the settle: which jobs are due depends on the destination's
// backlog, and a generic plan, made without the destination at hand, cost 13 ms a claim instead of
// 1.5 ms in the latency bench (8.9 million buffer reads in 60 s); planning it costs about 0.3 ms.
export const CLAIM_JOBS_SQL = `WITH picked AS (
       SELECT id FROM forwarding_jobs
        WHERE org_id = $1 AND destination_id = $2 AND status = 'pending' AND next_attempt_at <= now()
          -- A destination disabled (or paused by its circuit breaker or the hold limit, possibly by
          -- another worker) while a runner drains its backlog stops being claimed at the next round.
          AND EXISTS (SELECT 1 FROM destinations d WHERE d.org_id = $1 AND d.id = $2 AND d.enabled
                        AND (d.paused_until IS NULL OR d.paused_until <= now()) AND d.hold_paused_at IS NULL
                        AND ($6::text IS NULL OR ${ROW_VERSION} = $6::text))
        ORDER BY next_attempt_at, id
        LIMIT $3
        FOR UPDATE SKIP LOCKED
     ), ${CLAIM_PICKED}`;

/**
 * Claims up to `limit` due jobs of one destination for `leaseMs`. Locking: FOR UPDATE SKIP LOCKED, so
 * concurrent workers take disjoint sets without waiting on each other. A claim moves next_attempt_at
 * to the lease expiry and stamps a fresh claim id: a worker that dies leaves jobs that simply become
 * due again when the lease runs out (no reaper needed), and only the holder of the claim id can settle.
 */
export async function claimJobs(
  db: Queryable,
  args: {
    orgId: string;
    destinationId: string;
    limit: number;
    leaseMs: number;
    claimId: string;
    /**
     * The destination row's version as the runner read it (ROW_VERSION: updated_at to the microsecond):
     * a destination changed since (URL, credential, options; each change also queues a trail event, so
     * a runner is often busy right then) yields nothing, the runner ends and the next scan starts one
     * with the new settings. Never a credential rotated a moment ago sent with the old one. Compared
     * exactly: every write moves the version by a microsecond at least, and two writes in one
     * millisecond (a credential rotated twice) are two versions.
     */
    configVersion?: string;
  },
): Promise<ClaimedJob[]> {
  const { rows } = await db.query<ClaimedRow>(CLAIM_JOBS_SQL, [
    args.orgId,
    args.destinationId,
    args.limit,
    args.leaseMs,
    args.claimId,
    args.configVersion ?? null,
  ]);
  return rows.map(toClaimedJob);
}

/**
 * Claims a disabled (or deleted) destination's due farewells (queue/farewell.ts): the only jobs
 * ever claimed for a destination that no longer takes events. A farewell waits, though due, while a
 * request to the destination is still in flight (a job claimed under a running lease), so it is the
 * last thing the SIEM receives; a lease that ran out (a dead worker) stops holding it back. The
 * destination's circuit breaker applies as to any job.
 */
export async function claimFarewellJobs(
  db: Queryable,
  args: { orgId: string; destinationId: string; limit: number; leaseMs: number; claimId: string },
): Promise<ClaimedJob[]> {
  const { rows } = await db.query<ClaimedRow>(
    `WITH picked AS (
       SELECT id FROM forwarding_jobs
        WHERE org_id = $1 AND destination_id = $2 AND status = 'pending' AND farewell AND next_attempt_at <= now()
          AND EXISTS (SELECT 1 FROM destinations d WHERE d.org_id = $1 AND d.id = $2
                        AND (d.paused_until IS NULL OR d.paused_until <= now()))
          AND NOT EXISTS (SELECT 1 FROM forwarding_jobs o
                           WHERE o.org_id = $1 AND o.destination_id = $2 AND o.status = 'pending' AND NOT o.farewell
                             AND o.claim_id IS NOT NULL AND o.next_attempt_at > now())
        ORDER BY next_attempt_at, id
        LIMIT $3
        FOR UPDATE SKIP LOCKED
     ), ${CLAIM_PICKED}`,
    [args.orgId, args.destinationId, args.limit, args.leaseMs, args.claimId],
  );
  return rows.map(toClaimedJob);
}

/** Heartbeat: pushes the lease of still-held jobs forward while a slow delivery is in progress. */
export async function extendLease(db: Queryable, args: { claimId: string; ids: number[]; leaseMs: number }): Promise<number> {
  const { rowCount } = await db.query(EXTEND_LEASE_SQL, [args.claimId, args.ids, args.leaseMs]);
  return rowCount;
}

/** By primary key, fenced by the claim id alone, as a settle is (settleJobs.ts, settleCtes). */
export const EXTEND_LEASE_SQL = prepared(`UPDATE forwarding_jobs SET next_attempt_at = now() + make_interval(secs => $3::float8 / 1000)
      WHERE id = ANY($2::bigint[]) AND claim_id = $1::uuid`);
