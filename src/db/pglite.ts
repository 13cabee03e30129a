import { PGlite } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from './types.js';

/** The PGlite handle behind each Db this module opened (for dumpPglite). */
const pgliteOf = new WeakMap<Db, PGlite>();

/**
 * The embedded default: PostgreSQL compiled to WebAssembly, in-process, one connection. PGlite
 * serialises queries and transactions itself, so the same SQL (SKIP LOCKED, advisory locks,
 * LISTEN/NOTIFY) runs unchanged; there is simply never any contention to skip.
 * `dataDir` undefined means in-memory (tests). `loadDataDir` starts from a dumped data directory
 * (see dumpPglite): the tests' migrated template, which spares each test file PGlite's initdb.
 * `sharedBuffers` replaces PostgreSQL's 128MB: PGlite zeroes the whole buffer pool as it starts.
 */
export async function openPglite(dataDir?: string, opts: { loadDataDir?: Blob; sharedBuffers?: string } = {}): Promise<Db> {
  const pg = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
    ...(opts.sharedBuffers ? { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${opts.sharedBuffers}`] } : {}),
  });
  const asResult = <R>(r: { rows: unknown[]; affectedRows?: number }): QueryResult<R> => ({
    rows: r.rows as R[],
    // As pg's: rows returned for a SELECT (PGlite's affectedRows counts only INSERT/UPDATE/DELETE tags
    // and is 0 for a SELECT), rows changed for a write without RETURNING.
    rowCount: Math.max(r.affectedRows ?? 0, r.rows.length),
  });
  const db: Db = {
    kind: 'pglite',
    async query<R>(text: string, values?: readonly unknown[]) {
      return asResult<R>(await pg.query(text, values as unknown[]));
    },
    async exec(script: string) {
      await pg.exec(script);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pg.transaction(async (t) =>
        fn({
          async query<R>(text: string, values?: readonly unknown[]) {
            return asResult<R>(await t.query(text, values as unknown[]));
          },
          async exec(script: string) {
            await t.exec(script);
          },
        }),
      );
    },
    async listen(channel, onNotify) {
      const unsub = await pg.listen(channel, onNotify);
      return async () => unsub();
    },
    async close() {
      if (!pg.closed) await pg.close();
    },
  };
  pgliteOf.set(db, pg);
  return db;
}

/** The whole data directory of an open PGlite database, as the tarball `loadDataDir` accepts. */
export async function dumpPglite(db: Db): Promise<Blob> {
  const pg = pgliteOf.get(db);
  if (!pg) throw new Error('dumpPglite: not a PGlite database');
  return pg.dumpDataDir('none');
}
