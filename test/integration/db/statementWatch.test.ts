// The API pool's statement limit when the cancel request cannot do its work (PostgreSQL only: PGlite
// has no limit). A cancel request travels on a new connection; when that connection cannot be made
// (a proxy or pooler in front that stopped accepting, several PgBouncers behind one address that do
// not know each other's keys), the statement must still end, or the request hangs for ever, which is
// what the limit is for. And a transaction exempt from the limit (a destination's delete) must still
// not wait for ever for a lock held outside the service.
import { createServer, connect, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPg } from '../../../src/db/pg.js';
import { isDatabaseUnavailable } from '../../../src/db/unavailable.js';
import { StatementCutOff, TurnWaitedOut } from '../../../src/db/statementWatch.js';
import { openTestDb, type TestDb } from '../../support/db.js';
import { captureLogger } from '../../support/logCapture.js';
import { waitFor } from '../../support/waitFor.js';

/**
 * A TCP proxy to the test server: stops taking new connections on close(), keeps the open ones. Each
 * side's close closes the other, as a proxy passing sessions through does. With `dropCancels`, a
 * connection that opens with a CancelRequest is closed unanswered (a pooler or proxy that does not
 * pass cancels on); `dropped` counts them.
 */
async function proxyTo(target: URL, { dropCancels = false } = {}): Promise<{ server: Server; port: number; sockets: Set<Socket>; dropped: () => number }> {
  const sockets = new Set<Socket>();
  let dropped = 0;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  };
  const server = createServer((inbound) => {
    track(inbound);
    const pass = (first: Buffer | null) => {
      const outbound = connect(Number(target.port || 5432), target.hostname);
      track(outbound);
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
      if (first) outbound.write(first);
      inbound.pipe(outbound).pipe(inbound);
    };
    if (!dropCancels) return pass(null);
    // The first message of a connection: a CancelRequest is 16 bytes, its code 80877102 at offset 4.
    inbound.once('data', (first: Buffer) => {
      if (first.length >= 8 && first.readInt32BE(4) === 80877102) {
        dropped++;
        inbound.destroy();
        return;
      }
      pass(first);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return { server, port: address.port, sockets, dropped: () => dropped };
}

/**
 * A TCP proxy to the test server that passes each connection's startup and authentication, then
 * holds its first query for good, never forwarding it: a pooler with its server pool full, or a
 * wedged proxy. Cancel requests pass (there is nothing on the server to cancel).
 */
async function holdingProxy(target: URL): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(Number(target.port || 5432), target.hostname);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
    outbound.pipe(inbound);
    let pending = Buffer.alloc(0);
    let started = false;
    let holding = false;
    inbound.on('data', (chunk: Buffer) => {
      if (holding) return;
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        // The startup message (or SSLRequest, CancelRequest) has no type byte; every later one has.
        const head = started ? 1 : 0;
        if (pending.length < head + 4) return;
        const size = pending.readInt32BE(head) + head;
        if (pending.length < size) return;
        if (started && (pending[0] === 0x51 || pending[0] === 0x50)) {
          holding = true; // 'Q' or 'P': the first query
          return;
        }
        const isSslRequest = !started && size === 8 && pending.readInt32BE(4) === 80877103;
        outbound.write(pending.subarray(0, size));
        pending = pending.subarray(size);
        if (!isSslRequest) started = true;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return { server, port: address.port, sockets };
}

describe('the API pool’s statement limit (postgres)', () => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb('postgres');
  }, 120_000);
  afterAll(async () => {
    await tdb?.close();
  });

  it('closes the connection of a statement whose cancel request cannot reach the server, so the request ends', async () => {
    const url = new URL(tdb.url!);
    const proxy = await proxyTo(url);
    const viaProxy = new URL(url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const app = `watch_sleep_${process.pid}`;
    viaProxy.searchParams.set('application_name', app);
    const logs = captureLogger('debug');
    const db = openPg({ connectionString: viaProxy.toString(), max: 1, statementTimeoutMs: 1000, logger: logs.logger });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      await db.query('SELECT 1'); // the pool's one connection, through the proxy
      // New connections are refused from now on: the cancel request's too.
      // (close() stops listening at once; its callback would wait for the open connections to end.)
      proxy.server.close();
      const sleeping = db.query('SELECT pg_sleep(120)').then(
        () => null,
        (e: unknown) => e,
      );
      const backends = async () =>
        (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app])).rows[0]!.n;
      // Seen on the server first, so that "none left" below is about this backend.
      await waitFor("the pool's backend on the server", backends, (n) => n === 1, { timeoutMs: 60_000, intervalMs: 50 });
      const err = await sleeping;
      // Ended by its connection closing, well before the statement would have (no wall-clock bound
      // here: the test's own ceiling is the bound, and the statement alone would outlast it).
      // Said as what it is: not an outage ("nothing was written"), since the server may still finish it.
      expect(err).toBeInstanceOf(StatementCutOff);
      expect(isDatabaseUnavailable(err)).toBe(false);
      // Nor logged as one: the pool's outage line (and its flag, shared with the worker's pool) is
      // for a server gone, not for one connection the limit closed.
      expect(logs.text()).not.toMatch(/database connection lost/);
      expect(logs.text()).toMatch(/could not send the cancel request/);
      expect(logs.text()).toMatch(/did not end on its cancel request; closing its connection/);
      // node-postgres's own cancel reads a deprecated getter, which prints a warning in every process.
      expect(warnings.map((w) => w.name)).not.toContain('DeprecationWarning');
      // And the server, noticing the closed connection (client_connection_check_interval, db/pg.ts),
      // ends the sleep itself: no backend of the pool is left.
      await waitFor('no backend of the pool left', backends, (n) => n === 0, { timeoutMs: 60_000, intervalMs: 200 });
    } finally {
      process.off('warning', onWarning);
      for (const s of proxy.sockets) s.destroy();
      await db.close().catch(() => undefined);
    }
  }, 90_000);

  it('an unbounded transaction runs as long as it takes but waits for a lock no longer than the limit', async () => {
    await tdb.db.exec('CREATE TABLE IF NOT EXISTS watch_probe (id int PRIMARY KEY); INSERT INTO watch_probe VALUES (1) ON CONFLICT DO NOTHING');
    const db = openPg({ connectionString: tdb.url!, max: 2, statementTimeoutMs: 1000 });
    const locker = new pg.Client({ connectionString: tdb.url! });
    locker.on('error', () => undefined);
    await locker.connect();
    try {
      await expect(db.transaction((tx) => tx.query('SELECT pg_sleep(2)'), { unbounded: true })).resolves.toMatchObject({ rowCount: 1 });
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM watch_probe WHERE id = 1 FOR UPDATE');
      await expect(db.transaction((tx) => tx.query('UPDATE watch_probe SET id = 1 WHERE id = 1'), { unbounded: true })).rejects.toMatchObject({
        code: '55P03',
      });
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
      await db.close();
    }
  }, 90_000);
  it('runs unbounded transactions one at a time, so they never take all of the pool', async () => {
    // Three tenants deleting large destinations at once: each delete is an unbounded transaction that
    // holds its connection until the test lets it end. Together they must hold one connection of the
    // API's pool, not all three: an ordinary statement still gets one meanwhile (within the pool's
    // wait for a connection, 10 s here; taking all three would fail it).
    const db = openPg({ connectionString: tdb.url!, max: 3, statementTimeoutMs: 60_000, connectionTimeoutMs: 10_000 });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let inFlight = 0;
    let most = 0;
    const long = () =>
      db.transaction(
        async (tx) => {
          most = Math.max(most, ++inFlight);
          try {
            await tx.query('SELECT 1');
            await gate;
          } finally {
            inFlight--;
          }
        },
        { unbounded: true },
      );
    try {
      const all = Promise.all([long(), long(), long()]);
      await waitFor(
        'one unbounded transaction holding its connection',
        () => inFlight,
        (n) => n >= 1,
        { timeoutMs: 60_000 },
      );
      await expect(db.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
      open();
      await all;
      expect(most).toBe(1);
      // A failed one gives its turn up too.
      await expect(db.transaction(() => Promise.reject(new Error('boom')), { unbounded: true })).rejects.toThrow('boom');
      await expect(long()).resolves.toBeUndefined();
    } finally {
      open();
      await db.close();
    }
  }, 90_000);

  it('a new connection whose first statement is never answered fails the request within the limit, as unavailable', async () => {
    const proxy = await holdingProxy(new URL(tdb.url!));
    const via = new URL(tdb.url!);
    via.host = `127.0.0.1:${proxy.port}`;
    const db = openPg({ connectionString: via.toString(), max: 1, connectionTimeoutMs: 2000, statementTimeoutMs: 1000 });
    try {
      // The connection's own set-up statement (client_connection_check_interval) is the one held: it
      // is watched as every API statement is, so the request ends, answered 503 "nothing was written".
      const err = await db.query("SELECT 'x'").then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(err)).toBe(true);
    } finally {
      for (const s of proxy.sockets) s.destroy();
      proxy.server.close();
      await db.close();
    }
  }, 90_000);

  it('an unbounded transaction whose turn does not come within the limit is refused, never begun, and the turns go on', async () => {
    const db = openPg({ connectionString: tdb.url!, max: 3, statementTimeoutMs: 1000 });
    let secondRan = false;
    try {
      // The first holds the turn three times the limit (ten statements of 0.3 s).
      const first = db.transaction(
        async (tx) => {
          for (let i = 0; i < 10; i++) await tx.query('SELECT pg_sleep(0.3)');
        },
        { unbounded: true },
      );
      const second = db.transaction(
        async () => {
          secondRan = true;
        },
        { unbounded: true },
      );
      await expect(second).rejects.toBeInstanceOf(TurnWaitedOut);
      await first;
      expect(secondRan).toBe(false);
      await expect(db.transaction((tx) => tx.query('SELECT 1 AS one'), { unbounded: true })).resolves.toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      await db.close();
    }
  }, 90_000);

  it('a statement cut off after its cancel request was lost ends on the server too, and does not commit', async () => {
    // Before: the backend behind the closed connection kept waiting on the lock (a connection slot and
    // locks held, one more per cut statement) and, once the lock was released, committed the UPDATE.
    await tdb.db.exec(
      'CREATE TABLE IF NOT EXISTS watch_orphan (id int PRIMARY KEY, v int NOT NULL); INSERT INTO watch_orphan VALUES (1, 0) ON CONFLICT DO NOTHING',
    );
    const url = new URL(tdb.url!);
    const proxy = await proxyTo(url, { dropCancels: true });
    const viaProxy = new URL(url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    // Names this pool's backends in pg_stat_activity.
    const app = `watch_orphan_${process.pid}`;
    viaProxy.searchParams.set('application_name', app);
    const db = openPg({ connectionString: viaProxy.toString(), max: 1, statementTimeoutMs: 1000 });
    const locker = new pg.Client({ connectionString: tdb.url! });
    locker.on('error', () => undefined);
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT v FROM watch_orphan WHERE id = 1 FOR UPDATE');
      const cut = db.query('UPDATE watch_orphan SET v = v + 1 WHERE id = 1').then(
        () => null,
        (e: unknown) => e,
      );
      const waiting = async () =>
        (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [app]))
          .rows[0]!.n;
      // Seen waiting on the lock first, so that "none left" below is about this backend.
      await waitFor("the pool's backend waiting on the lock", waiting, (n) => n === 1, { timeoutMs: 60_000, intervalMs: 50 });
      const err = await cut;
      expect(err).toBeInstanceOf(StatementCutOff);
      expect(proxy.dropped()).toBeGreaterThan(0);
      await waitFor('no backend of the pool still waiting on the lock', waiting, (n) => n === 0, { timeoutMs: 60_000, intervalMs: 200 });
      await locker.query('ROLLBACK');
      const rows = await tdb.db.query<{ v: number }>('SELECT v FROM watch_orphan WHERE id = 1');
      expect(rows.rows[0]!.v).toBe(0);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
      for (const s of proxy.sockets) s.destroy();
      proxy.server.close();
      await db.close().catch(() => undefined);
    }
  }, 120_000);
});
