// Regression (an authorization review): revoking an API key refused the key itself, but a sign-in
// link made with it still opened a 12-hour dashboard session, and a session opened before the revoke
// kept doing everything the key could. Revoking a key now ends what it made, and nothing else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { apiKeyActorId, createApiKey } from '../../../src/auth/apiKeys.js';
import { revokeApiKey } from '../../../src/auth/revoke.js';
import { createLoginLink, createSession } from '../../../src/auth/sessions.js';
import { POLL } from '../../support/waitFor.js';

describe.each(DB_KINDS)('revoking an API key ends the sign-ins it made (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  /** A sign-in link made through the API with `apiKey`: its token. */
  async function linkBy(orgId: string, apiKey: string): Promise<string> {
    const res = await svc.request('POST', `/api/orgs/${orgId}/login-links`, { apiKey });
    expect(res.status, res.text).toBe(201);
    return new URL(res.body.url as string).searchParams.get('token')!;
  }

  /** Uses a link's token as the sign-in page does: the session cookie, or the status of the refusal. */
  async function redeem(token: string): Promise<{ status: number; cookie: string | null }> {
    const res = await fetch(`${svc.baseUrl}/auth/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(svc.baseUrl).origin },
      body: new URLSearchParams({ token }).toString(),
    });
    return { status: res.status, cookie: res.headers.get('set-cookie')?.split(';')[0] ?? null };
  }

  const readWith = async (orgId: string, cookie: string) =>
    (await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { headers: { cookie } })).status;

  it("ends the key's sessions and unused links; another key's and the CLI's stay", async () => {
    const { orgId, apiKey: leaked } = await svc.newOrg();
    const other = await createApiKey(tdb.db, orgId);

    const opened = await redeem(await linkBy(orgId, leaked));
    expect(opened.status).toBe(303);
    const unused = await linkBy(orgId, leaked);
    const othersSession = await redeem(await linkBy(orgId, other));
    const othersUnused = await linkBy(orgId, other);
    const cliSession = await redeem(new URL(await createLoginLink(tdb.db, orgId, svc.baseUrl)).searchParams.get('token')!);
    for (const s of [opened, othersSession, cliSession]) expect(await readWith(orgId, s.cookie!)).toBe(200);

    const revoked = await revokeApiKey(tdb.db, orgId, leaked);
    expect(revoked).toEqual({ keyId: apiKeyActorId(leaked), sessions: 1, loginLinks: 1 });

    expect((await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey: leaked })).status).toBe(401);
    expect(await readWith(orgId, opened.cookie!)).toBe(401);
    const late = await redeem(unused);
    expect(late.status).toBe(410);
    expect(late.cookie).toBeNull();
    // What the other key and the operator made is theirs.
    expect(await readWith(orgId, othersSession.cookie!)).toBe(200);
    expect(await readWith(orgId, cliSession.cookie!)).toBe(200);
    expect((await redeem(othersUnused)).status).toBe(303);
    expect((await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey: other })).status).toBe(200);
    // By its id as the trail shows it, a second time: no such key.
    expect(await revokeApiKey(tdb.db, orgId, apiKeyActorId(leaked))).toBeNull();
  });

  it('a session being made as its key is revoked is ended with it, or never made', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    const keyId = apiKeyActorId(apiKey);
    if (kind === 'pglite') {
      // One connection: the two cannot interleave; in either order no session of the key is left.
      expect(await revokeApiKey(tdb.db, orgId, apiKey)).not.toBeNull();
      expect(await createSession(tdb.db, orgId, keyId)).toBeNull();
      return;
    }
    // PostgreSQL: the session's insert holds the key's row until it commits; the revoke waits for it,
    // then its delete of sessions sees the new one.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holder: number | null = null;
    const making = tdb.db.transaction(async (tx) => {
      expect(await createSession(tx, orgId, keyId)).not.toBeNull();
      holder = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await held;
    });
    let revoking: Promise<unknown> | null = null;
    try {
      await expect.poll(() => holder, POLL).not.toBeNull(); // inserted, not yet committed
      revoking = revokeApiKey(tdb.db, orgId, apiKey);
      // The revoke, and nothing else, waits for the transaction that made the session.
      const waitingOnHolder = async () =>
        (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [holder])).rows[0]!.n;
      await expect.poll(waitingOnHolder, POLL).toBe(1);
    } finally {
      // Released whatever happened above: a held transaction would keep its connection, and the pool's
      // end in afterAll would wait on it.
      release();
      await making;
    }
    expect(await revoking).toEqual({ keyId, sessions: 1, loginLinks: 0 });
    const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE org_id = $1', [orgId]);
    expect(rows[0]!.n).toBe(0);
  });
});
