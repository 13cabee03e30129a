// Upgrading must not move a customer's Elastic events to another data stream: destinations created
// before the per-dataset default get the old default (logs-aegis.audit-default) written into their
// options by migration 0009; an index a user set, and other SIEMs, are left alone.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrg } from '../../../src/orgs/repository.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';

const MIGRATION = readFileSync(new URL('../../../migrations/0009_elastic_keep_index.sql', import.meta.url), 'utf8');

describe.each(DB_KINDS)('migration 0009 keeps existing Elastic destinations on their data stream (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  afterAll(async () => {
    await tdb?.close();
  });

  it('writes the old default index into Elastic destinations without one, and nothing else', async () => {
    const org = await createOrg(tdb.db, 'upgrade');
    const rows: Array<[string, string, Record<string, string>]> = [
      ['fwd_old_elastic', 'elastic', {}],
      ['fwd_own_index', 'elastic', { index: 'logs-security-prod' }],
      ['fwd_splunk', 'splunk_hec', { source: 's' }],
    ];
    for (const [id, siem, options] of rows) {
      await tdb.db.query(
        `INSERT INTO destinations (org_id, id, siem, url, options, enabled) VALUES ($1, $2, $3, 'https://siem.example.com/_bulk', $4, false)`,
        [org.id, id, siem, JSON.stringify(options)],
      );
    }
    await tdb.db.exec(MIGRATION);
    const { rows: after } = await tdb.db.query<{ id: string; options: Record<string, string> }>(
      'SELECT id, options FROM destinations WHERE org_id = $1 ORDER BY id',
      [org.id],
    );
    expect(Object.fromEntries(after.map((r) => [r.id, r.options]))).toEqual({
      fwd_old_elastic: { index: 'logs-aegis.audit-default' },
      fwd_own_index: { index: 'logs-security-prod' },
      fwd_splunk: { source: 's' },
    });
  });
});
