import pg from 'pg';
import type { Db, Queryable, QueryResult, TransactionOptions } from './types.js';
import { preparedName } from './prepared.js';
import type { Logger } from 'pino';

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
   * before the service cancels it, as psql's Ctrl-C does: a cancel request on a new connection, which
   * the server answers by failing the statement with SQLSTATE 57014 and rolling its transaction back
   * (the caller maps that to 503). Client-side on purpose: PostgreSQL's own statement_timeout would
   * have to be sent as a startup parameter, which PgBouncer refuses by default ("unsupported startup
   * parameter"), or SET per session, which a transaction pooler hands to other clients; a cancel
   * request passes through PgBouncer. Unset or 0: no limit. Only the API's pool sets it (db/open.ts);
   * a transaction opened with { unbounded: true } (migrations, a destination's delete) is never cut.
   */
  statementTimeoutMs?: number;
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

/** Runs one statement on `client`, cancelling it if it outlasts the pool's limit (PgOptions.statementTimeoutMs). */
type StatementWatch = <T>(client: pg.ClientBase, run: () => Promise<T>) => Promise<T>;
const unwatched: StatementWatch = (_client, run) => run();

/** What node-postgres keeps of a connection's backend and its running statement (not in its types). */
interface CancellableClient {
  activeQuery?: unknown;
}
interface Canceller {
  connection: NodeJS.EventEmitter;
  cancel(client: pg.ClientBase, query: unknown): void;
}

/**
 * Connections whose statement was cancelled: released as broken (closed), never reused, so that a
 * cancel request still on its way cannot reach a later statement on the same backend.
 */
const cancelled = new WeakSet<pg.ClientBase>();

/**
 * A StatementWatch that sends the server a cancel request for a statement still running after `ms`
 * (node-postgres's Client.cancel: a new connection to the same server carrying the backend's key).
 */
function statementWatch(connectionString: string, ms: number, logger: Logger | undefined): StatementWatch {
  return async (client, run) => {
    const timer = setTimeout(() => {
      const query = (client as unknown as CancellableClient).activeQuery;
      if (!query) return;
      cancelled.add(client);
      const canceller = new pg.Client({ connectionString }) as unknown as Canceller;
      // The server closes the cancel connection once read; an error on it (server away) must not
      // become an unhandled 'error' event, and the statement then ends with its connection anyway.
      canceller.connection.on('error', () => undefined);
      try {
        canceller.cancel(client, query);
      } catch (err) {
        logger?.warn({ err: (err as Error).message }, 'could not send a cancel request for a statement past its time limit');
      }
    }, ms);
    try {
      return await run();
    } finally {
      clearTimeout(timer);
    }
  };
}

/** A real PostgreSQL server through a `pg` pool. Survives dropped connections: the pool replaces them. */
export function openPg(opts: PgOptions): Db {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    // TCP keep-alive notices a server that vanished without closing the socket (failover, network
    // cut) within seconds, not the kernel's hours: PG_KEEPALIVE_IDLE_MS says what it bounds.
    keepAlive: true,
    keepAliveInitialDelayMillis: PG_KEEPALIVE_IDLE_MS,
  });
  // A server restart or a cut connection reaches every client as an 'error' event: an idle pooled
  // client through the pool, but a checked-out one (mid-transaction, between two statements) only on
  // the client itself, and an EventEmitter 'error' without a listener kills the process. So every
  // client gets a listener the moment the pool creates it. The pool discards a broken client (the
  // transaction below releases it as broken) and the next query opens a new connection.
  // Logged once per outage, not once per connection: a restart cuts all of them at once.
  const outage = opts.outage ?? { lost: false };
  const onConnectionError = (err: Error) => {
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
    client.on('error', onConnectionError);
    if (outage.lost) onConnectionOk();
  });
  pool.on('error', onConnectionError);

  const prepare = opts.preparedStatements ?? true;
  const watch = opts.statementTimeoutMs ? statementWatch(opts.connectionString, opts.statementTimeoutMs, opts.logger) : null;
  /** One statement on a connection of its own, watched when the pool has a limit. */
  const single = async (config: pg.QueryConfig | string): Promise<pg.QueryResult> => {
    if (!watch) return pool.query(config);
    const client = await pool.connect();
    try {
      return await watch(client, () => client.query(config));
    } finally {
      client.release(cancelled.has(client));
    }
  };
  const db: Db = {
    kind: 'postgres',
    async query<R>(text: string, values?: readonly unknown[]) {
      return asResult<R>(await single(statement(text, values, prepare)));
    },
    async exec(script: string) {
      await single(script);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>, txOpts?: TransactionOptions): Promise<T> {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const out = await fn(clientQueryable(client, prepare, watch && !txOpts?.unbounded ? watch : unwatched));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw err;
      } finally {
        client.release(broken || cancelled.has(client));
      }
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
