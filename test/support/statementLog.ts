// A test database whose statements are written down: what a worker's wake-up costs is asserted as
// the statements it sends (how many claims, row reads, purges), never as time.
import { afterAll, beforeAll } from 'vitest';
import type { Db, Queryable, QueryResult } from '../../src/db/types.js';
import { openTestDb, type TestDb, type TestDbKind } from './db.js';
import { startTestService, type TestService } from './harness.js';
import { startReceiver, type Receiver, type ReceiverHandler, type ReceiverOptions } from './httpsReceiver.js';

export interface LoggedStatement {
  text: string;
  values: readonly unknown[];
  /** Whether the database has answered it. */
  answered: boolean;
}

/** Runs around one statement: `before` it is sent, `after` it answered (before its caller sees the answer). */
export type StatementHook = (s: LoggedStatement) => Promise<void> | void;

export interface StatementLog {
  /** The database to hand to the service: the real one, its `query` calls written down. */
  db: Db;
  /** Every text sent through `db.query` so far (inside `db.transaction` too only with `inTransactions`). */
  readonly texts: string[];
  /**
   * How many statements match `pattern` (from `since`, an earlier `texts.length`), and, when `withValue`
   * is given, were sent with it among their parameters (a destination id, say).
   */
  count(pattern: RegExp, since?: number, withValue?: string): number;
  /** The same, counting only the statements the database has answered. */
  answered(pattern: RegExp, since?: number): number;
  /** Set by a test to act while the service waits on a statement (record an event mid-settle). */
  before: StatementHook | null;
  after: StatementHook | null;
}

/**
 * `real`, its statements written down. `inTransactions`: those sent inside `db.transaction` too (a
 * test that must see a statement whichever side of a commit the code under test sends it).
 */
export function logStatements(real: Db, { inTransactions = false }: { inTransactions?: boolean } = {}): StatementLog {
  const logged: LoggedStatement[] = [];
  const texts: string[] = [];
  const log: StatementLog = {
    db: real,
    texts,
    count: (pattern, since = 0, withValue) =>
      logged.slice(since).filter((s) => pattern.test(s.text) && (withValue === undefined || s.values.includes(withValue))).length,
    answered: (pattern, since = 0) => logged.slice(since).filter((s) => s.answered && pattern.test(s.text)).length,
    before: null,
    after: null,
  };
  const through =
    (q: Queryable) =>
    async <R = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<QueryResult<R>> => {
      const s = { text, values: values ?? [], answered: false };
      logged.push(s);
      texts.push(text);
      if (log.before) await log.before(s);
      const result = await q.query<R>(text, values);
      s.answered = true;
      if (log.after) await log.after(s);
      return result;
    };
  const query = through(real);
  const transaction: Db['transaction'] = (fn, opts) => real.transaction((tx) => fn({ query: through(tx), exec: (script) => tx.exec(script) }), opts);
  log.db = new Proxy(real, {
    get(target, prop) {
      if (prop === 'query') return query;
      if (prop === 'transaction' && inTransactions) return transaction;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
  return log;
}

/** A service whose statements are written down, on a test database, with the receivers a file starts. */
export interface LoggedService {
  tdb: TestDb;
  log: StatementLog;
  svc: TestService;
  /** Starts a receiver that is closed with the service after the file's tests. */
  receiver(handler?: ReceiverHandler, options?: ReceiverOptions): Promise<Receiver>;
}

/**
 * The setup of the files that count a worker's statements: set up in beforeAll, stopped in afterAll
 * (read the fields inside tests or hooks), as serviceWithOrg.ts does for API files.
 */
export function loggedService(kind: TestDbKind, env: Record<string, string> = {}): LoggedService {
  const receivers: Receiver[] = [];
  const ctx = {
    async receiver(handler?: ReceiverHandler, options?: ReceiverOptions) {
      const r = await startReceiver(handler, options);
      receivers.push(r);
      return r;
    },
  } as LoggedService;
  beforeAll(async () => {
    ctx.tdb = await openTestDb(kind);
    ctx.log = logStatements(ctx.tdb.db);
    ctx.svc = await startTestService(ctx.log.db, env);
  });
  afterAll(async () => {
    await ctx.svc?.stop();
    await Promise.all(receivers.map((r) => r.close()));
    await ctx.tdb?.close();
  });
  return ctx;
}
