// A database that refuses delivery's writes for want of resources (a full disk: SQLSTATE 53100) while
// it still answers reads: the worker says so once, as a warning naming the SQLSTATE (no lost
// connection reports it), pauses between tries instead of running the refused claim again at once,
// and delivers everything when the refusals stop. The refusal is PostgreSQL's own error, raised by a
// trigger on the destination's job rows, as a full disk raises it on any write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { DECISIONS_ONLY, ok, startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { allDelivered, seedEvents } from '../integration/delivery/support.js';

describe('faults: the database refuses delivery for want of resources (postgres)', () => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    receiver = await startReceiver(ok());
    svc = await startTestService(tdb.db, {});
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  it('warns once with the SQLSTATE, retries with a pause, and delivers every event once the disk has room', async () => {
    const org = await svc.newOrg();
    const created = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: `${receiver.url}/in`, filter: DECISIONS_ONLY },
    });
    expect(created.status, created.text).toBe(201);
    const dest = created.body.destination_id as string;
    await tdb.db.exec(`
      CREATE SEQUENCE disk_full_tries_for_test;
      CREATE FUNCTION disk_full_jobs_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.destination_id = '${dest}' THEN
          -- A sequence is not rolled back with the refused statement: it counts the tries.
          PERFORM nextval('disk_full_tries_for_test');
          RAISE EXCEPTION 'could not extend file (test)' USING ERRCODE = 'disk_full';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER disk_full_jobs_for_test BEFORE UPDATE ON forwarding_jobs FOR EACH ROW EXECUTE FUNCTION disk_full_jobs_for_test();`);
    let dropped = false;
    const drop = async () => {
      if (dropped) return;
      dropped = true;
      await tdb.db.exec(
        'DROP TRIGGER disk_full_jobs_for_test ON forwarding_jobs; DROP FUNCTION disk_full_jobs_for_test(); DROP SEQUENCE disk_full_tries_for_test;',
      );
    };
    try {
      const ids = await seedEvents(tdb.db, org.orgId, 20);
      const warned = () => svc.logs.lines.filter((l) => l.includes('refused delivery for want of resources'));
      await expect.poll(() => warned().length, { timeout: 60_000, interval: 100, message: 'the refusal is warned about' }).toBeGreaterThan(0);
      expect(warned()[0]).toContain('"sqlstate":"53100"');
      expect(warned()[0]).toContain(dest);
      // Tried again while refused, said once.
      const tries = async () => Number((await tdb.db.query<{ n: string }>('SELECT last_value AS n FROM disk_full_tries_for_test')).rows[0]!.n);
      await expect.poll(tries, { timeout: 60_000, interval: 100, message: 'the refused claim is tried again' }).toBeGreaterThanOrEqual(3);
      expect(warned()).toHaveLength(1);
      expect(receiver.requests).toHaveLength(0);
      await drop();
      await expect.poll(() => allDelivered(tdb.db, dest, ids, receiver.requests), { timeout: 120_000, interval: 200 }).toBe(true);
      expect(warned()).toHaveLength(1);
    } finally {
      await drop();
    }
  });
});
