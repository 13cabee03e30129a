// Upgrading to migration 0016 (forwarding_jobs keyed by job id, the claim fence as a table rule, the
// pending-event index gone) on an installation with jobs queued, claimed and settled: every job keeps
// its row, and an index an operator built beforehand (README, "Upgrading") becomes the primary key.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../../src/db/types.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { inRolledBackTransaction, indexesOf } from '../../support/plans.js';
import { addEvents, newDestination, newOrg } from '../queue/support.js';

const MIGRATION = readFileSync(new URL('../../../migrations/0016_claims_by_primary_key.sql', import.meta.url), 'utf8');

describe.each(DB_KINDS)('migration 0016 keys forwarding_jobs by job id (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  afterAll(async () => {
    await tdb?.close();
  });

  /** The table as migration 0015 left it. */
  async function as0015(tx: Queryable): Promise<void> {
    await tx.query(`ALTER TABLE forwarding_jobs DROP CONSTRAINT forwarding_jobs_claimed_pending`);
    await tx.query(`ALTER TABLE forwarding_jobs DROP CONSTRAINT forwarding_jobs_pkey`);
    await tx.query(`ALTER TABLE forwarding_jobs ADD PRIMARY KEY (org_id, id)`);
    await tx.query(`CREATE INDEX forwarding_jobs_pending_event ON forwarding_jobs (org_id, destination_id, event_id) WHERE status = 'pending'`);
  }

  async function shape(tx: Queryable) {
    const { rows: key } = await tx.query<{ col: string }>(
      `SELECT a.attname AS col FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = 'forwarding_jobs'::regclass AND i.indisprimary`,
    );
    const { rows: checks } = await tx.query<{ name: string }>(
      `SELECT conname AS name FROM pg_constraint WHERE conrelid = 'forwarding_jobs'::regclass AND contype = 'c' ORDER BY 1`,
    );
    const { rows: jobs } = await tx.query<{ id: string; status: string; claimed: boolean }>(
      `SELECT id::text, status, claim_id IS NOT NULL AS claimed FROM forwarding_jobs ORDER BY id`,
    );
    return { key: key.map((r) => r.col), indexes: await indexesOf(tx, 'forwarding_jobs'), checks: checks.map((r) => r.name), jobs };
  }

  for (const prebuilt of ['none', 'valid', 'invalid'] as const) {
    it(`keeps every job (index built beforehand: ${prebuilt})`, async () => {
      const org = await newOrg(tdb.db);
      const dest = await newDestination(tdb.db, org);
      await addEvents(tdb.db, org, 3);
      let before: Awaited<ReturnType<typeof shape>> | undefined;
      let after: Awaited<ReturnType<typeof shape>> | undefined;
      await inRolledBackTransaction(tdb.db, async (tx) => {
        await as0015(tx);
        const { rows } = await tx.query<{ id: string }>(`SELECT id::text FROM forwarding_jobs WHERE destination_id = $1 ORDER BY id`, [dest]);
        await tx.query(`UPDATE forwarding_jobs SET claim_id = gen_random_uuid() WHERE id = $1`, [rows[0]!.id]);
        await tx.query(`UPDATE forwarding_jobs SET status = 'done', settled_at = now() WHERE id = $1`, [rows[1]!.id]);
        if (prebuilt !== 'none') await tx.query(`CREATE UNIQUE INDEX forwarding_jobs_id ON forwarding_jobs (id)`);
        // What a CREATE INDEX CONCURRENTLY that failed or was cancelled leaves behind.
        if (prebuilt === 'invalid') await tx.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'forwarding_jobs_id'::regclass`);
        before = await shape(tx);
        await tx.exec(MIGRATION);
        after = await shape(tx);
      });
      expect(before!.key.sort()).toEqual(['id', 'org_id']);
      expect(after!.key).toEqual(['id']);
      expect(after!.jobs).toEqual(before!.jobs);
      expect(after!.jobs.map((j) => [j.status, j.claimed])).toEqual(
        expect.arrayContaining([
          ['pending', true],
          ['done', false],
          ['pending', false],
        ]),
      );
      expect(after!.indexes).toContain('forwarding_jobs_pkey');
      expect(after!.indexes).not.toContain('forwarding_jobs_pending_event');
      expect(after!.indexes).not.toContain('forwarding_jobs_id');
      expect(after!.checks).toContain('forwarding_jobs_claimed_pending');
    });
  }
});
