// The pull API's order across a move of the database to another PostgreSQL server (migration 0025):
// the offset every recorded event's txid carries, and the check that raises it.
import type { Queryable } from '../db/types.js';

/** The highest txid stored, found by one probe of audit_events_pull per organization (no table scan). */
const HIGHEST_STORED = `(SELECT max(top.txid) FROM orgs o
   CROSS JOIN LATERAL (SELECT e.txid FROM audit_events e WHERE e.org_id = o.id ORDER BY e.txid DESC LIMIT 1) top)`;

/** The pull API's bound in the same numbers as the stored txids (pull.ts): the oldest running transaction, offset. */
export const PULL_BOUND_SQL = `(pg_snapshot_xmin(pg_current_snapshot())::text::bigint + (SELECT txid_offset FROM pull_order))`;

export interface PullOrderMove {
  /** The highest txid stored, which the next event recorded must sort after. */
  highestStored: string;
  offsetBefore: string;
  offsetAfter: string;
}

/**
 * Raises the offset when a stored event's txid is at or above what the next transaction's event
 * would get (its id plus the offset): the events came from a server whose transaction counter ran
 * further, by a pg_dump restored elsewhere or a logical replica promoted. New events then take ids
 * above every stored one, still in the order their transactions commit (the offset is one constant),
 * and cursors given out before the move keep their place. Null when nothing had to change (every
 * start but the first after such a move: one index probe per organization, no write).
 *
 * Runs in the migration's transaction, under its lock (one process at a time). The table lock waits
 * for inserts in flight and holds new ones until commit, so no event is recorded with the old
 * offset once the new one is in force; the pull bound reads the offset in the same snapshot as the
 * rows it bounds.
 */
export async function alignPullOrder(tx: Queryable): Promise<PullOrderMove | null> {
  // A schema migrated only part of the way (a test's own migrations) has no offset to keep.
  const { rows: ready } = await tx.query<{ t: string | null }>(`SELECT to_regclass('pull_order')::text AS t`);
  if (ready[0]?.t == null) return null;
  const state = async () => {
    const { rows } = await tx.query<{ offset: string; oldest: string; next: string; top: string | null }>(
      `SELECT (SELECT txid_offset FROM pull_order)::text AS offset,
              pg_snapshot_xmin(pg_current_snapshot())::text AS oldest,
              pg_snapshot_xmax(pg_current_snapshot())::text AS next,
              ${HIGHEST_STORED}::text AS top`,
    );
    return rows[0]!;
  };
  // Every id handed out so far is below xmax: a stored txid at or above xmax + offset came from
  // elsewhere (xmin here would find one in every busy moment).
  const behind = (s: { offset: string; next: string; top: string | null }) => s.top !== null && BigInt(s.top) >= BigInt(s.next) + BigInt(s.offset);
  if (!behind(await state())) return null;
  await tx.exec('LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE');
  const s = await state();
  if (!behind(s)) return null;
  // Every transaction still running or yet to start has an id of at least xmin (not xmax: one that
  // began before this and has not written yet may insert after the commit): its events get at least
  // top + 1.
  const offset = BigInt(s.top!) - BigInt(s.oldest) + 1n;
  await tx.query('UPDATE pull_order SET txid_offset = $1', [offset.toString()]);
  // A literal (digits of a bigint): a default cannot read a table, and a function reading one per
  // recorded event would cost every insert for a move that happens once.
  await tx.exec(`ALTER TABLE audit_events ALTER COLUMN txid SET DEFAULT (pg_current_xact_id()::text::bigint + ${offset.toString()})`);
  return { highestStored: s.top!, offsetBefore: s.offset, offsetAfter: offset.toString() };
}
