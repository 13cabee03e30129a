import type { Queryable } from '../db/types.js';
import { JOBS_CHANNEL } from './types.js';

/**
 * Queues a destination's farewell: the trail event saying it is being disabled or deleted, for that
 * destination alone, whatever its filter. Called in the transaction that disables (or tombstones) the
 * destination, after the event was recorded; workers are notified on commit. The worker delivers a
 * farewell although the destination no longer takes events (claimJobs.ts, claimFarewellJobs), and
 * only once no other request to it is in flight, so it is the last thing the SIEM receives.
 */
export async function queueFarewell(tx: Queryable, args: { orgId: string; destinationId: string; eventId: string }): Promise<void> {
  await tx.query(
    `WITH job AS (
       INSERT INTO forwarding_jobs (org_id, destination_id, event_id, farewell) VALUES ($1, $2, $3, true) RETURNING 1
     )
     SELECT pg_notify('${JOBS_CHANNEL}', '') FROM job`,
    [args.orgId, args.destinationId, args.eventId],
  );
}
