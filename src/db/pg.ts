import pg from 'pg';
import type { Db, Queryable, QueryResult, TransactionOptions } from './types.js';
import { preparedName } from './prepared.js';
import { StatementCutOff, TurnWaitedOut, statementWatch, unwatched, wasCancelled, type StatementWatch } from './statementWatch.js';
import type { Logger } from 'pino';
import { FairSlots } from './fairSlots.js';
import { currentOrgScope } from './orgScope.js';
import { isReadOnlyRefusal } from './unavailable.js';

// timestamptz comes back as a Date from both drivers; bigint (int8) as a JS number is safe for our
// identity ids (< 2^53) and counts.
pg.types.setTypeParser(20, (v) => Number(v));

export interface PgOptions {
  connectionString: string;
  max?: number;
  logger?: Logger;
  /** How long a query waits for a pooled connection before failing (default 10 s). */
  connectionTimeoutMs?: number;
  /**
   * Shared by the pools of one process (db/open.ts: API and worker), so a server restart, which cuts
   * every connection of both, is still logged once.
   */
  outage?: { lost: boolean };
  /**
   * Sends the statements marked with prepared() (db/prepared.ts) as named prepared statements
   * (default true). Off for a connection pooler that cannot keep them per server connection
   * (PgBouncer in transaction mode before 1.21): AEGIS_DB_PREPARED_STATEMENTS=0.
   */
  preparedStatements?: boolean;
  /**
   * How long one statement of this pool may run or wait (a lock held by a session outside the service)
   * before the service cancels it, and closes its connection should the cancel not end it
   * (db/statementWatch.ts); the caller maps the error to 503. Unset or 0: no limit. Only the API's
   * pool sets it (db/open.ts). A transaction opened with { unbounded: true } (migrations) has its
   * statements never cut, only each wait for a lock (lock_timeout).
   */
  statementTimeoutMs?: number;
  /**
   * Shares the pool's connections fairly between organizations (db/fairSlots.ts): each statement and
   * transaction first takes a slot for the organization it runs for (db/orgScope.ts; '' for work of
   * none), so one organization holds at most all but one of the connections, and a connection that
   * comes back goes to the waiting organization holding fewest. Only the API's pool sets it
   * (db/open.ts): without it one organization's requests admitted at once
   * (AEGIS_API_MAX_CONCURRENT_PER_ORG, 4) could hold every connection (AEGIS_DB_API_CONNECTIONS, 3)
   * and another organization's simple read waited for one. A slot waits at most the connection
   * timeout and then fails as the pool's own wait does.
   */
  fairByOrg?: boolean;
}

/**
 * TCP keep-alive idle time of every connection (pool and LISTEN). What it bounds: how long a connection
 * that is idle, or waiting for the answer to a statement the server acknowledged, stays open to a
 * server that vanished without closing it (a failover where the old primary just disappears, a cut
 * network): the kernel probes after this idle time and errors the socket when the probes go
 * unanswered, so the pool drops the client, the waiting query fails and LISTEN reconnects.
 * keepAlive: true alone passes a delay of 0, which sets nothing (TCP_KEEPIDLE 0 is EINVAL), so the
 * kernel's tcp_keepalive_time applied: 7200 s, then 9 probes 75 s apart, about 2 h 11 min.
 * With 10 s, Node 20.20 (process.versions.uv 1.46.0; seen with strace) sets TCP_KEEPIDLE 10 and also
 * TCP_KEEPINTVL 1 and TCP_KEEPCNT 10: a dead peer is noticed about 20 s after the connection went
 * quiet. A libuv that set TCP_KEEPIDLE alone would leave the kernel's interval and count: 10 + 9 x 75 s,
 * about 11.5 min. What it does not bound: a statement sent and never acknowledged (the server went
 * first) is retransmitted, not probed, until tcp_retries2 (15: about 15 min) gives up; and a live
 * server that is slow or waits on a lock answers the probes, so nothing ends that wait: the API's
 * pool cancels such a statement itself (PgOptions.statementTimeoutMs).
 */
export const PG_KEEPALIVE_IDLE_MS = 10_000;

/**
 * How often the backend of a connection of a pool with a statement limit checks, while a statement
 * runs or waits (on a lock, in pg_sleep), that its client is still connected, and ends the statement
 * when it is not (PostgreSQL 14+'s client_connection_check_interval, a session setting). Without it, a
 * statement cut off after its cancel request was lost (db/statementWatch.ts: its connection closed)
 * kept its backend, a max_connections slot and its locks until it ended by itself, and an autocommit
 * write then committed; the pool meanwhile opens a new connection for the next request, so these
 * piled up. A second or two: the statement has already run past the limit and the 5 s cancel grace,
 * so ending it within 2 s more is soon enough, and each check is one poll() on the socket of a
 * statement that is running anyway: cheap at this rate.
 */
