import type { Queryable } from '../db/types.js';
import { recordEvents } from '../queue/enqueue.js';
import { queueFarewell } from '../queue/farewell.js';
import type { FilterRouter } from '../filters/router.js';
import { buildTrailEvent, type TrailActor, type TrailChange, type TrailEvent } from './contract.js';

/**
 * Records a request's trail events through the outbox (queue/enqueue.ts): one job per enabled
 * destination that takes the event, each destination's filter applying as to any event. Called with
 * the transaction that made the change, so the change and its record commit (or roll back) together.
 *
 * `farewellTo`: the destination being disabled or deleted, already disabled in this transaction (so
 * the outbox no longer routes to it). Its own copy of the destination_disabled / destination_deleted
 * event is queued as a farewell, which its filter cannot hold back: its SIEM shows who turned it off.
 *
 * Changes of one request get consecutive milliseconds, so the Activity page lists them in order.
 *
 * `router`: the service's FilterRouter (AppContext.filterRouter). The change's transaction usually
 * holds its organization's or destination's lock here; with the shared router the filters are
 * already compiled and their versions known, so recording costs one statement, not a read and a
 * compile of every filtered destination of the organization while others wait for that lock. Without
 * one (the CLI: one change per process), a fresh router is used.
 */
export async function recordTrail(
  tx: Queryable,
  args: { orgId: string; actor: TrailActor; changes: TrailChange[]; farewellTo?: string | null; router?: FilterRouter },
): Promise<TrailEvent[]> {
  if (args.changes.length === 0) return [];
  const start = Date.now();
  const events = args.changes.map((change, i) => buildTrailEvent({ orgId: args.orgId, actor: args.actor, change, occurredAt: new Date(start + i) }));
  await recordEvents(
    tx,
    events.map((e, i) => ({ orgId: args.orgId, id: e.event.id, occurredAt: new Date(start + i), payload: e })),
    args.router,
  );
  if (args.farewellTo) {
    const notice = events.find((e) => e.event.action === 'destination_disabled' || e.event.action === 'destination_deleted');
    if (notice) await queueFarewell(tx, { orgId: args.orgId, destinationId: args.farewellTo, eventId: notice.event.id });
  }
  return events;
}
