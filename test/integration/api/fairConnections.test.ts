// One organization must not hold every connection of the API's pool (db/fairSlots.ts, db/pg.ts
// PgOptions.fairByOrg, db/open.ts): AEGIS_API_MAX_CONCURRENT_PER_ORG (4) admits more of one
// organization's requests at once than the API's pool has connections (AEGIS_DB_API_CONNECTIONS, 3),
// and without the fair share another organization's simple read waited for one of them, up to the
// pool's 10 s and a 503. One organization now holds at most all but one connection.
//
// The busy organization's statements are held deterministically: they wait on a lock a session
// outside the service holds, so they keep their connections until the test lets go of it. Every wait
// below is for a condition, with a ceiling; none measures time.
//
// PostgreSQL only: the embedded PGlite is one connection in this process, with nothing to share.
import { randomInt } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/env.js';
import { startService, type Service } from '../../../src/service.js';
import { createOrg } from '../../../src/orgs/repository.js';
import { createApiKey } from '../../../src/auth/apiKeys.js';
import { generateKeyBase64 } from '../../../src/crypto/keyring.js';
import { openPg } from '../../../src/db/pg.js';
import { currentOrgScope, inOrgScope } from '../../../src/db/orgScope.js';
import { admissionLimits, admitPerOrg, OrgAdmission } from '../../../src/api/orgAdmission.js';
import type { Db } from '../../../src/db/types.js';
import { openTestDb, type TestDb } from '../../support/db.js';

const TEST_CEILING_MS = 180_000;
/** A ceiling for an answer that should come at once; past the pool's own 10 s wait it would be a 503. */
const REQUEST_CEILING_MS = 60_000;
const POLL = { timeout: 60_000, interval: 50 };

/** A promise's outcome, readable without awaiting it. */
function watched<T>(p: Promise<T>) {
  const w: { settled: boolean; value?: T; error?: unknown; done: Promise<void> } = { settled: false, done: Promise.resolve() };
  w.done = p.then(
    (v) => {
      w.value = v;
      w.settled = true;
    },
    (e: unknown) => {
      w.error = e;
      w.settled = true;
    },
  );
  return w;
}

