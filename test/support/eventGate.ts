// A gate inside the database for tests that must catch a range replay mid-walk, whatever the machine's
// speed: a transaction holds FOR UPDATE on one recorded event's row. Queuing a replayed event's job
// takes FOR KEY SHARE on that row (src/queue/replayRange.ts), so the replay batch that reaches the
// event waits there (holding its replay row lock) until the gate opens. PostgreSQL only: the waits
// are read from pg_blocking_pids.
import type { Db, Queryable } from '../../src/db/types.js';

export interface EventGate {
  /** Backends waiting on the gate itself (e.g. a replay batch). */
  waiting(): Promise<number>;
  /** Backends waiting on a backend that waits on the gate (e.g. a cancel behind that batch). */
  waitingBehind(): Promise<number>;
  /**
   * Terminates the backends waiting on the gate itself, and no other: the fault suite runs beside the
   * integration suite on the same database, where a wider cut (every backend waiting on a lock) once
   * killed another test's migrate processes, waiting on each other's advisory lock. How many; each
   * has exited when this returns.
   */
  cutWaiting(): Promise<number>;
  /** Ends the gate's transaction: whatever waited on it goes on. */
  open(): Promise<void>;
}

/** The id of the organization's recorded decision at `position` (0-based) in a replay window's order. */
export async function eventAt(db: Queryable, orgId: string, position: number): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM audit_events WHERE org_id = $1 AND left(id, 4) <> 'cfg_' ORDER BY occurred_at, id OFFSET $2 LIMIT 1`,
    [orgId, position],
  );
  if (!rows[0]) throw new Error(`the organization has no event at position ${position}`);
  return rows[0].id;
}

/** Locks one event's row in a transaction of its own until `open()`. */
export async function holdEvent(db: Db, orgId: string, eventId: string): Promise<EventGate> {
  if (db.kind !== 'postgres') throw new Error('an event gate needs PostgreSQL');
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  let locked: (pid: number) => void = () => undefined;
  const pidOf = new Promise<number>((r) => (locked = r));
  const held = db.transaction(async (tx) => {
    const { rowCount } = await tx.query('SELECT 1 FROM audit_events WHERE org_id = $1 AND id = $2 FOR UPDATE', [orgId, eventId]);
    if (rowCount !== 1) throw new Error(`no event ${eventId} to hold`);
    const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    locked(rows[0]!.pid);
    await released;
  });
  const pid = await Promise.race([pidOf, held.then(() => Promise.reject(new Error('the gate ended before it held')))]);
  const count = async (sql: string) => (await db.query<{ n: number }>(sql, [pid])).rows[0]!.n;
  return {
    waiting: () => count('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))'),
    waitingBehind: () =>
      count(
        `SELECT count(*)::int AS n FROM pg_stat_activity a
          WHERE EXISTS (SELECT 1 FROM pg_stat_activity w WHERE $1 = ANY(pg_blocking_pids(w.pid)) AND w.pid = ANY(pg_blocking_pids(a.pid)))`,
      ),
    // With a timeout, pg_terminate_backend returns once the backend has exited, not when the signal
    // is sent: a backend that was signalled but not yet scheduled (a busy machine) stayed listed as
    // waiting on the gate, so a test polling for the walk's next wait right after a cut saw the one it
    // had just cut, and found nothing left to cut.
    cutWaiting: () =>
      count(
        'SELECT count(*) FILTER (WHERE cut)::int AS n FROM (SELECT pg_terminate_backend(pid, 60000) AS cut FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))) t',
      ),
    async open() {
      release();
      await held;
    },
  };
}