export const CLIENT_CHECK_INTERVAL_MS = 2_000;

/**
 * Sets CLIENT_CHECK_INTERVAL_MS for the session in one round trip, only where the server knows the
 * parameter (13 and older reject its name; their statement may still finish once cut off). Behind
 * PgBouncer in transaction mode the setting stays on the server connection it ran on and may reach
 * other clients of it: harmless, it ends only statements whose client went away, and a server
 * connection's client there is PgBouncer itself (which also means it does not help there).
 */
/**
 * The LISTEN connection's first statement: it sits idle by design, and a server, database or role with
 * idle_session_timeout (PostgreSQL 14+; some managed services set one) ended it on that cycle, deaf to
 * NOTIFY for a second each time. Turned off for that session alone; a server without the setting
 * (before 14) is left as it is.
 */
const LISTEN_WITHOUT_IDLE_TIMEOUT = "SELECT set_config('idle_session_timeout', '0', false) WHERE current_setting('idle_session_timeout', true) IS NOT NULL";

/** idle_session_timeout ended a connection the pool held idle: the pool opens another when needed. */
const IDLE_SESSION_TIMEOUT = '57P05';

const CHECK_CLIENT_CONNECTION =
  "SELECT CASE WHEN current_setting('server_version_num')::int >= 140000 " +
  `THEN set_config('client_connection_check_interval', '${CLIENT_CHECK_INTERVAL_MS}', false) END`;

const asResult = <R>(r: pg.QueryResult): QueryResult<R> => ({ rows: r.rows as R[], rowCount: r.rowCount ?? 0 });

/** A statement as node-postgres takes it: named when it is marked and prepared statements are on. */
function statement(text: string, values: readonly unknown[] | undefined, prepare: boolean): pg.QueryConfig {
  const name = prepare ? preparedName(text) : undefined;
  return { text, values: values as unknown[], ...(name !== undefined ? { name } : {}) };
}

/** One connection (a transaction's, or a script's own) as a Queryable: statements run on it in order. */
export function clientQueryable(client: pg.ClientBase, prepare = true, watch: StatementWatch = unwatched): Queryable {
  return {
    async query<R>(text: string, values?: readonly unknown[]) {
      return asResult<R>(await watch(client, () => client.query(statement(text, values, prepare))));
    },
    async exec(script: string) {
      await watch(client, () => client.query(script));
    },
  };
}

/**
 * pg-pool's options as pg-pool 3.14 takes them: its onConnect hook may return a promise, awaited before
 * a new connection is handed out (a rejection fails that checkout); @types/pg says it returns void.
 */
type PoolConfig = Omit<pg.PoolConfig, 'onConnect'> & { onConnect?: (client: pg.ClientBase) => Promise<void> };

/**
 * Runs each call's `fn` once every earlier call's has settled: one at a time, in order. A call whose
 * turn has not come within `waitMs` fails with TurnWaitedOut and never runs (the next waits for the
 * one still running, not for it): a request must not wait without bound behind others' long work.
 */
function oneAtATime(waitMs: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const before = last;
    let timer: NodeJS.Timeout | undefined;
    const turn = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), waitMs);
      void before.then(() => resolve(true));
    });
    const run = turn.then((came) => {
      clearTimeout(timer);
      if (!came) throw new TurnWaitedOut(waitMs);
      return fn();
    });
    const settled = () => undefined;
    last = before.then(() => run.then(settled, settled));
    return run;
  };
}

/** How every transaction starts: see runTransaction. */
const BEGIN = 'BEGIN ISOLATION LEVEL READ COMMITTED';

