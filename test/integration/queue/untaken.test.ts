// untakenFor: when a worker that cannot open a destination's credential may say so on the shared row.
// Only once nobody works on it: not while another process delivers, fails against a SIEM that is down,
// or holds a claim; and a disabled destination is judged by its farewell, not by the backlog it holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { untakenFor } from '../../../src/queue/deliveryState.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { seedEvents } from '../delivery/support.js';

const OWN = "Cannot open this destination's stored credential: (the process's own text)";
const GRACE_S = 60;

describe.each(DB_KINDS)('whether a destination is untaken (%s)', (kind) => {
  let tdb: TestDb;
  let api: TestService;
  let org = { orgId: '', apiKey: '' };
  let id = '';

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    // No worker: the rows are shaped by hand, as workers would leave them.
    api = await startTestService(tdb.db, {}, 'api');
    org = await api.newOrg();
    const made = await api.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: 'https://siem.example.com/in', enabled: true },
    });
    expect(made.status, made.text).toBe(201);
    id = made.body.destination_id as string;
    await seedEvents(tdb.db, org.orgId, 5);
  });
  afterAll(async () => {
    await api?.stop();
    await tdb?.close();
  });

  const untaken = () => untakenFor(tdb.db, org.orgId, id, GRACE_S, OWN);
  const shape = async (destination: string, jobs = "next_attempt_at = now() - interval '10 minutes', claim_id = NULL") => {
    await tdb.db.query(`UPDATE destinations SET ${destination} WHERE id = $1`, [id]);
    await tdb.db.query(`UPDATE forwarding_jobs SET ${jobs} WHERE destination_id = $1 AND status = 'pending'`, [id]);
  };

  it('fresh work is not untaken; work waiting past the grace with nobody on it is', async () => {
    await shape('last_delivery_at = NULL, last_attempt_at = NULL, last_error = NULL', 'next_attempt_at = now(), claim_id = NULL');
    expect(await untaken()).toBe(false);
    await shape('last_delivery_at = NULL, last_attempt_at = NULL, last_error = NULL');
    expect(await untaken()).toBe(true);
  });

  it('a delivery, or an attempt by another process, within the grace takes it, a SIEM failing included', async () => {
    await shape("last_delivery_at = now() - interval '5 seconds', last_attempt_at = NULL, last_error = NULL");
    expect(await untaken()).toBe(false);
    // The holder of the key fails against a SIEM that is down: still taken.
    await shape("last_delivery_at = now() - interval '1 hour', last_attempt_at = now(), last_error = 'HTTP 503: down'");
    expect(await untaken()).toBe(false);
    // Its own record (or another keyless process's) is not someone taking it.
    await tdb.db.query('UPDATE destinations SET last_error = $2 WHERE id = $1', [id, OWN]);
    expect(await untaken()).toBe(true);
  });

  it('a job claimed under a running lease takes it', async () => {
    await shape('last_delivery_at = NULL, last_attempt_at = NULL, last_error = NULL');
    await tdb.db.query(
      `UPDATE forwarding_jobs SET claim_id = gen_random_uuid(), next_attempt_at = now() + interval '1 minute'
        WHERE id = (SELECT min(id) FROM forwarding_jobs WHERE destination_id = $1 AND status = 'pending')`,
      [id],
    );
    expect(await untaken()).toBe(false);
  });

  it('a disabled destination is judged by its farewell, not by the backlog it holds', async () => {
    await shape('last_delivery_at = NULL, last_attempt_at = NULL, last_error = NULL');
    await tdb.db.query('UPDATE destinations SET enabled = false WHERE id = $1', [id]);
    // The held backlog waits long since; no farewell is due yet, or it is fresh.
    await tdb.db.query(`UPDATE forwarding_jobs SET farewell = false WHERE destination_id = $1`, [id]);
    expect(await untaken()).toBe(false);
    await tdb.db.query(
      `UPDATE forwarding_jobs SET farewell = true, next_attempt_at = now()
        WHERE id = (SELECT min(id) FROM forwarding_jobs WHERE destination_id = $1 AND status = 'pending')`,
      [id],
    );
    expect(await untaken()).toBe(false);
    await tdb.db.query(`UPDATE forwarding_jobs SET next_attempt_at = now() - interval '10 minutes' WHERE destination_id = $1 AND farewell`, [id]);
    expect(await untaken()).toBe(true);
  });
});
