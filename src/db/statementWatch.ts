// The API pool's statement time limit (PgOptions.statementTimeoutMs): a statement still running after
// the limit is cancelled as psql's Ctrl-C does, with PostgreSQL's CancelRequest on a new connection,
// and, should that not end it, its connection is closed. Client-side on purpose: PostgreSQL's own
// statement_timeout would have to be a startup parameter, which PgBouncer refuses by default, or a
// session SET, which a transaction pooler hands to other clients.
import { connect } from 'node:net';
import type pg from 'pg';
import type { Logger } from 'pino';

/** Runs one statement on `client`, under the pool's limit when it has one. */
export type StatementWatch = <T>(client: pg.ClientBase, run: () => Promise<T>) => Promise<T>;

export const unwatched: StatementWatch = (_client, run) => run();

/**
 * How long a cancelled statement may take to end before its connection is closed: the cancel
 * request can be lost (a pooler in front that does not know the backend's key, several PgBouncers
 * behind one address, the server unreachable for a new connection), and the request must end anyway.
 */
export const CANCEL_GRACE_MS = 5_000;

/** How long sending a cancel request may take (a host that drops the connection attempt). */
const CANCEL_CONNECT_MS = 10_000;

/** What node-postgres keeps of a connection (not in its types): where it goes and its backend's key. */
interface Backend {
  host?: string;
  port?: number;
  processID?: number | null;
  secretKey?: number | null;
  connection?: { stream?: { destroy(): void } };
}

/**
 * Connections whose statement outlasted the limit: released as broken (closed), never reused, so
 * that a cancel request still on its way cannot reach a later statement on the same backend.
 */
const overdue = new WeakSet<pg.ClientBase>();

/** Whether `client` must be released as broken (its statement was cancelled or cut off). */
export function wasCancelled(client: pg.ClientBase): boolean {
  return overdue.has(client);
}

/**
 * What a statement whose connection was closed after its cancel request failed ends with, instead of
 * node-postgres's "Connection terminated", which reads as an outage ("nothing was written"): the
 * server may still finish and commit that statement, and the caller must not say otherwise.
 */
export class StatementCutOff extends Error {
  readonly code = 'statement_cut_off';
  constructor(limitMs: number) {
    super(`the statement did not end within ${limitMs} ms and its cancel request did not end it; its connection was closed`);
    this.name = 'StatementCutOff';
  }
}

/** An unbounded transaction that waited its whole limit for its turn (others held it): it never began. */
export class TurnWaitedOut extends Error {
  readonly code = 'turn_waited_out';
  constructor(waitMs: number) {
    super(`waited ${waitMs} ms for other long changes (migrations) to finish; nothing was done`);
    this.name = 'TurnWaitedOut';
  }
}

/** PostgreSQL's CancelRequest message: its length, the request code 1234/5678, the backend's pid and key. */
export function cancelRequest(pid: number, key: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32BE(16, 0);
  b.writeInt32BE(80877102, 4);
  b.writeInt32BE(pid, 8);
  b.writeInt32BE(key, 12);
  return b;
}

/**
 * Sends the cancel request for `b`'s running statement to the server the connection went to (a
 * socket directory or a host and port, as node-postgres connected). Settles once the server closed
 * the request's connection (it answers nothing), or with the error that stopped it.
 */
function sendCancel(b: Backend, pid: number, key: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const host = b.host ?? 'localhost';
    const port = b.port ?? 5432;
    const socket = host.startsWith('/') ? connect(`${host}/.s.PGSQL.${port}`) : connect(port, host);
    socket.setTimeout(CANCEL_CONNECT_MS, () => socket.destroy(new Error(`no connection within ${CANCEL_CONNECT_MS} ms`)));
    socket.once('connect', () => socket.end(cancelRequest(pid, key)));
    socket.once('error', reject);
    socket.once('close', (hadError) => {
      if (!hadError) resolve();
    });
  });
}

/**
 * A StatementWatch for a limit of `ms`: past it, the statement is cancelled (the server fails it with
 * SQLSTATE 57014 and rolls its transaction back), and past CANCEL_GRACE_MS more its connection is
 * closed (node-postgres then fails it as "Connection terminated", a database-unavailable error). On
 * PostgreSQL 14+ the server then ends that statement itself within CLIENT_CHECK_INTERVAL_MS (db/pg.ts
 * sets client_connection_check_interval on the pool's connections). No timer callback can throw: an
 * exception there would end the process, and every tenant with it.
 */
export function statementWatch(ms: number, logger: Logger | undefined): StatementWatch {
  return async (client, run) => {
    let done = false;
    let closed = false;
    let grace: NodeJS.Timeout | null = null;
    const b = client as unknown as Backend;
    const cutOff = () => {
      if (done) return;
      logger?.warn(
        { limit_ms: ms, grace_ms: CANCEL_GRACE_MS },
        'a database statement past its time limit did not end on its cancel request; closing its connection (the server may still finish it)',
      );
      closed = true;
      try {
        b.connection?.stream?.destroy();
      } catch {
        // Already closed: nothing left to end.
      }
    };
    const timer = setTimeout(() => {
      if (done) return;
      overdue.add(client);
      grace = setTimeout(cutOff, CANCEL_GRACE_MS);
      grace.unref();
      const { processID: pid, secretKey: key } = b;
      if (typeof pid !== 'number' || typeof key !== 'number') return;
      sendCancel(b, pid, key).catch((err: unknown) =>
        logger?.warn({ err: (err as Error).message }, 'could not send the cancel request for a database statement past its time limit'),
      );
    }, ms);
    timer.unref();
    try {
      return await run();
    } catch (err) {
      if (closed) throw new StatementCutOff(ms + CANCEL_GRACE_MS);
      throw err;
    } finally {
      done = true;
      clearTimeout(timer);
      if (grace) clearTimeout(grace);
    }
  };
}
