// Issue #10: with API and worker in one process (--role all) on PostgreSQL, a worker that holds every
// connection it has never leaves an API request waiting for one (db/open.ts, separate pools).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../../support/db.js';
import { captureLogger } from '../../support/logCapture.js';
import { loadConfig } from '../../../src/config/env.js';
import { startService, type Service } from '../../../src/service.js';
import { createOrg } from '../../../src/orgs/repository.js';
import { createApiKey } from '../../../src/auth/apiKeys.js';
import { generateKeyBase64 } from '../../../src/crypto/keyring.js';

describe('API and worker pools (postgres, --role all)', () => {
  let tdb: TestDb;
  let service: Service;
  let release: () => void = () => undefined;
  const held: Promise<unknown>[] = [];

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: tdb.url!,
      AEGIS_ENCRYPTION_KEY: generateKeyBase64(),
      AEGIS_DB_POOL_MAX: '4',
      AEGIS_DB_API_CONNECTIONS: '1',
      AEGIS_LOG_LEVEL: 'warn',
    });
    service = await startService(config, { role: 'all', logger: captureLogger('warn').logger });
  });
  afterAll(async () => {
    release();
    await Promise.allSettled(held);
    await service?.stop();
    await tdb?.close();
  });

  it('answers API requests while every worker connection is held', async () => {
    const org = await createOrg(tdb.db, 'Pools');
    const apiKey = await createApiKey(tdb.db, org.id);
    const gate = new Promise<void>((r) => (release = r));
    // Ask the worker's handle for as many connections as the whole process may have (4): its pool
    // (4 - AEGIS_DB_API_CONNECTIONS = 3) gives three, and the fourth has to wait. Were the pools one,
    // all four would be taken and the requests below would wait for a connection (and fail).
    let entered = 0;
    const hold = async () => {
      entered++;
      await gate;
    };
    for (let i = 0; i < 3; i++) held.push(service.workerDb.transaction(hold));
    let extraDone = false;
    const extra = service.workerDb.transaction(hold).then(
      () => (extraDone = true),
      () => (extraDone = true),
    );
    held.push(extra);
    // Three transactions hold a connection each (BEGIN sent): the worker's pool is full from here on.
    await expect.poll(() => entered, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    expect(entered).toBe(3);
    expect(extraDone).toBe(false);

    const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const list = await fetch(`${service.address}/api/orgs/${org.id}/forwarding-destinations?limit=10`, { headers: auth });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ destinations: [], next_cursor: null });
    // Recording an event is a write transaction on the API's pool (the worker is woken and blocks).
    const pf = await fetch(`${service.address}/api/orgs/${org.id}/preflight`, { method: 'POST', headers: auth, body: JSON.stringify({ input: 'hello' }) });
    expect(pf.status).toBe(200);
    const ready = await fetch(`${service.address}/readyz`);
    expect(ready.status).toBe(200);
    // The fourth is still waiting for one of the worker's connections.
    expect(entered).toBe(3);
    expect(extraDone).toBe(false);
    release();
    await expect.poll(() => extraDone, { timeout: 30_000 }).toBe(true);
  });
});
