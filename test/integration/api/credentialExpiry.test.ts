// Expired dashboard sessions and sign-in links were deleted only at sign-out or `sessions end`: every
// sign-in left a row for good. The worker's hourly retention round now deletes them, sessions once
// expired and sign-in links a day after (so an old link still says "expired" rather than "unknown"
// to the person who opens it late).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLoginLink, createSession, deleteExpiredSignIns, findSession, peekLoginLink, tokenDigest } from '../../../src/auth/sessions.js';
import { createOrg } from '../../../src/orgs/repository.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService } from '../../support/harness.js';

describe.each(DB_KINDS)('expired sign-ins are deleted (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  beforeEach(async () => {
    await tdb.reset();
  });
  afterAll(async () => {
    await tdb?.close();
  });

  const count = async (table: 'sessions' | 'login_links') => (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
  const linkToken = (link: string) => new URL(link).searchParams.get('token')!;

  async function seed(orgId: string) {
    const live = await createSession(tdb.db, orgId);
    const expired = await createSession(tdb.db, orgId);
    await tdb.db.query(`UPDATE sessions SET created_at = now() - interval '13 hours', expires_at = now() - interval '1 hour' WHERE token_digest = $1`, [
      tokenDigest(expired.token),
    ]);
    const fresh = linkToken(await createLoginLink(tdb.db, orgId, 'https://aegis.example'));
    const lately = linkToken(await createLoginLink(tdb.db, orgId, 'https://aegis.example'));
    const old = linkToken(await createLoginLink(tdb.db, orgId, 'https://aegis.example'));
    await tdb.db.query(`UPDATE login_links SET expires_at = now() - interval '2 hours' WHERE token_digest = $1`, [tokenDigest(lately)]);
    await tdb.db.query(`UPDATE login_links SET expires_at = now() - interval '25 hours' WHERE token_digest = $1`, [tokenDigest(old)]);
    return { live, expired, fresh, lately, old };
  }

  it('deletes expired sessions and links expired over a day, and nothing live', async () => {
    const org = await createOrg(tdb.db, 'Org');
    const s = await seed(org.id);
    expect(await deleteExpiredSignIns(tdb.db)).toEqual({ sessions: 1, loginLinks: 1 });
    expect(await count('sessions')).toBe(1);
    expect(await findSession(tdb.db, tokenDigest(s.live.token))).toMatchObject({ orgId: org.id });
    expect(await peekLoginLink(tdb.db, s.fresh)).toMatchObject({ ok: true });
    // An hour or two late the page still tells the person why the link does not work.
    expect(await peekLoginLink(tdb.db, s.lately)).toEqual({ ok: false, reason: 'expired' });
    expect(await peekLoginLink(tdb.db, s.old)).toEqual({ ok: false, reason: 'unknown' });
    expect(await deleteExpiredSignIns(tdb.db)).toEqual({ sessions: 0, loginLinks: 0 });
  });

  it('deletes in batches until none is left', async () => {
    const org = await createOrg(tdb.db, 'Org');
    await tdb.db.query(
      `INSERT INTO sessions (org_id, token_digest, csrf_token, created_at, expires_at)
       SELECT $1, sha256(i::text::bytea), 'x', now() - interval '2 days', now() - interval '1 day' FROM generate_series(1, 25) i`,
      [org.id],
    );
    expect(await deleteExpiredSignIns(tdb.db, 10)).toEqual({ sessions: 25, loginLinks: 0 });
    expect(await count('sessions')).toBe(0);
  });

  it("runs in the worker's hourly retention round", async () => {
    const org = await createOrg(tdb.db, 'Org');
    await seed(org.id);
    await tdb.db.query(`INSERT INTO timed_rounds (name, last_started_at) VALUES ('retention_prune', now() - interval '2 hours')`);
    const svc = await startTestService(tdb.db, {}, 'worker');
    try {
      await expect.poll(() => count('sessions'), { timeout: 60_000 }).toBe(1);
      await expect.poll(() => count('login_links'), { timeout: 60_000 }).toBe(2);
    } finally {
      await svc.stop();
    }
  });
});
