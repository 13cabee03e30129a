// A flood of made-up credentials must not take the database from the keys in use
// (api/credentialChecks.ts). The service's database is wrapped so that the lookups of keys the test
// has not released are held, which fills the lane for unseen credentials without timing: what the
// test then observes is how many such lookups run at once, who is answered 429, and that an accepted
// key goes by. Authentication's lookups run on both databases, so both are tested.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyActorId } from '../../../src/auth/apiKeys.js';
import { UNSEEN_AT_ONCE, UNSEEN_QUEUED } from '../../../src/api/credentialChecks.js';
import type { Db } from '../../../src/db/types.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';

const POLL = { timeout: 60_000, interval: 50 };
const lookupId = (key: string) => apiKeyActorId(key).slice('key_'.length);
const madeUpKey = () => `aeg_${randomBytes(32).toString('base64url')}`;

/** `db` with the API key lookups of every key not in `free` held until `release()`. */
function holdingLookups(db: Db) {
  const free = new Set<string>();
  const held: Array<() => void> = [];
  const started = new Map<string, number>();
  let running = 0;
  let mostAtOnce = 0;
  let releasing = false;
  const query = async (text: string, params?: unknown[]) => {
    const id = text.includes('FROM api_keys WHERE lookup_id') ? String(params?.[0]) : null;
    if (id === null) return db.query(text, params);
    started.set(id, (started.get(id) ?? 0) + 1);
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    try {
      if (!free.has(id) && !releasing) await new Promise<void>((resolve) => held.push(resolve));
      return await db.query(text, params);
    } finally {
      running--;
    }
  };
  const wrapped = new Proxy(db, {
    get(target, prop) {
      if (prop === 'query') return query;
      const v: unknown = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return {
    db: wrapped,
    free: (key: string) => free.add(lookupId(key)),
    held: () => held.length,
    started: (key: string) => started.get(lookupId(key)) ?? 0,
    mostAtOnce: () => mostAtOnce,
    release: () => {
      releasing = true;
      for (const r of held.splice(0)) r();
    },
    hold: () => {
      releasing = false;
    },
  };
}

describe.each(DB_KINDS)('credentials checked before the organization is known (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let lookups: ReturnType<typeof holdingLookups>;
  const agent = new Agent({ connections: 1024 });

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    lookups = holdingLookups(tdb.db);
    // The rate is the next test's; here only the lane's width and queue.
    svc = await startTestService(lookups.db, { AEGIS_API_NEW_CREDENTIALS_PER_SECOND: '100000' });
  });
  afterAll(async () => {
    lookups?.release();
    await agent.close();
    await svc?.stop();
    await tdb?.close();
  });

  const get = async (path: string, headers: Record<string, string>) => {
    const res = await request(`${svc.baseUrl}${path}`, { headers, dispatcher: agent });
    const text = await res.body.text();
    return { status: res.statusCode, text, retryAfter: res.headers['retry-after'] };
  };
  const listAs = (orgId: string, key: string) => get(`/api/orgs/${orgId}/forwarding-destinations`, { authorization: `Bearer ${key}` });

  async function refusedUnseen(): Promise<number> {
    const res = await svc.request('GET', '/metrics');
    const line = res.text.split('\n').find((l) => l.startsWith('aegis_api_requests_refused_total{reason="unseen_credentials_queue_full"}'));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  it('checks made-up keys two at a time and refuses the surplus, while a key in use goes by', async () => {
    const inUse = await svc.newOrg('in use');
    lookups.free(inUse.apiKey);
    expect((await listAs(inUse.orgId, inUse.apiKey)).status).toBe(200);
    const newcomer = await svc.newOrg('newcomer');

    const FLOOD = UNSEEN_AT_ONCE + UNSEEN_QUEUED + 44;
    const answers: number[] = [];
    const flood = Array.from({ length: FLOOD }, () =>
      listAs(inUse.orgId, madeUpKey()).then((r) => {
        answers.push(r.status);
        return r;
      }),
    );
    // The lane is full: two lookups held, the queue full, and the rest refused at once.
    await expect.poll(() => answers.filter((s) => s === 429).length, POLL).toBe(FLOOD - UNSEEN_AT_ONCE - UNSEEN_QUEUED);
    expect(lookups.held()).toBe(UNSEEN_AT_ONCE);
    expect(await refusedUnseen()).toBeGreaterThanOrEqual(FLOOD - UNSEEN_AT_ONCE - UNSEEN_QUEUED);

    // A key accepted before is checked at once, and answered, however long the lane's queue.
    for (let i = 0; i < 3; i++) expect((await listAs(inUse.orgId, inUse.apiKey)).status).toBe(200);
    // A key seen for the first time, a made-up session and a made-up sign-in link wait in the lane:
    // it is full, so they are told to come back.
    const first = await listAs(newcomer.orgId, newcomer.apiKey);
    expect(first.status).toBe(429);
    expect(first.retryAfter).toBe('1');
    expect(JSON.parse(first.text)).toMatchObject({ error: { code: 'rate_limited' } });
    expect(first.text).toMatch(/not checked yet/);
    expect((await get(`/api/orgs/${inUse.orgId}/forwarding-destinations`, { cookie: `aegis_session=${madeUpKey()}` })).status).toBe(429);
    expect((await get('/api/session', { cookie: `aegis_session=${madeUpKey()}` })).status).toBe(429);
    expect((await get(`/auth/login?token=${madeUpKey()}`, {})).status).toBe(429);

    lookups.release();
    const all = await Promise.all(flood);
    expect(all.filter((r) => r.status === 401)).toHaveLength(UNSEEN_AT_ONCE + UNSEEN_QUEUED);
    expect(lookups.mostAtOnce()).toBeLessThanOrEqual(UNSEEN_AT_ONCE + 1); // + the accepted key's own
    // The flood over, the newcomer's key gets through, and is accepted from then on.
    expect((await listAs(newcomer.orgId, newcomer.apiKey)).status).toBe(200);
    lookups.hold();
  });

  it('shares one lookup among the requests that carry the same new key at once', async () => {
    const fleet = await svc.newOrg('fleet');
    const before = lookups.started(fleet.apiKey);
    const requests = Array.from({ length: 40 }, () => listAs(fleet.orgId, fleet.apiKey));
    await expect.poll(() => lookups.held(), POLL).toBe(1);
    expect(lookups.started(fleet.apiKey) - before).toBe(1);
    lookups.release();
    expect((await Promise.all(requests)).map((r) => r.status)).toEqual(Array(40).fill(200));
    expect(lookups.started(fleet.apiKey) - before).toBe(1);
    lookups.hold();
  });

  it('refuses a revoked key on its next request, accepted before or not', async () => {
    const org = await svc.newOrg('revoking');
    lookups.free(org.apiKey);
    expect((await listAs(org.orgId, org.apiKey)).status).toBe(200);
    await tdb.db.query('DELETE FROM api_keys WHERE org_id = $1', [org.orgId]);
    expect((await listAs(org.orgId, org.apiKey)).status).toBe(401);
    expect((await listAs(org.orgId, org.apiKey)).status).toBe(401);
  });
});

describe.each(DB_KINDS)('new credentials looked up at most AEGIS_API_NEW_CREDENTIALS_PER_SECOND a second (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let lookups: ReturnType<typeof holdingLookups>;
  const agent = new Agent({ connections: 64 });

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    lookups = holdingLookups(tdb.db);
    lookups.release(); // nothing held: only counted
    svc = await startTestService(lookups.db, { AEGIS_API_NEW_CREDENTIALS_PER_SECOND: '5' });
  });
  afterAll(async () => {
    await agent.close();
    await svc?.stop();
    await tdb?.close();
  });

  it('refuses made-up keys past the rate without looking them up, and answers a key in use', async () => {
    const inUse = await svc.newOrg('in use');
    const list = async (key: string) => {
      const res = await request(`${svc.baseUrl}/api/orgs/${inUse.orgId}/forwarding-destinations`, {
        headers: { authorization: `Bearer ${key}` },
        dispatcher: agent,
      });
      return { status: res.statusCode, text: await res.body.text() };
    };
    expect((await list(inUse.apiKey)).status).toBe(200);
    const keys = Array.from({ length: 60 }, madeUpKey);
    const started = performance.now();
    const answers = await Promise.all(keys.map(list));
    const seconds = (performance.now() - started) / 1000;
    const lookedUp = keys.filter((k) => lookups.started(k) > 0).length;
    // One second's worth at the start, then 5 a second: whatever the machine's speed, the bound holds.
    expect(lookedUp).toBeLessThanOrEqual(5 + Math.ceil(5 * seconds) + 1);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(lookedUp);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(keys.length - lookedUp);
    expect(refused[0]!.text).toMatch(/at most 5 are checked a second/);
    expect((await list(inUse.apiKey)).status).toBe(200);
  });
});