describe("the API's pool is shared between organizations (postgres)", () => {
  let tdb: TestDb;
  let locker: pg.Client | null = null;

  beforeAll(async () => {
    // A database of its own: lockWaiters counts every backend of the database waiting on a lock, and
    // other files running beside this one leave theirs waiting on purpose.
    tdb = await openTestDb('postgres', { ownDatabase: true });
  }, TEST_CEILING_MS);

  afterEach(async () => {
    // Whatever happened, the lock goes, so every held statement ends and the pools can close.
    await locker?.end().catch(() => undefined);
    locker = null;
  });

  afterAll(async () => {
    await tdb?.close();
  });

  /** A session outside the service. */
  async function outsideSession(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: tdb.url! });
    c.on('error', () => undefined);
    await c.connect();
    locker = c;
    return c;
  }

  /** Backends of this database, other than `except`, waiting for a lock. */
  async function lockWaiters(except: pg.Client): Promise<number> {
    const r = await except.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
    );
    return r.rows[0]!.n;
  }

  it(
    "one organization's statements hold at most all but one connection: another organization's runs while they wait",
    async () => {
      // The API's pool as db/open.ts opens it: three connections, shared by organization.
      const db: Db = openPg({ connectionString: tdb.url!, max: 3, connectionTimeoutMs: REQUEST_CEILING_MS, fairByOrg: true });
      try {
        const key = [randomInt(1, 2 ** 31 - 1), randomInt(1, 2 ** 31 - 1)];
        const c = await outsideSession();
        await c.query('SELECT pg_advisory_lock($1, $2)', key);
        // Organization A starts more statements than the pool has connections; each waits for the lock.
        const a = Array.from({ length: 4 }, () => watched(inOrgScope('org_a', () => db.query('SELECT pg_advisory_xact_lock_shared($1, $2)', key))));
        // Organization B's statement, started after all of A's.
        const b = await inOrgScope('org_b', () => db.query<{ one: number }>('SELECT 1 AS one'));
        expect(b.rows).toEqual([{ one: 1 }]);
        // A holds two connections, both waiting on the lock; its other two statements wait for one.
        await expect.poll(() => lockWaiters(c), POLL).toBe(2);
        expect(a.filter((w) => w.settled)).toEqual([]);
        // Work for no organization (authentication, health) is served as well.
        expect((await db.query<{ two: number }>('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);

        await c.query('SELECT pg_advisory_unlock($1, $2)', key);
        await Promise.all(a.map((w) => w.done));
        expect(a.map((w) => w.error)).toEqual([undefined, undefined, undefined, undefined]);
        expect(await lockWaiters(c)).toBe(0);
        // Every slot came back: three organizations at once each get a connection.
        const rows = await Promise.all(['org_a', 'org_b', 'org_c'].map((o) => inOrgScope(o, () => db.query<{ o: string }>('SELECT $1::text AS o', [o]))));
        expect(rows.map((r) => r.rows[0]!.o)).toEqual(['org_a', 'org_b', 'org_c']);
      } finally {
        // The lock first: the pool closes once its connections are back, and A's wait on the lock.
        await locker?.end().catch(() => undefined);
        locker = null;
        await db.close();
      }
    },
    TEST_CEILING_MS,
  );

  describe('through the API (--role all, 3 API connections, 4 requests per organization at once)', () => {
    let service: Service;
    let baseUrl: string;
    let orgA: { orgId: string; apiKey: string };
    let orgB: { orgId: string; apiKey: string };

    beforeAll(async () => {
      const config = loadConfig({
        PORT: '0',
        DATABASE_URL: tdb.url!,
        AEGIS_ALLOW_PRIVATE_DESTINATIONS: '1',
        AEGIS_ENCRYPTION_KEY: generateKeyBase64(),
        AEGIS_LOG_LEVEL: 'silent',
        AEGIS_DB_API_CONNECTIONS: '3',
        AEGIS_API_MAX_CONCURRENT_PER_ORG: '4',
        // No statement limit: A's requests wait on the lock for as long as the test holds it.
        AEGIS_DB_API_STATEMENT_TIMEOUT_MS: '0',
      });
      service = await startService(config, { role: 'all' });
      baseUrl = service.address!;
      const a = await createOrg(tdb.db, 'Busy org');
      orgA = { orgId: a.id, apiKey: await createApiKey(tdb.db, a.id) };
      const b = await createOrg(tdb.db, 'Quiet org');
      orgB = { orgId: b.id, apiKey: await createApiKey(tdb.db, b.id) };
    }, TEST_CEILING_MS);

    afterAll(async () => {
      await service?.stop();
    });

    async function request(org: { orgId: string; apiKey: string }, method: string, path: string, body?: unknown) {
      const res = await fetch(`${baseUrl}/api/orgs/${org.orgId}${path}`, {
        method,
        headers: { authorization: `Bearer ${org.apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(REQUEST_CEILING_MS),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : null };
    }

    it(
      "another organization's read is answered while the busy one's admitted requests all wait on a lock",
      async () => {
        const created = await request(orgA, 'POST', '/forwarding-destinations', { url: 'http://127.0.0.1:9/ingest', name: 'before', enabled: false });
        expect(created.status).toBe(201);
        const id = created.body!.destination_id as string;
        expect((await request(orgB, 'GET', '/forwarding-destinations')).status).toBe(200);

        const c = await outsideSession();
        await c.query('BEGIN');
        await c.query('SELECT id FROM destinations WHERE id = $1 FOR UPDATE', [id]);
        // Four PATCHes of A at once (its whole admission limit), each waiting for the row in its transaction.
        const patches = Array.from({ length: 4 }, (_, i) => watched(request(orgA, 'PATCH', `/forwarding-destinations/${id}`, { name: `after ${i}` })));
        // A holds as many connections as it may: two, both waiting on the row.
        await expect.poll(() => lockWaiters(c), POLL).toBe(2);

        const read = await request(orgB, 'GET', '/forwarding-destinations');
        expect(read.status).toBe(200);
        expect(JSON.stringify(read.body)).not.toContain(id);
        expect(patches.filter((p) => p.settled)).toEqual([]);
        expect(await lockWaiters(c)).toBe(2);

        await c.query('ROLLBACK');
        await Promise.all(patches.map((p) => p.done));
        expect(patches.map((p) => p.error ?? p.value!.status)).toEqual([200, 200, 200, 200]);
      },
      TEST_CEILING_MS,
    );
  });

  // What the pool reads (db/orgScope.ts) is set by the API around each route handler of an
  // authenticated request (api/orgAdmission.ts), whether the per-organization limit gates it or not.
  it.each([4, 0])("runs each handler of an organization's request in its scope (AEGIS_API_MAX_CONCURRENT_PER_ORG=%i)", async (limit) => {
    const app = Fastify();
    try {
      await app.register(async (api) => {
        api.addHook('onRequest', async (req) => {
          const org = req.headers['x-org'];
          if (typeof org === 'string') req.authOrgId = org;
        });
        admitPerOrg(api, new OrgAdmission(admissionLimits(limit)));
        api.get('/scope', async () => {
          const before = currentOrgScope() ?? null;
          await new Promise((r) => setTimeout(r, 1));
          return { before, after: currentOrgScope() ?? null };
        });
      });
      const scoped = await app.inject({ method: 'GET', url: '/scope', headers: { 'x-org': 'org_a' } });
      expect(scoped.json()).toEqual({ before: 'org_a', after: 'org_a' });
      const other = await app.inject({ method: 'GET', url: '/scope', headers: { 'x-org': 'org_b' } });
      expect(other.json()).toEqual({ before: 'org_b', after: 'org_b' });
      const none = await app.inject({ method: 'GET', url: '/scope' });
      expect(none.json()).toEqual({ before: null, after: null });
    } finally {
      await app.close();
    }
  });
});
