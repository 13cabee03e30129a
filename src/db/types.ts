/**
 * The only database seam (the pg-boss model): everything above this line speaks SQL through
 * `query(text, values)`, so the same statements run on a real PostgreSQL server (pg) and on the
 * embedded PGlite default. Values are always bound parameters; nothing is interpolated into SQL.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations, test resets). */
  exec(script: string): Promise<void>;
}

export type DbKind = 'postgres' | 'pglite';

export interface TransactionOptions {
  /**
   * Never cut by the pool's statement time limit (PgOptions.statementTimeoutMs, the API's pool): for
   * work whose length is the data's (migrations). Prefer batches of bounded statements outside a
   * transaction: a long write transaction holds back pg_snapshot_xmin for the whole cluster.
   */
  unbounded?: boolean;
}

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Runs `fn` in one transaction on one connection; commits on return, rolls back on throw. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /**
   * Subscribes to NOTIFY on `channel`. On pg this holds a dedicated connection and re-subscribes after
   * a dropped connection (calling `onReconnect` so callers can catch up on what they missed).
   * Returns an unsubscribe function.
   */
  listen(channel: string, onNotify: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
