import type { Queryable } from '../db/types.js';
import { PULL_BOUND_SQL } from './pullOrder.js';

/** A position in one organization's recording order: after the event (txid, id). */
export interface PullPosition {
  /** The recording transaction's 64-bit id, as decimal text (it may exceed 2^53 on a long-lived server). */
  txid: string;
  id: string;
}

/** The position before every event (rows recorded before the txid column existed read 0; no id is empty). */
export const START: PullPosition = { txid: '0', id: '' };

export interface PullPage {
  /**
   * Wire events as their stored JSON text, exactly as recorded (as the API wrote them, what a webhook
   * destination receives; metadata only): spliced into an answer as they are, never parsed and
   * serialised again (a page of 1,000 large events cost the API's thread a fifth of a second so).
   */
  events: string[];
  /** Where the next page starts; null when nothing newer is readable yet. */
  last: PullPosition | null;
  /** True when the page was full: there may be more right away. */
  more: boolean;
}

/**
 * One page of an organization's recorded events, in recording order (txid, id), after `after`.
 *
 * Why this order and bound (the no-gap, no-repeat promise while events are being recorded): each row
 * carries the id of the transaction that recorded it, and only rows whose transaction id is below
 * pg_snapshot_xmin of this statement's snapshot are read. Every transaction below that bound has
 * committed or aborted, so every row it wrote is visible now and for good; a transaction still in
 * progress has an id at or above the bound, so its rows will sort after everything handed out so
 * far. Ordering by a sequence or by recorded_at alone would skip a row whose transaction took its
 * number (or its now()) first but committed after a later one had been read. The cost: an event
 * shows up once every transaction older than its own has ended, so a long-running write
 * transaction anywhere on the server delays (never loses) new events. Works the same on PostgreSQL
 * and on PGlite (one connection: the bound is simply the next transaction id). Both sides carry the
 * offset of pullOrder.ts, which keeps this order whole when the database moves to another server.
 *
 * `since`/`until` bound occurred_at (the event's @timestamp; inclusive, exclusive) and are applied
 * to every page: they filter, they do not define the position. So that a window matching few or no
 * events cannot make each request walk the organization's whole stream (and a poller stuck on an
 * empty window repeat that forever), one request examines at most PULL_SCAN_PER_PAGE x limit rows
 * (PULL_SCAN_MAX at most): the position then moves to the last row examined, and `more` says to ask
 * again at once. The payload is read only for rows in the window.
 */
export async function pullEvents(
  db: Queryable,
  orgId: string,
  q: { after: PullPosition | null; since: Date | null; until: Date | null; limit: number },
): Promise<PullPage> {
  const windowed = q.since !== null || q.until !== null;
  const scan = windowed ? Math.min(q.limit * PULL_SCAN_PER_PAGE, Math.max(PULL_SCAN_MAX, q.limit)) : q.limit;
  // The position's txid is read as text under another name: ORDER BY txid must sort the bigint
  // column, and an output column named txid would take precedence (and sort as text).
  const { rows } = await db.query<{ pos_txid: string; id: string; hit: boolean; payload_text: string | null }>(
    `SELECT txid::text AS pos_txid, id, w.hit, CASE WHEN w.hit THEN payload::text END AS payload_text
       FROM audit_events,
            LATERAL (SELECT ($4::timestamptz IS NULL OR occurred_at >= $4) AND ($5::timestamptz IS NULL OR occurred_at < $5) AS hit) w
      WHERE org_id = $1
        AND txid < ${PULL_BOUND_SQL}
        -- Always a position (the start is (0, '')), never "IS NULL OR": the row comparison must stay an
        -- index bound, or every page would re-read the organization's stream from its beginning.
        AND (txid, id) > ($2::bigint, $3::text)
      ORDER BY txid, id
      LIMIT $6`,
    [orgId, (q.after ?? START).txid, (q.after ?? START).id, q.since, q.until, scan],
  );
  const events: string[] = [];
  let last: PullPosition | null = q.after;
  for (const r of rows) {
    last = { txid: r.pos_txid, id: r.id };
    if (r.hit) events.push(r.payload_text!);
    if (events.length === q.limit) break;
  }
  return { events, last, more: events.length === q.limit || rows.length === scan };
}

/** With since/until: rows examined per returned row at most, and in all (bounds one request's work). */
export const PULL_SCAN_PER_PAGE = 10;
export const PULL_SCAN_MAX = 10_000;

/**
 * Every event of `orgId` in [since, until) in recording order, page by page (the export command).
 * Same order and bound as pullEvents, so an export taken while events are being recorded holds
 * each event exactly once.
 */
export async function* pullAll(db: Queryable, orgId: string, window: { since: Date | null; until: Date | null }, pageSize = 1000): AsyncGenerator<string[]> {
  let after: PullPosition | null = null;
  for (;;) {
    const page = await pullEvents(db, orgId, { after, since: window.since, until: window.until, limit: pageSize });
    if (page.events.length > 0) yield page.events;
    if (!page.more) return;
    after = page.last;
  }
}

/** How many events of `orgId` fall in [since, until) by occurred_at (the export's progress total). */
export async function countEvents(db: Queryable, orgId: string, window: { since: Date | null; until: Date | null }): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM audit_events
      WHERE org_id = $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2) AND ($3::timestamptz IS NULL OR occurred_at < $3)`,
    [orgId, window.since, window.until],
  );
  return rows[0]?.n ?? 0;
}
