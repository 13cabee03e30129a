// A test database whose statements are written down: what a worker's wake-up costs is asserted as
// the statements it sends (how many claims, row reads, purges), never as time.
import type { Db, Queryable } from '../../src/db/types.js';

export interface StatementLog {
  /** The database to hand to the service: the real one, its `query` calls written down. */
  db: Db;
  /** Every text sent through `db.query` so far (statements inside `db.transaction` are not). */
  readonly texts: string[];
  /** How many of them match `pattern` (from `since`, an earlier `texts.length`). */
  count(pattern: RegExp, since?: number): number;
}

export function logStatements(real: Db): StatementLog {
  const texts: string[] = [];
  const query: Queryable['query'] = (text, values) => {
    texts.push(text);
    return real.query(text, values);
  };
  const db = new Proxy(real, {
    get(target, prop) {
      if (prop === 'query') return query;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    db,
    texts,
    count: (pattern, since = 0) => texts.slice(since).filter((t) => pattern.test(t)).length,
  };
}
