// A flood of made-up credentials must not take the database from the keys in use
// (api/credentialChecks.ts). The service's database is wrapped so that the lookups of keys the test
// has not released are held, which fills the lane for unseen credentials without timing: what the
// test then observes is how many such lookups run at once, who is answered 429, and that an accepted
// key goes by. Authentication's lookups run on both databases, so both are tested.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyActorId, createApiKey } from '../../../src/auth/apiKeys.js';
import { createOrg } from '../../../src/orgs/repository.js';
import { createLoginLink } from '../../../src/auth/sessions.js';
import { UNSEEN_AT_ONCE, UNSEEN_QUEUED } from '../../../src/api/credentialChecks.js';
import type { Db } from '../../../src/db/types.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { scrapeMetric } from '../../support/metrics.js';

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
  /** Stored before the service started: known to it from its start, never used before the flood. */
  let stored: { orgId: string; apiKey: string };
  const agent = new Agent({ connections: 1024 });

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    lookups = holdingLookups(tdb.db);
    const org = await createOrg(tdb.db, 'stored before the start');
    stored = { orgId: org.id, apiKey: await createApiKey(tdb.db, org.id) };
    // The rate is the next describe's; here only the lane's width and queue.
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
    return { status: res.statusCode, text, retryAfter: res.headers['retry-after'], type: String(res.headers['content-type']) };
  };
  const listAs = (orgId: string, key: string) => get(`/api/orgs/${orgId}/forwarding-destinations`, { authorization: `Bearer ${key}` });
  /** A session cookie or sign-in token of the shape the service makes (43 base64url characters). */
  const madeUpToken = () => randomBytes(32).toString('base64url');

  const refusedUnseen = async () => (await scrapeMetric(svc, 'aegis_api_requests_refused_total{reason="unseen_credentials_queue_full"}')) || 0;

  it('checks made-up keys two at a time and refuses the surplus, while stored keys go by', async () => {
    const inUse = await svc.newOrg('in use');
    lookups.free(inUse.apiKey);
    lookups.free(stored.apiKey);
    expect((await listAs(inUse.orgId, inUse.apiKey)).status).toBe(200);
    // Created by "another process" (straight in the database) while this one runs.
    const newcomer = await svc.newOrg('newcomer');
    lookups.free(newcomer.apiKey);

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

    // A key accepted before is checked at once, and answered, however long the lane's queue; so is a
    // key stored before the service started, never used since (a restart under a flood).
    for (let i = 0; i < 3; i++) expect((await listAs(inUse.orgId, inUse.apiKey)).status).toBe(200);
    expect((await listAs(stored.orgId, stored.apiKey)).status).toBe(200);
    // A key created elsewhere is known within seconds (seenCredentials.ts), lane full or not.
    await expect.poll(async () => (await listAs(newcomer.orgId, newcomer.apiKey)).status, POLL).toBe(200);

    // A made-up session and a made-up sign-in link wait in the lane: it is full, so they are told to
    // come back (the person at a browser with a page, not JSON).
    const refused = await get(`/api/orgs/${inUse.orgId}/forwarding-destinations`, { cookie: `aegis_session=${madeUpToken()}` });
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('1');
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'rate_limited' } });
    expect(refused.text).toMatch(/not checked yet/);
    expect((await get('/api/session', { cookie: `aegis_session=${madeUpToken()}` })).status).toBe(429);
    const page = await get(`/auth/login?token=${madeUpToken()}`, {});
    expect(page.status).toBe(429);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.text).toContain('Reload this page in a few seconds');
    // Values no credential could be are refused without a lookup, and without waiting for the lane.
    expect((await listAs(inUse.orgId, 'short')).status).toBe(401);
    expect((await get(`/api/orgs/${inUse.orgId}/forwarding-destinations`, { cookie: 'aegis_session=undefined' })).status).toBe(401);
    expect((await get('/auth/login?token=undefined', {})).status).toBe(410);

    lookups.release();
    const all = await Promise.all(flood);
    expect(all.filter((r) => r.status === 401)).toHaveLength(UNSEEN_AT_ONCE + UNSEEN_QUEUED);
    expect(lookups.mostAtOnce()).toBeLessThanOrEqual(UNSEEN_AT_ONCE + 1); // + an accepted key's own
    lookups.hold();
  });

  // A review: a sign-in link's token always waited in the lane, so made-up ones (no key needed) kept
  // every organization from signing in while they lasted. Apart from the test above: its flood's
  // queued requests wait 10 s at most, and what this one waits for (a reload, 5 s) would outlast them.
  it('opens a real sign-in link at once while made-up credentials hold the lane: one it made, or another process', async () => {
    const inUse = await svc.newOrg('signs in');
    lookups.free(inUse.apiKey);
    expect((await listAs(inUse.orgId, inUse.apiKey)).status).toBe(200);
    const flood = Array.from({ length: UNSEEN_AT_ONCE }, () => listAs(inUse.orgId, madeUpKey()));
    await expect.poll(() => lookups.held(), POLL).toBe(UNSEEN_AT_ONCE);
    const asked = await request(`${svc.baseUrl}/api/orgs/${inUse.orgId}/login-links`, {
      method: 'POST',
      headers: { authorization: `Bearer ${inUse.apiKey}` },
      dispatcher: agent,
    });
    expect(asked.statusCode).toBe(201);
    const issued = new URL(((await asked.body.json()) as { url: string }).url).searchParams.get('token')!;
    expect((await get(`/auth/login?token=${issued}`, {})).status).toBe(200);
    const signIn = await request(`${svc.baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: issued }).toString(),
      dispatcher: agent,
    });
    await signIn.body.text();
    expect(signIn.statusCode).toBe(303);
    // Made by the CLI (straight in the database): known within seconds (seenCredentials.ts).
    const elsewhere = new URL(await createLoginLink(tdb.db, inUse.orgId, svc.baseUrl)).searchParams.get('token')!;
    await expect.poll(async () => (await get(`/auth/login?token=${elsewhere}`, {})).status, POLL).toBe(200);
    lookups.release();
    expect((await Promise.all(flood)).map((r) => r.status)).toEqual(Array.from({ length: UNSEEN_AT_ONCE }, () => 401));
    lookups.hold();
  });

  it('shares one lookup among the requests that carry the same new key at once', async () => {
    const org = await svc.newOrg('fleet');
    // A key no process knows (made up, so never loaded as stored): every request waits for one lookup.
    const key = madeUpKey();
    const requests = Array.from({ length: 40 }, () => listAs(org.orgId, key));
    await expect.poll(() => lookups.held(), POLL).toBe(1);
    expect(lookups.started(key)).toBe(1);
    lookups.release();
    expect((await Promise.all(requests)).map((r) => r.status)).toEqual(Array(40).fill(401));
    expect(lookups.started(key)).toBe(1);
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
