// rowCount means the same on both databases (pg's meaning): rows a SELECT returned, rows a write
// changed. Code and tests read it after either (bootstrap's "was it there before?" is a SELECT).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';

describe.each(DB_KINDS)('rowCount (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
    await tdb.db.query(`INSERT INTO orgs (id, name) VALUES ('org_rc_1', 'a'), ('org_rc_2', 'b'), ('org_rc_3', 'c')`);
  });
  afterAll(async () => {
    await tdb?.close();
  });

  it('counts the rows a SELECT returned, none or several', async () => {
    expect((await tdb.db.query(`SELECT 1 FROM orgs WHERE id LIKE 'org_rc_%'`)).rowCount).toBe(3);
    expect((await tdb.db.query(`SELECT 1 FROM orgs WHERE id = 'org_rc_none'`)).rowCount).toBe(0);
  });

  it('counts the rows a write changed, with or without RETURNING, and a CTE by its outer SELECT', async () => {
    expect((await tdb.db.query(`UPDATE orgs SET name = 'x' WHERE id IN ('org_rc_1', 'org_rc_2')`)).rowCount).toBe(2);
    expect((await tdb.db.query(`UPDATE orgs SET name = 'y' WHERE id = 'org_rc_3' RETURNING id`)).rowCount).toBe(1);
    expect((await tdb.db.query(`WITH u AS (UPDATE orgs SET name = 'z' WHERE id LIKE 'org_rc_%' RETURNING 1) SELECT count(*) FROM u`)).rowCount).toBe(1);
    expect((await tdb.db.query(`DELETE FROM orgs WHERE id = 'org_rc_none'`)).rowCount).toBe(0);
  });
});
