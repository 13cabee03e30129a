// Reading query plans in tests that prove how a statement reaches its rows (EXPLAIN, not timing).
import type { Queryable } from '../../src/db/types.js';

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

/** The plan PostgreSQL or PGlite would run for `sql` (EXPLAIN, so nothing is executed). */
export async function explain(db: Queryable, sql: string, params: unknown[]): Promise<PlanNode> {
  const { rows } = await db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  const raw = rows[0]!['QUERY PLAN'];
  // Parsed or as text, depending on the client.
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ Plan: PlanNode }>;
  return plan[0]!.Plan;
}

/** The names of a table's indexes in the current schema (sorted), to tell its reads from others'. */
export async function indexesOf(db: Queryable, table: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 ORDER BY 1`,
    [table],
  );
  return rows.map((r) => r.name);
}

/** Every node of a plan, depth first. */
export function planNodes(n: PlanNode): PlanNode[] {
  return [n, ...(n.Plans ?? []).flatMap(planNodes)];
}

/** Every node of a plan that reads a table or an index (the insert or delete node itself excluded). */
export function scans(n: PlanNode): PlanNode[] {
  return planNodes(n).filter((p) => (p['Relation Name'] !== undefined || p['Index Name'] !== undefined) && p['Node Type'] !== 'ModifyTable');
}

/** Thrown to roll an EXPLAIN transaction back (SET LOCAL, ANALYZE and rows added for it). */
class Rollback extends Error {}

/** Runs `fn` in a transaction that is always rolled back. */
export async function inRolledBackTransaction(
  db: { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> },
  fn: (tx: Queryable) => Promise<void>,
): Promise<void> {
  await db
    .transaction(async (tx) => {
      await fn(tx);
      throw new Rollback();
    })
    .catch((err: unknown) => {
      if (!(err instanceof Rollback)) throw err;
    });
}
