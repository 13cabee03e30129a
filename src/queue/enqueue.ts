import { prepared } from '../db/prepared.js';
import type { Queryable } from '../db/types.js';
import { JOBS_CHANNEL } from './types.js';
import { AppError } from '../errors.js';
import { FilterRouter } from '../filters/router.js';
import { filterVersionSql } from './dueDestinations.js';

export interface NewEvent {
  orgId: string;
  id: string;
  occurredAt: Date;
  payload: unknown;
}

/**
 * The outbox in one statement per organization: records the events, queues one job per enabled
 * destination of their organization that takes them and NOTIFYs workers (delivered on commit) when it
 * queued any. One statement is atomic on its own, so callers need no transaction (one may still wrap
 * it). Idempotent on (org_id, event id): an event already recorded is neither recorded nor queued
 * again. Returns the ids that were new.
 *
 * Filters: a destination without one takes every event (joined here); one with a filter takes the
 * events the caller found matching ($7/$8 pairs, filters/router.ts). The statement first proves that
 * the filtered destinations the pairs were computed against ($5/$6: id and md5 of the filter) are
 * exactly the enabled filtered destinations now; otherwise it records nothing and answers stale, and
 * the caller reads the filters again and retries. The proof reads the statement's snapshot, and
 * then the destinations given jobs as their lock returns them: a destination changed after the snapshot
 * (its PATCH committed meanwhile, or holding the lock until then) is handed to the lock in its new
 * version, and PostgreSQL checks the locking query's conditions again on it. Filtered by its new row
 * and judged fresh by the snapshot, a destination given a filter got no job at all (a race hunt, 17 of
 * 40 runs): the locked rows are therefore chosen by id from the snapshot and proven against the
 * routing too. So a filter is applied in the same atomic step that records the event, never in a form
 * changed meanwhile. Only the destinations given jobs are locked, as before: locking every enabled
 * one made two destination changes recording their trail events deadlock.
 *
 * Parents: the organization and the destinations are share-locked once here (FOR KEY SHARE), where
 * foreign keys checked them once per event and per job (migration 0017): deleting either waits for
 * this statement, and its cascade (a trigger) then finds the events and jobs it committed.
 *
 * Why one statement: per request this was BEGIN, two INSERTs, a NOTIFY and COMMIT (five round trips,
 * each parsed and planned). Why the payloads as one JSON array: as a json[] parameter each payload was
 * JSON.stringify'd and then escaped again as an array element (half the API's cost of this function);
 * json_array_elements hands each element to the json column as the exact text JSON.stringify produced
 * (json keeps text as given: field order and escapes unchanged). Not json_to_recordset over one
 * document: it builds a field table per record and cost Postgres 50 % more per event.
 */
// One organization per statement, as a scalar: with the organizations as an array ($n = ANY(...)),
// a generic plan guesses ten of them and reads ten organizations' destinations per event, an estimate
// several times its custom plans' once destinations number in the thousands, so PostgreSQL planned
// the statement anew for every request (0.6 ms each with 50,000 destinations: bench many). With one
// organization both plans estimate alike and it keeps the generic one (preparedStatements.test.ts).
const RECORD_SQL = prepared(`
WITH fresh AS (
  SELECT NOT EXISTS (
    SELECT 1 FROM destinations d
     WHERE d.org_id = $1 AND d.enabled AND d.filter IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM unnest($5::text[], $6::text[]) AS f(id, version) WHERE f.id = d.id AND f.version = ${filterVersionSql('d')})
  ) AS ok
), org AS (
  SELECT 1 FROM orgs WHERE id = $1 FOR KEY SHARE
), dests AS (
  -- Only those given jobs: every unfiltered one, and the filtered ones some event matched, chosen by
  -- the snapshot (the ARRAY, evaluated once) and read as their lock returns them. The organization is
  -- locked first, in the order a destination change takes the two.
  SELECT id, filter IS NULL AS takes_all, ${filterVersionSql()} AS version FROM destinations
   WHERE org_id = $1 AND enabled AND EXISTS (SELECT 1 FROM org)
     AND id = ANY(ARRAY(SELECT id FROM destinations WHERE org_id = $1 AND enabled AND (filter IS NULL OR id = ANY($8::text[]))))
     FOR KEY SHARE
), locked_fresh AS (
  SELECT NOT EXISTS (
    SELECT 1 FROM dests d
     WHERE NOT d.takes_all
       AND NOT EXISTS (SELECT 1 FROM unnest($5::text[], $6::text[]) AS f(id, version) WHERE f.id = d.id AND f.version = d.version)
  ) AS ok
), ins AS (
  INSERT INTO audit_events (org_id, id, occurred_at, payload)
  SELECT $1, e.id, e.occurred_at, p.payload
    FROM unnest($2::text[], $3::timestamptz[]) WITH ORDINALITY AS e(id, occurred_at, n)
    JOIN json_array_elements($4::json) WITH ORDINALITY AS p(payload, n) USING (n)
   WHERE (SELECT ok FROM fresh) AND (SELECT ok FROM locked_fresh) AND EXISTS (SELECT 1 FROM org)
  ON CONFLICT (org_id, id) DO NOTHING
  RETURNING id
), jobs AS (
  INSERT INTO forwarding_jobs (org_id, destination_id, event_id)
  SELECT $1, d.id, ins.id FROM ins CROSS JOIN dests d WHERE d.takes_all
  UNION ALL
  SELECT $1, d.id, ins.id
    FROM ins JOIN unnest($7::text[], $8::text[]) AS m(event_id, destination_id) ON m.event_id = ins.id
    JOIN dests d ON d.id = m.destination_id AND NOT d.takes_all
  RETURNING 1
)
SELECT coalesce((SELECT array_agg(id) FROM ins), '{}') AS inserted,
       (SELECT count(*) FROM jobs)::int AS jobs,
       NOT ((SELECT ok FROM fresh) AND (SELECT ok FROM locked_fresh)) AS stale,
       (SELECT count(*) FROM (SELECT pg_notify('${JOBS_CHANNEL}', '') FROM (SELECT 1 FROM jobs LIMIT 1) one) n)::int AS notified`);

