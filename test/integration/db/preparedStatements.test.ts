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
import { scanQueue } from '../../../src/queue/dueDestinations.js';
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
      await scanQueue(tx);
      await tx.query('SELECT $1::int + 1 AS n', [1]);
      return preparedOn(tx);
    });
    const lookup = list.find((p) => p.statement.includes('FROM api_keys WHERE lookup_id = $1'));
    expect(lookup?.name).toBe(preparedName('SELECT org_id, key_digest FROM api_keys WHERE lookup_id = $1 ORDER BY created_at, org_id'));
    expect(list.filter((p) => p.statement.includes('FROM api_keys'))).toHaveLength(1); // three lookups, one statement
    expect(list.some((p) => p.statement.includes('WITH RECURSIVE heads'))).toBe(true);
    expect(list.some((p) => p.statement.includes('$1::int + 1'))).toBe(false);
    expect(list.every((p) => /^aegis_[0-9a-f]{24}$/.test(p.name))).toBe(true);
  });

  it('AEGIS_DB_PREPARED_STATEMENTS=0 sends every statement unnamed', async () => {
    const db = await open('0');
    const list = await db.transaction(async (tx) => {
      await verifyApiKey(tx, 'aegis_not_a_key_0123456789abcdef');
      await scanQueue(tx);
      return preparedOn(tx);
    });
    expect(list).toEqual([]);
  });

  it('the ingest keeps its generic plan among thousands of destinations, not a plan per request', async () => {
    // 10,000 destinations of 1,000 other organizations, as statistics know them. PostgreSQL plans a
    // prepared statement for its values five times, then takes the generic plan unless its estimate
    // looks worse; the ingest's did (organizations as an array) and was planned for every request.
    await tdb.db.query(`INSERT INTO orgs (id, name) SELECT 'org_plan_many' || g, 'many' FROM generate_series(1, 1000) g`);
    await tdb.db.query(
      `INSERT INTO destinations (org_id, id, siem, url, enabled)
       SELECT 'org_plan_many' || (1 + (g - 1) / 10), 'fwd_plan_many' || g, 'custom', 'https://siem.example.com/hook', true
         FROM generate_series(1, 10000) g`,
    );
    await tdb.db.query('ANALYZE destinations');
    // One connection, so the statement's plan counters below are the ones of the session that ran it.
    const db = openPg({ connectionString: tdb.url!, max: 1 });
    opened.push(db);
    const org = await newOrg(db);
    await newDestination(db, org);
    for (let i = 0; i < 12; i++) {
      const events = [0, 1].map((n) => ({ orgId: org, id: `evt_plan_${i}_${n}`, occurredAt: new Date(), payload: { n } }));
      expect(await recordEvents(db, events)).toEqual({ inserted: events.map((e) => e.id), jobs: 2 });
    }
    const { rows } = await db.query<{ generic: string; custom: string }>(
      `SELECT generic_plans AS generic, custom_plans AS custom FROM pg_prepared_statements WHERE statement LIKE $1`,
      ['%INSERT INTO forwarding_jobs (org_id, destination_id, event_id)%'],
    );
    expect(rows.map((r) => ({ generic: Number(r.generic), custom: Number(r.custom) }))).toEqual([{ generic: 7, custom: 5 }]);
  });
});
