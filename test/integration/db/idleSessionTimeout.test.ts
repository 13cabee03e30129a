// A server (or role, or database) with idle_session_timeout ends every session idle that long. The
// LISTEN connection is idle by design: it was ended on that cycle for as long as the service ran,
// deaf for a second each time (a missed settings change costs every claim being sent its rest,
// delivery/worker.ts), and each cycle logged a database outage that was none. The LISTEN session now
// turns the timeout off for itself, and a pooled connection ended for being idle is no outage (the pool
// opens another when it needs one).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPg } from '../../../src/db/pg.js';
import type { Db } from '../../../src/db/types.js';
import { openTestDb, type TestDb } from '../../support/db.js';
import { captureLogger } from '../../support/logCapture.js';

const POLL = { timeout: 120_000, interval: 100 };

describe('a server that ends idle sessions (postgres)', () => {
  let tdb: TestDb;
  let db: Db;
  const tag = `aegis_idle_${process.pid}`;
  const logs = captureLogger('debug');

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    const u = new URL(tdb.url!);
    u.searchParams.set('options', `-c search_path=${tdb.schema} -c idle_session_timeout=1000`);
    u.searchParams.set('application_name', tag);
    db = openPg({ connectionString: u.toString(), logger: logs.logger });
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.close();
  });

  const backends = async () =>
    (
      await tdb.db.query<{ pid: number; query: string; age_s: number }>(
        `SELECT pid, query, extract(epoch FROM now() - backend_start)::float8 AS age_s FROM pg_stat_activity WHERE application_name = $1`,
        [tag],
      )
    ).rows;

  it('keeps listening on one connection, and logs no outage when the pool loses an idle one', async () => {
    const heard: string[] = [];
    const unlisten = await db.listen('aegis_idle_test', (p) => heard.push(p));
    try {
      expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      const [listening] = (await backends()).filter((b) => b.query === 'LISTEN aegis_idle_test');
      expect(listening).toBeDefined();
      // The server ends the pooled connection once it is idle for a second...
      await expect.poll(async () => (await backends()).filter((b) => b.pid !== listening!.pid).length, POLL).toBe(0);
      // ...and the LISTEN connection outlives that many times over, the same session throughout.
      await expect.poll(async () => (await backends()).find((b) => b.pid === listening!.pid)?.age_s ?? -1, POLL).toBeGreaterThan(5);
      await tdb.db.query(`NOTIFY aegis_idle_test, 'still here'`);
      await expect.poll(() => heard, POLL).toEqual(['still here']);
      expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(logs.lines.filter((l) => /connection lost|restored/.test(l))).toEqual([]);
    } finally {
      await unlisten();
    }
  });
});