/** Filters changing under a busy ingest can refute the routing a few times in a row; never forever. */
const MAX_ROUTING_ATTEMPTS = 5;

/**
 * Records the events and queues their jobs (see RECORD_SQL). `router` keeps filters compiled across
 * calls (the API passes its own). It guesses "no filtered destination" for an organization it has not
 * seen, so an organization without filters records in one statement, router or not; one with filters
 * costs a refused statement and a read the first time, then one statement while its filters stay.
 */
export async function recordEvents(
  db: Queryable,
  events: NewEvent[],
  router: FilterRouter = new FilterRouter(),
): Promise<{ inserted: string[]; jobs: number }> {
  // Every caller records one organization's events (a request's, a change's trail); several are
  // recorded one organization at a time, each atomically.
  const byOrg = new Map<string, NewEvent[]>();
  for (const e of events) {
    const list = byOrg.get(e.orgId);
    if (list) list.push(e);
    else byOrg.set(e.orgId, [e]);
  }
  const out = { inserted: [] as string[], jobs: 0 };
  for (const [orgId, list] of byOrg) {
    const r = await recordOrgEvents(db, orgId, list, router);
    out.inserted.push(...r.inserted);
    out.jobs += r.jobs;
  }
  return out;
}

async function recordOrgEvents(db: Queryable, orgId: string, events: NewEvent[], router: FilterRouter): Promise<{ inserted: string[]; jobs: number }> {
  const params = [
    orgId,
    events.map((e) => e.id),
    // ISO 8601 UTC strings: the same instant the driver would send for a Date, without its per-Date formatting.
    events.map((e) => e.occurredAt.toISOString()),
    JSON.stringify(events.map((e) => e.payload)),
  ];
  for (let attempt = 1; ; attempt++) {
    const routing = await router.route(events);
    const { rows } = await db.query<{ inserted: string[]; jobs: number; stale: boolean }>(RECORD_SQL, [
      ...params,
      routing.destinations.map((d) => d.id),
      routing.destinations.map((d) => d.version),
      routing.pairs.map((p) => p.eventId),
      routing.pairs.map((p) => p.destinationId),
    ]);
    const row = rows[0]!;
    if (!row.stale) return { inserted: row.inserted, jobs: row.jobs };
    if (attempt >= MAX_ROUTING_ATTEMPTS) {
      throw new AppError(
        'service_unavailable',
        'Destination filters kept changing while these events were recorded; nothing was recorded. Retry the request.',
        {
          retryAfterS: 1,
        },
      );
    }
    await router.refresh(db, [orgId]);
  }
}

/**
 * The aegis fields of an event as recorded (the wire event's `aegis` object), or null when the
 * organization has no such event: a preflight retried under its Idempotency-Key is compared with
 * what its first try recorded (events/record.ts).
 */
export async function recordedAegisFields(db: Queryable, orgId: string, eventId: string): Promise<Record<string, unknown> | null> {
  const { rows } = await db.query<{ aegis: string | null }>(`SELECT (payload -> 'aegis')::text AS aegis FROM audit_events WHERE org_id = $1 AND id = $2`, [
    orgId,
    eventId,
  ]);
  const aegis = rows[0]?.aegis;
  return aegis ? (JSON.parse(aegis) as Record<string, unknown>) : null;
}
