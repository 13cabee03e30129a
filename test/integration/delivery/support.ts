// Shared helpers for the delivery and fault tests: seed events straight into the outbox (fast), read
// job rows, and extract the event ids a receiver got from any preset's body.
import type { Db, Queryable } from '../../../src/db/types.js';
import { buildWireEvent, newPreflightId, type WireEvent } from '../../../src/events/contract.js';
import { recordEvents } from '../../../src/queue/enqueue.js';
import type { ReceivedRequest } from '../../support/httpsReceiver.js';

export function makeEvent(orgId: string, n = 0, summary = `Detected SSN; masked. (#${n})`): WireEvent {
  return buildWireEvent({
    orgId,
    occurredAt: new Date(),
    fields: {
      preflight_id: newPreflightId(),
      decision: 'ALLOWED_WITH_MASKING',
      destination: 'AI_TOOL',
      summary,
      policy_version: 'v1.0',
      policy_id: 'pol_default',
      source_type: 'api',
      input_type: 'text',
      input_size_bytes: 200 + n,
      finding_counts_by_type: { SSN: 1, EMAIL: 2 },
      actor_id: 'alice@example.com',
    },
  });
}

/** Records `count` events for `orgId` in transactions of `chunk` (queues one job per enabled destination). */
export async function seedEvents(db: Db, orgId: string, count: number, chunk = 5000): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += chunk) {
    const events = Array.from({ length: Math.min(chunk, count - i) }, (_, k) => makeEvent(orgId, i + k));
    await db.transaction((tx: Queryable) =>
      recordEvents(
        tx,
        events.map((e) => ({ orgId, id: e.event.id, occurredAt: new Date(), payload: e })),
      ),
    );
    ids.push(...events.map((e) => e.event.id));
  }
  return ids;
}

export interface JobRow {
  id: number;
  event_id: string;
  status: string;
  attempts: number;
  claim_id: string | null;
  next_attempt_at: Date;
  last_error: string | null;
}

// The jobs of the events a test seeded: configuration trail events (ids "cfg_", queued when the test
// created or changed the destination) are left out.
export async function jobRows(db: Queryable, destinationId: string): Promise<JobRow[]> {
  const { rows } = await db.query<JobRow>(
    `SELECT id, event_id, status, attempts, claim_id, next_attempt_at, last_error FROM forwarding_jobs WHERE destination_id = $1 AND left(event_id, 4) <> 'cfg_' ORDER BY id`,
    [destinationId],
  );
  return rows;
}

export async function statusCounts(db: Queryable, destinationId: string): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM forwarding_jobs WHERE destination_id = $1 AND left(event_id, 4) <> 'cfg_' GROUP BY status`,
    [destinationId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/**
 * What a destination's delivery log says its requests carried (events delivered, events failed),
 * configuration trail events included: a delivered job is deleted when it is settled, so the log and
 * the receivers are what show a delivery happened, and how many times.
 */
export async function deliveryLog(db: Queryable, destinationId: string): Promise<{ delivered: number; failed: number }> {
  const { rows } = await db.query<{ delivered: number; failed: number }>(
    `SELECT coalesce(sum(delivered_count), 0)::int AS delivered, coalesce(sum(failed_count), 0)::int AS failed
       FROM delivery_attempts WHERE destination_id = $1 AND event_count > 0`,
    [destinationId],
  );
  return rows[0] ?? { delivered: 0, failed: 0 };
}

/** Event ids carried by one request, whatever the preset's body shape. */
export function eventIdsOf(req: ReceivedRequest): string[] {
  const text = req.body.toString('utf8');
  const ids: string[] = [];
  for (const m of text.matchAll(/"event":\{"id":"(pflt_[A-Za-z0-9_-]+)"/g)) ids.push(m[1]!);
  return ids;
}

/** Every event id received so far, with how many times each arrived. */
export function receivedCounts(requests: readonly ReceivedRequest[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of requests) for (const id of eventIdsOf(r)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Whether every one of `eventIds` was delivered to a destination: its receiver got the event, and no
 * job of it is left. Jobs are queued in the transaction that records the event, and a settle deletes a
 * delivered job while a retried or dead-lettered one stays ('pending', 'failed'): a seeded event with
 * no job left was delivered. Receivers record a request before answering it, so once the job is gone
 * the receiver already holds every request that carried it.
 */
export async function allDelivered(db: Queryable, destinationId: string, eventIds: readonly string[], requests: readonly ReceivedRequest[]): Promise<boolean> {
  const got = receivedCounts(requests);
  if (!eventIds.every((id) => got.has(id))) return false;
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM forwarding_jobs WHERE destination_id = $1 AND event_id = ANY($2::text[])`, [
    destinationId,
    [...eventIds],
  ]);
  return rows[0]!.n === 0;
}
