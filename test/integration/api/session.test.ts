// Dashboard sessions over the same REST API: one-time sign-in link, HttpOnly SameSite=Strict cookie,
// CSRF header on every cookie-authenticated write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { createLoginLink } from '../../../src/auth/sessions.js';

describe.each(DB_KINDS)('dashboard session and CSRF (%s)', (kind) => {
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

  async function signIn(orgId: string): Promise<{ cookie: string; csrf: string }> {
    const link = await createLoginLink(tdb.db, orgId, svc.baseUrl);
    const token = new URL(link).searchParams.get('token')!;
    // Opening the link shows a sign-in button and does not use the link up (link scanners open links).
    for (let i = 0; i < 2; i++) {
      const shown = await fetch(link, { redirect: 'manual' });
      expect(shown.status).toBe(200);
      expect(shown.headers.get('set-cookie')).toBeNull();
      expect(await shown.text()).toContain('<form method="post" action="/auth/login">');
    }
    const post = (origin?: string) =>
      fetch(`${svc.baseUrl}/auth/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}) },
        body: new URLSearchParams({ token }).toString(),
      });
    // Login CSRF: a form on another site cannot sign the visitor in (and does not use the link up).
    const crossSite = await post('https://evil.example');
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('set-cookie')).toBeNull();
    const res = await post(new URL(svc.baseUrl).origin);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/settings/siem-forwarding');
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const cookie = setCookie.split(';')[0]!;
    expect((await post()).status).toBe(410); // one-time
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(410); // and the page says so
    const session = await svc.request('GET', '/api/session', { headers: { cookie } });
    expect(session.status).toBe(200);
    expect(session.body.org_id).toBe(orgId);
    return { cookie, csrf: session.body.csrf_token as string };
  }

  it('reads work with the cookie; writes need the exact CSRF token; nothing is written without it', async () => {
    const { orgId } = await svc.newOrg();
    const { cookie, csrf } = await signIn(orgId);
    const base = `/api/orgs/${orgId}/forwarding-destinations`;
    expect((await svc.request('GET', base, { headers: { cookie } })).status).toBe(200);

    const body = { url: 'https://siem.example.com/ingest' };
    const count = async () => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM destinations WHERE org_id = $1', [orgId])).rows[0]!.n;
    const wrongSameLength = csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A');
    const attempts: Array<Record<string, string>> = [
      { cookie },
      { cookie, 'x-csrf-token': '' },
      { cookie, 'x-csrf-token': 'short' },
      { cookie, 'x-csrf-token': wrongSameLength },
      { cookie, 'x-csrf-token': csrf + 'x' },
    ];
    for (const headers of attempts) {
      const res = await svc.request('POST', base, { headers, body });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('csrf_failed');
    }
    // Checked before the body is read: a broken body without the token is still a 403.
    expect((await svc.request('POST', base, { headers: { cookie }, rawBody: '{broken' })).status).toBe(403);
    expect(await count()).toBe(0);

    const ok = await svc.request('POST', base, { headers: { cookie, 'x-csrf-token': csrf }, body });
    expect(ok.status).toBe(201);
    expect(await count()).toBe(1);
  });

  it("a session for one org gets 404 on another org's path; logout needs CSRF and ends the session", async () => {
    const a = await svc.newOrg('A');
    const b = await svc.newOrg('B');
    const { cookie, csrf } = await signIn(a.orgId);
    expect((await svc.request('GET', `/api/orgs/${b.orgId}/forwarding-destinations`, { headers: { cookie } })).status).toBe(404);
    expect((await svc.request('POST', '/api/session/logout', { headers: { cookie } })).status).toBe(403);
    expect((await svc.request('POST', '/api/session/logout', { headers: { cookie, 'x-csrf-token': csrf } })).status).toBe(204);
    const after = await svc.request('GET', `/api/orgs/${a.orgId}/forwarding-destinations`, { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
  });
});
