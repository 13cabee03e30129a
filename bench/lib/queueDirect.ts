// The queue driven directly, without a worker or a receiver: the bench database reset, a backlog
// seeded for one enabled destination (its receiver port is 1: nothing is ever sent, only the rows
// matter), and one connection on which a script calls the service's own claimJobs and settleClaim
// (src/queue) as a lane does. Shared by claimCost.ts and explainQueue.ts.
import pg from 'pg';
import { clientQueryable } from '../../src/db/pg.js';
import type { Queryable } from '../../src/db/types.js';
import { ROW_VERSION } from '../../src/queue/dueDestinations.js';
import type { SiemId } from '../../src/siem/catalog.js';
import { BENCH_URL, createBenchOrg, ensureDatabase, openBenchDb, resetDatabase, seedBacklog } from './setup.js';

export interface DirectQueue {
  /** The one connection; its backend is the one doing the work (pg_backend_pid). */
  client: pg.Client;
  /** The same connection as the service's Queryable. */
  q: Queryable;
  orgId: string;
  destinationId: string;
  /** The destination row's version (ROW_VERSION): the configVersion claimJobs is called with. */
  configVersion: string;
}

/** Resets the bench database, seeds `events` pending jobs for one `siem` destination and connects. */
export async function seedDirectQueue(siem: SiemId, events: number): Promise<DirectQueue> {
  await ensureDatabase();
  const db = openBenchDb();
  await resetDatabase(db);
  const org = await createBenchOrg(db, 1, [siem], false);
  const destinationId = org.destinations[0]!.id;
  await seedBacklog(db, org.orgId, [destinationId], events);
  await db.query(`UPDATE destinations SET enabled = true WHERE org_id = $1`, [org.orgId]);
  await db.close();

  const client = new pg.Client({ connectionString: BENCH_URL });
  await client.connect();
  const q = clientQueryable(client);
  const { rows } = await client.query<{ v: string }>(`SELECT ${ROW_VERSION} AS v FROM destinations d WHERE id = $1`, [destinationId]);
  return { client, q, orgId: org.orgId, destinationId, configVersion: rows[0]!.v };
}
