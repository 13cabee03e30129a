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

/**
 * The generic plan of `sql` as a prepared statement: what a named statement (db/prepared.ts) runs once
 * PostgreSQL stops planning it for each execution's values. Run in a transaction (SET LOCAL). The
 * values do not enter a generic plan, so every parameter is NULL.
 */
export async function explainGeneric(db: Queryable, sql: string, paramCount: number): Promise<PlanNode> {
  await db.query(`PREPARE plan_probe AS ${sql}`);
  try {
    await db.query('SET LOCAL plan_cache_mode = force_generic_plan');
    const args = Array.from({ length: paramCount }, () => 'NULL').join(', ');
    const { rows } = await db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) EXECUTE plan_probe(${args})`);
    const raw = rows[0]!['QUERY PLAN'];
    const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ Plan: PlanNode }>;
    return plan[0]!.Plan;
  } finally {
    await db.query('DEALLOCATE plan_probe');
  }
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