/** A real PostgreSQL server through a `pg` pool. Survives dropped connections: the pool replaces them. */
export function openPg(opts: PgOptions): Db {
  const limitMs = opts.statementTimeoutMs ? Math.floor(opts.statementTimeoutMs) : 0;
  const watch = limitMs > 0 ? statementWatch(limitMs, opts.logger) : null;
  // Once per new connection, before the pool hands it out: so it is in place before the connection's
  // first (watched) statement and not counted against that statement's limit. Only a pool with a limit
  // closes a connection under a running statement; the worker's pool, the LISTEN connections (idle,
  // where the server notices a closed client at once) and PGlite (no socket) have no use for it.
  // A server that refuses the value (one where it cannot watch a socket: Windows) keeps the
  // connection usable: logged once, the statement limit works as before.
  let checkRefused = false;
  const checkClientConnection = async (client: pg.ClientBase) => {
    try {
      // Watched as any API statement: pg-pool's connection timeout has ended by now, and a pooler
      // holding a new connection's first statement (PgBouncer with its server pool full) would hold
      // the request, its connection slot and its organization's place for as long.
      await watch!(client, () => client.query(CHECK_CLIENT_CONNECTION));
    } catch (err) {
      // The connection is not handed out: to the request, the database was not reachable in time
      // (08006 connection_failure, which db/unavailable.ts lists: a 503 saying nothing was written).
      if (err instanceof StatementCutOff) throw Object.assign(new Error(`a new connection's set-up: ${err.message}`), { code: '08006', cause: err });
      if (!(err instanceof pg.DatabaseError)) throw err;
      if (checkRefused) return;
      checkRefused = true;
      opts.logger?.warn({ err: err.message }, 'the database refused client_connection_check_interval; a statement cut off by the time limit may still finish');
    }
  };
  const max = opts.max ?? 10;
  const connectionTimeoutMs = opts.connectionTimeoutMs ?? 10_000;
  const poolConfig: PoolConfig = {
    connectionString: opts.connectionString,
    max,
    connectionTimeoutMillis: connectionTimeoutMs,
    idleTimeoutMillis: 30_000,
    // TCP keep-alive notices a server that vanished without closing the socket (failover, network
    // cut) within seconds, not the kernel's hours: PG_KEEPALIVE_IDLE_MS says what it bounds.
    keepAlive: true,
    keepAliveInitialDelayMillis: PG_KEEPALIVE_IDLE_MS,
    ...(limitMs > 0 ? { onConnect: checkClientConnection } : {}),
  };
  const pool = new pg.Pool(poolConfig);
  // A server restart or a cut connection reaches every client as an 'error' event: an idle pooled
  // client through the pool, but a checked-out one (mid-transaction, between two statements) only on
  // the client itself, and an EventEmitter 'error' without a listener kills the process. So every
  // client gets a listener the moment the pool creates it. The pool discards a broken client (the
  // transaction below releases it as broken) and the next query opens a new connection.
  // Logged once per outage, not once per connection: a restart cuts all of them at once.
  const outage = opts.outage ?? { lost: false };
  const onConnectionError = (err: Error) => {
    if ((err as { code?: string }).code === IDLE_SESSION_TIMEOUT) {
      opts.logger?.debug({ err: err.message }, 'the server ended an idle pooled connection');
      return;
    }
    if (outage.lost) return;
    outage.lost = true;
    opts.logger?.warn({ err: err.message }, 'database connection lost; waiting for the server and reconnecting');
  };
  const onConnectionOk = () => {
    if (!outage.lost) return;
    outage.lost = false;
    opts.logger?.info('database connection restored');
  };
  pool.on('connect', (client) => {
    // A connection the statement limit closed (db/statementWatch.ts) is no outage.
    client.on('error', (err) => {
      if (!wasCancelled(client)) onConnectionError(err);
    });
    if (outage.lost) onConnectionOk();
  });
  pool.on('error', (err, client) => {
    if (!wasCancelled(client)) onConnectionError(err);
  });

  const prepare = opts.preparedStatements ?? true;
  // As many slots as the pool has connections: a holder of a slot finds a connection at once (idle,
  // or one the pool opens), so the pool's own queue is not where anyone waits.
  const slots = opts.fairByOrg ? new FairSlots(max, connectionTimeoutMs) : null;
  /** Runs `fn` (which checks a connection out and back in) holding a slot of the current organization. */
  const fairly = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (!slots) return fn();
    const slot = await slots.acquire(currentOrgScope() ?? '');
    try {
      return await fn();
    } finally {
      // After the connection is back in the pool (fn's own finally): the next holder finds it idle.
      slot.release();
    }
  };
  const singleStatement = async (config: pg.QueryConfig | string): Promise<pg.QueryResult> => {
    // pool.query gives the connection back before its promise settles, and closes it on any error
    // (a read-only refusal included).
    if (!watch) return pool.query(config);
    const client = await pool.connect();
    let readOnly = false;
    try {
      return await watch(client, () => client.query(config));
    } catch (err) {
      readOnly = isReadOnlyRefusal(err);
      throw err;
    } finally {
      // A connection to a read-only server is closed, not kept: see isReadOnlyRefusal.
      client.release(readOnly || wasCancelled(client));
    }
  };
  /** One statement on a connection of its own, watched when the pool has a limit. */
  const single = (config: pg.QueryConfig | string): Promise<pg.QueryResult> => fairly(() => singleStatement(config));
  const transactionOnce = async <T>(fn: (tx: Queryable) => Promise<T>, txOpts?: TransactionOptions): Promise<T> => {
    const client = await pool.connect();
    let broken = false;
    try {
      // An unbounded transaction's statements run as long as they take, but none waits longer than
      // the limit for a lock (a session outside the service holding a row it needs): lock_timeout,
      // transaction-scoped, so safe behind a transaction pooler. migrate sets its own.
      // READ COMMITTED named, not left to the server's default_transaction_isolation: the statements
      // rely on each one seeing what committed before it (retention judges locked events on a later
      // snapshot; the cascades and a replay's duplicate check read current rows). An operator's
      // "repeatable read" default made retention delete an event a replay had just queued.
      await client.query(watch && txOpts?.unbounded ? `${BEGIN}; SET LOCAL lock_timeout = ${limitMs}` : BEGIN);
      const out = await fn(clientQueryable(client, prepare, watch && !txOpts?.unbounded ? watch : unwatched));
      await client.query('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      if (isReadOnlyRefusal(err)) broken = true;
      throw err;
    } finally {
      client.release(broken || wasCancelled(client));
    }
  };
  const runTransaction = <T>(fn: (tx: Queryable) => Promise<T>, txOpts?: TransactionOptions): Promise<T> => fairly(() => transactionOnce(fn, txOpts));
  const unboundedTurns = oneAtATime(limitMs);
  const db: Db = {
    kind: 'postgres',
    async query<R>(text: string, values?: readonly unknown[]) {
      return asResult<R>(await single(statement(text, values, prepare)));
    },
    async exec(script: string) {
      await single(script);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>, txOpts?: TransactionOptions): Promise<T> {
      // On a pool with a limit (the API's), unbounded transactions take turns: their length is the
      // data's (migrations), and a few at once would otherwise hold every connection, so that every
      // other request waited for one and got 503. One at a time leaves the rest of the pool to everyone else.
      return watch && txOpts?.unbounded ? unboundedTurns(() => runTransaction(fn, txOpts)) : runTransaction(fn, txOpts);
    },
    async listen(channel, onNotify, onReconnect) {
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
      // One dedicated connection (LISTEN state is per session, so it cannot come from the pool).
      // `current` is the connection we listen on or are connecting; events of any older connection
      // are ignored, so a late 'error'/'end' from a dead client never starts a second subscriber.
      let current: pg.Client | null = null;
      let stopped = false;
      let retryTimer: NodeJS.Timeout | null = null;
      // While the server is away a reconnect fails every second: say so once, then quietly.
      let failedConnects = 0;
      const drop = (c: pg.Client) => {
        c.removeAllListeners('notification');
        c.removeAllListeners('end');
        c.on('error', () => undefined); // a dying socket may still report; keep it from crashing us
        void c.end().catch(() => undefined);
      };
      const scheduleReconnect = (from: pg.Client) => {
        if (stopped || from !== current || retryTimer) return;
        current = null;
        drop(from);
        retryTimer = setTimeout(() => {
          retryTimer = null;
          void connect(true);
        }, 1000);
        retryTimer.unref();
      };
      const connect = async (isReconnect: boolean): Promise<void> => {
        if (stopped) return;
        const c = new pg.Client({
          connectionString: opts.connectionString,
          connectionTimeoutMillis: 10_000,
          // Idle by design: without a short keep-alive a vanished server leaves it deaf to NOTIFY for hours.
          keepAlive: true,
          keepAliveInitialDelayMillis: PG_KEEPALIVE_IDLE_MS,
        });
        current = c;
        c.on('notification', (msg) => {
          if (msg.channel === channel) onNotify(msg.payload ?? '');
        });
        c.on('error', (err) => {
          opts.logger?.warn({ err: err.message, channel }, 'LISTEN connection lost; reconnecting');
          scheduleReconnect(c);
        });
        c.on('end', () => scheduleReconnect(c));
        try {
          await c.connect();
          await c.query(LISTEN_WITHOUT_IDLE_TIMEOUT);
          await c.query(`LISTEN ${channel}`);
        } catch (err) {
          if (stopped) return;
          if (failedConnects++ === 0) opts.logger?.warn({ err: (err as Error).message, channel }, 'LISTEN connect failed; retrying every second');
          else opts.logger?.debug({ err: (err as Error).message, channel }, 'LISTEN connect failed; retrying');
          scheduleReconnect(c);
          return;
        }
        if (stopped || current !== c) {
          drop(c);
          return;
        }
        failedConnects = 0;
        if (isReconnect) {
          opts.logger?.info({ channel }, 'LISTEN connection restored');
          onReconnect?.();
        }
      };
      await connect(false);
      return async () => {
        stopped = true;
        if (retryTimer) clearTimeout(retryTimer);
        const c = current;
        current = null;
        if (c) {
          c.removeAllListeners('end');
          c.on('error', () => undefined);
          await c.end().catch(() => undefined);
        }
      };
    },
    async close() {
      await pool.end();
    },
  };
  return db;
}
