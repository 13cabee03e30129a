import type { Queryable } from '../db/types.js';

/** A position in one organization's recording order: after the event (txid, id). */
export interface PullPosition {
  /** The recording transaction's 64-bit id, as decimal text (it may exceed 2^53 on a long-lived server). */
  txid: string;
  id: string;
}

/** The position before every event (rows recorded before the txid column existed read 0; no id is empty). */
export const START: PullPosition = { txid: '0', id: '' };

export interface PullPage {
  /** Wire events, exactly as stored and as a webhook destination receives them (metadata only). */
  events: unknown[];
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
 * and on PGlite (one connection: the bound is simply the next transaction id).
 *
 * `since`/`until` bound occurred_at (the event's @timestamp; inclusive, exclusive) and are applied
 * to every page: they filter, they do not move the position.
 */
export async function pullEvents(
  db: Queryable,
  orgId: string,
  q: { after: PullPosition | null; since: Date | null; until: Date | null; limit: number },
): Promise<PullPage> {
  // The position's txid is read as text under another name: ORDER BY txid must sort the bigint
  // column, and an output column named txid would take precedence (and sort as text).
  const { rows } = await db.query<{ pos_txid: string; id: string; payload: unknown }>(
    `SELECT txid::text AS pos_txid, id, payload
       FROM audit_events
      WHERE org_id = $1
        AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
        -- Always a position (the start is (0, '')), never "IS NULL OR": the row comparison must stay an
        -- index bound, or every page would re-read the organization's stream from its beginning.
        AND (txid, id) > ($2::bigint, $3::text)
        AND ($4::timestamptz IS NULL OR occurred_at >= $4)
        AND ($5::timestamptz IS NULL OR occurred_at < $5)
      ORDER BY txid, id
      LIMIT $6`,
    [orgId, (q.after ?? START).txid, (q.after ?? START).id, q.since, q.until, q.limit],
  );
  const lastRow = rows[rows.length - 1];
  return {
    events: rows.map((r) => r.payload),
    last: lastRow ? { txid: lastRow.pos_txid, id: lastRow.id } : q.after,
    more: rows.length === q.limit,
  };
}

/**
 * Every event of `orgId` in [since, until) in recording order, page by page (the export command).
 * Same order and bound as pullEvents, so an export taken while events are being recorded holds
 * each event exactly once.
 */
export async function* pullAll(
  db: Queryable,
  orgId: string,
  window: { since: Date | null; until: Date | null },
  pageSize = 1000,
): AsyncGenerator<unknown[]> {
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
