// The hot statements (db/prepared.ts) go to a PostgreSQL server as named prepared statements, parsed
// and planned once per connection; AEGIS_DB_PREPARED_STATEMENTS=0 sends every statement unnamed, for
// poolers that cannot keep them (PgBouncer in transaction mode before 1.21).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyApiKey } from '../../../src/auth/apiKeys.js';
import { loadConfig } from '../../../src/config/env.js';
import { openDatabase } from '../../../src/db/open.js';
import { openPg } from '../../../src/db/pg.js';
import { preparedName } from '../../../src/db/prepared.js';
import type { Db, Queryable } from '../../../src/db/types.js';
import { dueDestinations } from '../../../src/queue/dueDestinations.js';
import { recordEvents } from '../../../src/queue/enqueue.js';
import { openTestDb, type TestDb } from '../../support/db.js';
import { newDestination, newOrg } from '../queue/support.js';

describe('prepared statements (postgres)', () => {
  let tdb: TestDb;
  const opened: Db[] = [];
  beforeAll(async () => {
    tdb = await openTestDb('postgres');
  });
  afterAll(async () => {
    await Promise.allSettled(opened.map((d) => d.close()));
    await tdb?.close();
  });

  async function open(setting: string | undefined): Promise<Db> {
    const config = loadConfig({ DATABASE_URL: tdb.url!, ...(setting === undefined ? {} : { AEGIS_DB_PREPARED_STATEMENTS: setting }) });
    const db = await openDatabase(config);
    opened.push(db);
    return db;
  }

  /** The statements prepared on this connection (pg_prepared_statements is per session). */
  async function preparedOn(tx: Queryable): Promise<{ name: string; statement: string }[]> {
    return (await tx.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements ORDER BY name')).rows;
  }

  it('by default, a marked statement is prepared once under its own name and an unmarked one is not', async () => {
    const db = await open(undefined);
    const list = await db.transaction(async (tx) => {
      for (let i = 0; i < 3; i++) await verifyApiKey(tx, `aegis_not_a_key_${i}_0123456789abcdef`);
      await dueDestinations(tx);
      await tx.query('SELECT $1::int + 1 AS n', [1]);
      return preparedOn(tx);
    });
    const lookup = list.find((p) => p.statement.includes('FROM api_keys WHERE lookup_id = $1'));
    expect(lookup?.name).toBe(preparedName('SELECT org_id, key_digest FROM api_keys WHERE lookup_id = $1'));
    expect(list.filter((p) => p.statement.includes('FROM api_keys'))).toHaveLength(1); // three lookups, one statement
    expect(list.some((p) => p.statement.includes('WITH RECURSIVE heads'))).toBe(true);
    expect(list.some((p) => p.statement.includes('$1::int + 1'))).toBe(false);
    expect(list.every((p) => /^aegis_[0-9a-f]{24}$/.test(p.name))).toBe(true);
  });

  it('AEGIS_DB_PREPARED_STATEMENTS=0 sends every statement unnamed', async () => {
    const db = await open('0');
    const list = await db.transaction(async (tx) => {
      await verifyApiKey(tx, 'aegis_not_a_key_0123456789abcdef');
      await dueDestinations(tx);
      return preparedOn(tx);
    });
    expect(list).toEqual([]);
  });

  describe('statements marked for their generic plan', () => {
    /** One connection, so every statement below runs in the same session as the ones it inspects. */
    function openOne(preparedStatements = true): Db {
      const db = openPg({ connectionString: tdb.url!, max: 1, preparedStatements });
      opened.push(db);
      return db;
    }

    let seq = 0;
    async function ingest(db: Queryable, orgId: string): Promise<void> {
      seq++;
      const events = [0, 1].map((i) => ({ orgId, id: `evt_plan_mode_${seq}_${i}`, occurredAt: new Date(), payload: { n: i } }));
      const { inserted, jobs } = await recordEvents(db, events);
      expect({ inserted: inserted.length, jobs }).toEqual({ inserted: 2, jobs: 2 });
    }

    /** How often this session planned the ingest statement for its values and how often it took the generic plan. */
    async function ingestPlans(db: Queryable): Promise<{ generic: number; custom: number }> {
      const { rows } = await db.query<{ generic: string; custom: string }>(
        `SELECT generic_plans AS generic, custom_plans AS custom FROM pg_prepared_statements WHERE statement LIKE $1`,
        ['%INSERT INTO forwarding_jobs (org_id, destination_id, event_id)%'],
      );
      expect(rows).toHaveLength(1);
      return { generic: Number(rows[0]!.generic), custom: Number(rows[0]!.custom) };
    }

    // Parameterless statements never change the mode: SHOW tells the session's setting as it stands.
    const mode = async (db: Queryable) => (await db.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode')).rows[0]!.plan_cache_mode;
    const modeForParameterized = async (db: Queryable) =>
      (await db.query<{ m: string }>(`SELECT current_setting('plan_cache_mode') AS m WHERE $1::int = 1`, [1])).rows[0]!.m;

    it('the ingest runs its generic plan from the first request; a statement with values is still planned for them', async () => {
      const db = openOne();
      const org = await newOrg(db);
      await newDestination(db, org);
      // PostgreSQL left to itself plans a statement for its values at least five times first.
      for (let i = 0; i < 7; i++) await ingest(db, org);
      expect(await mode(db)).toBe('force_generic_plan');
      expect(await modeForParameterized(db)).toBe('auto');
      expect(await ingestPlans(db)).toEqual({ generic: 7, custom: 0 });
      // The API key lookup runs beside the ingest on every request, in the same mode.
      await verifyApiKey(db, 'aegis_not_a_key_0123456789abcdef');
      expect(await mode(db)).toBe('force_generic_plan');
    });

    it('a transaction rolled back after changing the mode leaves no stale mode behind, either way', async () => {
      const db = openOne();
      const org = await newOrg(db);
      await newDestination(db, org);
      // Default mode, then a transaction that forces the generic plan and rolls back: the next ingest
      // must force it again, not believe it still holds.
      await expect(
        db.transaction(async (tx) => {
          await ingest(tx, org);
          throw new Error('rolled back on purpose');
        }),
      ).rejects.toThrow('rolled back on purpose');
      expect(await mode(db)).toBe('auto');
      await ingest(db, org);
      expect(await ingestPlans(db)).toEqual({ generic: 2, custom: 0 });
      // Forced, then a transaction that resets it for a statement with values and rolls back: the
      // session is forced again, and the next statement with values must reset it again.
      await ingest(db, org);
      expect(await mode(db)).toBe('force_generic_plan');
      await expect(
        db.transaction(async (tx) => {
          expect(await modeForParameterized(tx)).toBe('auto');
          throw new Error('rolled back on purpose');
        }),
      ).rejects.toThrow('rolled back on purpose');
      expect(await mode(db)).toBe('force_generic_plan');
      expect(await modeForParameterized(db)).toBe('auto');
    });

    it('with prepared statements off (a pooler in transaction mode) the session setting is never touched', async () => {
      const db = openOne(false);
      const org = await newOrg(db);
      await newDestination(db, org);
      for (let i = 0; i < 3; i++) await ingest(db, org);
      expect(await mode(db)).toBe('auto');
    });
  });
});
