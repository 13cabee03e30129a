// Dashboard sessions over the same REST API: one-time sign-in link, HttpOnly SameSite=Strict cookie,
// CSRF header on every cookie-authenticated write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { createLoginLink, endSessions, LIVE_LINKS_PER_ORG, peekLoginLink } from '../../../src/auth/sessions.js';
import { apiKeyActorId } from '../../../src/auth/apiKeys.js';

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
    // Another organization's API key with A's cookie beside it: the key signs in no session, so none
    // is ended (it ended A's, a review found).
    expect((await svc.request('POST', '/api/session/logout', { apiKey: b.apiKey, headers: { cookie } })).status).toBe(204);
    expect((await svc.request('GET', '/api/session', { headers: { cookie } })).status).toBe(200);
    expect((await svc.request('POST', '/api/session/logout', { headers: { cookie } })).status).toBe(403);
    expect((await svc.request('POST', '/api/session/logout', { headers: { cookie, 'x-csrf-token': csrf } })).status).toBe(204);
    const after = await svc.request('GET', `/api/orgs/${a.orgId}/forwarding-destinations`, { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
  });
  /** POSTs a sign-in link's token as the sign-in page's form does, with the headers given. */
  async function postToken(baseUrl: string, link: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${baseUrl}/auth/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ token: new URL(link).searchParams.get('token')! }).toString(),
    });
  }
  const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0]!;
  it('answers under /api and /auth are kept out of caches (the CSRF token, alert addresses, a signing secret); static files keep their caching', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    const { cookie } = await signIn(orgId);
    const noStore = async (res: Response | { headers: Headers }, what: string) => expect(res.headers.get('cache-control'), what).toBe('no-store');
    await noStore(await fetch(`${svc.baseUrl}/api/session`, { headers: { cookie } }), 'GET /api/session (csrf_token)');
    // The path as written may be percent-encoded: the route it reaches decides.
    const encoded = await fetch(`${svc.baseUrl}/%61pi/session`, { headers: { cookie } });
    expect(encoded.status).toBe(200);
    await noStore(encoded, 'GET /%61pi/session');
    await noStore(await fetch(`${svc.baseUrl}/api/session`), 'GET /api/session, 401');
    const settings = `${svc.baseUrl}/api/orgs/${orgId}/notification-settings`;
    await noStore(await fetch(settings, { headers: { authorization: `Bearer ${apiKey}` } }), 'GET notification-settings');
    const put = await fetch(settings, {
      method: 'PUT',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ emails: ['soc@example.com'], webhook_url: 'https://hooks.example.com/aegis' }),
    });
    expect(await put.text()).toContain('webhook_signing_secret');
    await noStore(put, 'PUT notification-settings (the signing secret, shown once)');
    const link = await createLoginLink(tdb.db, orgId, svc.baseUrl);
    await noStore(await postToken(svc.baseUrl, link), 'POST /auth/login (303 with the cookie)');
    await noStore(await fetch(`${svc.baseUrl}/auth/login?token=x`), 'GET /auth/login, 410');
    await noStore(await fetch(`${svc.baseUrl}/api/no-such-route`), '/api 404');
    // Not the service's data: the dashboard's files and the API docs cache as they did.
    const index = await fetch(`${svc.baseUrl}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).not.toBe('no-store');
    const healthz = await fetch(`${svc.baseUrl}/healthz`);
    expect(healthz.headers.get('cache-control')).toBeNull();
  });

  it('signing in ends the session already in the browser, server-side', async () => {
    const { orgId } = await svc.newOrg();
    const first = await signIn(orgId);
    const other = await signIn(orgId); // another browser's session of the same organization
    const link = await createLoginLink(tdb.db, orgId, svc.baseUrl);
    const res = await postToken(svc.baseUrl, link, { cookie: first.cookie, origin: new URL(svc.baseUrl).origin });
    expect(res.status).toBe(303);
    expect(cookieOf(res)).not.toBe(first.cookie);
    // The old cookie, replayed by hand, no longer works; the new one and the other browser's do.
    expect((await svc.request('GET', '/api/session', { headers: { cookie: first.cookie } })).status).toBe(401);
    expect((await svc.request('GET', '/api/session', { headers: { cookie: cookieOf(res) } })).status).toBe(200);
    expect((await svc.request('GET', '/api/session', { headers: { cookie: other.cookie } })).status).toBe(200);
    // A refused sign-in (the link is used now) ends nothing.
    const again = await postToken(svc.baseUrl, link, { cookie: cookieOf(res) });
    expect(again.status).toBe(410);
    expect((await svc.request('GET', '/api/session', { headers: { cookie: cookieOf(res) } })).status).toBe(200);
    // A cookie that names no session (or is not even of the shape) does not stop a sign-in.
    for (const cookie of ['aegis_session=' + 'A'.repeat(43), 'aegis_session=junk']) {
      expect((await postToken(svc.baseUrl, await createLoginLink(tdb.db, orgId, svc.baseUrl), { cookie })).status).toBe(303);
    }
  });

  it('refuses a sign-in POST the browser marks as from another site (Sec-Fetch-Site), with or without Origin; nothing used up', async () => {
    const { orgId } = await svc.newOrg();
    const origin = new URL(svc.baseUrl).origin;
    const link = await createLoginLink(tdb.db, orgId, svc.baseUrl);
    const refusals: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site', origin },
      { 'sec-fetch-site': 'same-origin, cross-site' },
      { 'sec-fetch-site': '' },
    ];
    for (const headers of refusals) {
      const res = await postToken(svc.baseUrl, link, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    expect(await peekLoginLink(tdb.db, new URL(link).searchParams.get('token')!)).toEqual({ ok: true, orgId, apiKeyId: null });
    // A browser's own form (same-origin), a typed-in or bookmarked request (none), and clients that send neither header.
    const accepted: Array<Record<string, string>> = [{ 'sec-fetch-site': 'same-origin', origin }, { 'sec-fetch-site': 'none' }, {}];
    for (const headers of accepted) {
      const res = await postToken(svc.baseUrl, await createLoginLink(tdb.db, orgId, svc.baseUrl), headers);
      expect(res.status, JSON.stringify(headers)).toBe(303);
    }
  });

  it('a flood of cross-site sign-in POSTs writes a line a minute at most, not one each (anyone can send them)', async () => {
    const { orgId } = await svc.newOrg();
    const link = await createLoginLink(tdb.db, orgId, svc.baseUrl);
    const refusalLines = () => svc.logs.lines.filter((l) => l.includes('sign-in POST from another origin refused'));
    const before = refusalLines().length;
    const started = performance.now();
    for (let i = 0; i < 30; i++) expect((await postToken(svc.baseUrl, link, { origin: 'https://evil.example' })).status).toBe(403);
    // Their lines are written before the answers: counted once the last answer is in. One a minute at
    // most, however long the flood took on a busy machine (the first may have come before this test).
    const minutes = Math.floor((performance.now() - started) / 60_000);
    expect(refusalLines().length - before).toBeLessThanOrEqual(1 + minutes);
    // Held back, not dropped: a line came (in this test, or within the minute before it, for the
    // refusals of the sign-ins above).
    expect(refusalLines().length).toBeGreaterThanOrEqual(1);
  });

  it('the cookie is Secure when AEGIS_PUBLIC_URL says https in capitals, and links are built on the normalised URL', async () => {
    const upper = await startTestService(tdb.db, { AEGIS_PUBLIC_URL: 'HTTPS://Aegis.EXAMPLE.com:443/' });
    try {
      expect(upper.config.publicUrl).toBe('https://aegis.example.com');
      const { orgId } = await upper.newOrg();
      const link = await createLoginLink(tdb.db, orgId, upper.config.publicUrl);
      expect(link.startsWith('https://aegis.example.com/auth/login?token=')).toBe(true);
      const res = await postToken(upper.baseUrl, link, { origin: 'https://aegis.example.com' });
      expect(res.status).toBe(303);
      expect(res.headers.get('set-cookie')).toMatch(/;\s*Secure/i);
    } finally {
      await upper.stop();
    }
  });
  // A dashboard attacker review: a page on a sibling subdomain set `aegis_session` for the parent domain
  // with Path=/api; sent before the real cookie, it was the one read, and the victim worked in the
  // attacker's organization.
  it('behind https the cookie is __Host-: a plain aegis_session another host sets is never read', async () => {
    const secure = await startTestService(tdb.db, { AEGIS_PUBLIC_URL: 'https://aegis.example.com' });
    try {
      const victim = await secure.newOrg();
      const attacker = await secure.newOrg();
      const signInTo = async (orgId: string) => {
        const res = await postToken(secure.baseUrl, await createLoginLink(tdb.db, orgId, secure.config.publicUrl), { origin: 'https://aegis.example.com' });
        expect(res.status).toBe(303);
        return res.headers.get('set-cookie')!;
      };
      const set = await signInTo(victim.orgId);
      expect(set).toMatch(/^__Host-aegis_session=[^;]+; /);
      expect(set).toMatch(/;\s*Secure/i);
      expect(set).toMatch(/;\s*Path=\/(;|$)/i);
      expect(set).not.toMatch(/Domain=/i);
      const own = set.split(';')[0]!;
      // Browsers are told to come back over https only: every answer says so, the sign-in's included.
      for (const path of ['/healthz', '/api/session', '/settings/siem-forwarding', '/auth/login?token=x']) {
        expect((await secure.request('GET', path)).headers.get('strict-transport-security'), path).toBe('max-age=31536000');
      }
      const planted = `aegis_session=${(await signInTo(attacker.orgId)).split(';')[0]!.split('=')[1]}`;
      // The planted cookie first, as a browser sends the longer path's: the victim's session answers.
      const who = await secure.request('GET', '/api/session', { headers: { cookie: `${planted}; ${own}` } });
      expect(who.status, who.text).toBe(200);
      expect(who.body.org_id).toBe(victim.orgId);
      const list = await secure.request('GET', `/api/orgs/${attacker.orgId}/forwarding-destinations`, { headers: { cookie: `${planted}; ${own}` } });
      expect(list.status).toBe(404);
      // Alone, it signs no one in.
      expect((await secure.request('GET', '/api/session', { headers: { cookie: planted } })).status).toBe(401);
      expect((await secure.request('GET', `/api/orgs/${attacker.orgId}/forwarding-destinations`, { headers: { cookie: planted } })).status).toBe(401);
      // Logout clears the cookie of that name.
      const session = await secure.request('GET', '/api/session', { headers: { cookie: own } });
      const out = await secure.request('POST', '/api/session/logout', { headers: { cookie: own, 'x-csrf-token': session.body.csrf_token } });
      expect(out.status).toBe(204);
      expect(out.headers.get('set-cookie')).toMatch(/^__Host-aegis_session=;/);
    } finally {
      await secure.stop();
    }
  });

  it('over http a request carrying the session cookie twice is refused, whichever comes first', async () => {
    const victim = await svc.newOrg();
    const attacker = await svc.newOrg();
    const own = (await signIn(victim.orgId)).cookie;
    const planted = (await signIn(attacker.orgId)).cookie;
    for (const cookie of [`${planted}; ${own}`, `${own}; ${planted}`, `${own};${own}`]) {
      for (const path of ['/api/session', `/api/orgs/${attacker.orgId}/forwarding-destinations`, `/api/orgs/${victim.orgId}/forwarding-destinations`]) {
        const res = await svc.request('GET', path, { headers: { cookie } });
        expect(res.status, `${path} ${res.text}`).toBe(401);
        expect(res.body.error.message).toMatch(/Two session cookies were sent/);
      }
    }
    // Each alone still works.
    const alone = await svc.request('GET', '/api/session', { headers: { cookie: own } });
    expect(alone.body.org_id).toBe(victim.orgId);
    // Over http no answer asks browsers for https (they would ignore it, and the service may have none).
    expect(alone.headers.get('strict-transport-security')).toBeNull();
    // Nor over https on localhost or an address: HSTS binds the host on every port, and would turn a
    // developer's other local http servers away for a year.
    for (const url of ['https://localhost:8443', 'https://127.0.0.1:8443', 'https://[::1]:8443']) {
      const local = await startTestService(tdb.db, { AEGIS_PUBLIC_URL: url });
      try {
        expect((await local.request('GET', '/healthz')).headers.get('strict-transport-security'), url).toBeNull();
      } finally {
        await local.stop();
      }
    }
  });

  // An operator's review: on the embedded database the service holds the files while it runs, so
  // `aegis-stream login-link` cannot open them; a used or expired first link left the dashboard out
  // of reach until a restart. The running service makes one for a holder of the organization's key.
  it('an API key asks the running service for a sign-in link, which signs in to its own organization once', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    const other = await svc.newOrg('Other');
    const made = await svc.request('POST', `/api/orgs/${orgId}/login-links`, { apiKey });
    expect(made.status, made.text).toBe(201);
    expect(made.headers.get('cache-control')).toBe('no-store');
    expect(made.body.url).toMatch(new RegExp(`^${svc.baseUrl}/auth/login\\?token=[A-Za-z0-9_-]{43}$`));
    const expiresIn = Date.parse(made.body.expires_at as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(15 * 60_000);
    const token = new URL(made.body.url as string).searchParams.get('token')!;
    // The link belongs to the key that asked for it (revoking the key ends it: revokedKey.test.ts).
    expect(await peekLoginLink(tdb.db, token)).toEqual({ ok: true, orgId, apiKeyId: apiKeyActorId(apiKey) });
    // The link never reaches the log.
    expect(svc.logs.text()).not.toContain(token);
    const signIn = () =>
      fetch(`${svc.baseUrl}/auth/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });
    const first = await signIn();
    expect(first.status).toBe(303);
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    expect((await svc.request('GET', '/api/session', { headers: { cookie } })).body.org_id).toBe(orgId);
    expect((await signIn()).status).toBe(410);
    // Another organization's key, and none, get no link to this one.
    expect((await svc.request('POST', `/api/orgs/${orgId}/login-links`, { apiKey: other.apiKey })).status).toBe(404);
    expect((await svc.request('POST', `/api/orgs/${orgId}/login-links`)).status).toBe(401);
    // Nor does a dashboard session, even with its CSRF token: it would renew itself past its 12 hours.
    const csrf = (await svc.request('GET', '/api/session', { headers: { cookie } })).body.csrf_token as string;
    const bySession = await svc.request('POST', `/api/orgs/${orgId}/login-links`, { headers: { cookie, 'x-csrf-token': csrf } });
    expect(bySession.status, bySession.text).toBe(403);
    expect(bySession.body.error.code).toBe('forbidden');
    // The log says who asked, never the link.
    const line = svc.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'sign-in link made' && l.org_id === orgId);
    expect(line?.actor).toMatch(/^key_[0-9a-f]{16}$/);
  });

  // A storage review: one API key made 609 links a second, and 540,000 live ones left every API
  // process unable to start (each loads the live links and sessions into memory). An organization
  // holds at most LIVE_LINKS_PER_ORG unused; using one makes room; another organization is not held.
  it('an organization holds a bounded number of unused sign-in links: past it a 429 says when, and using one makes room', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    const other = await svc.newOrg('Other, not held');
    const urls: string[] = [];
    for (let i = 0; i < LIVE_LINKS_PER_ORG; i++) {
      const made = await svc.request('POST', `/api/orgs/${orgId}/login-links`, { apiKey });
      expect(made.status, made.text).toBe(201);
      urls.push(made.body.url as string);
    }
    const refused = await svc.request('POST', `/api/orgs/${orgId}/login-links`, { apiKey });
    expect(refused.status, refused.text).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(refused.body.error.message).toMatch(new RegExp(`has ${LIVE_LINKS_PER_ORG} sign-in links not yet used`));
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // The CLI's way (the same function) is held by the same cap.
    await expect(createLoginLink(tdb.db, orgId, svc.baseUrl)).rejects.toThrow(/sign-in links not yet used/);
    expect((await svc.request('POST', `/api/orgs/${other.orgId}/login-links`, { apiKey: other.apiKey })).status).toBe(201);
    // A link used is no longer held: there is room for one more.
    expect((await postToken(svc.baseUrl, urls[0]!)).status).toBe(303);
    expect((await svc.request('POST', `/api/orgs/${orgId}/login-links`, { apiKey })).status).toBe(201);
    expect((await svc.request('POST', `/api/orgs/${orgId}/login-links`, { apiKey })).status).toBe(429);
  });

  it('ending the sessions also ends the sign-in links not yet used', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    const made = await svc.request('POST', `/api/orgs/${orgId}/login-links`, { apiKey });
    const token = new URL(made.body.url as string).searchParams.get('token')!;
    await endSessions(tdb.db, orgId);
    const late = await fetch(`${svc.baseUrl}/auth/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(late.status).toBe(410);
    expect(late.headers.get('set-cookie')).toBeNull();
  });
  // A hostile tenant's review of the answers around signing in.
  it('answers around signing in say what happened and what to send', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    // RFC 9110 allows more than one space after the scheme.
    expect((await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { headers: { authorization: `Bearer   ${apiKey}` } })).status).toBe(200);
    // A cookie this service never made is not "expired".
    const madeUp = await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { headers: { cookie: 'aegis_session=zzz' } });
    expect(madeUp.status).toBe(401);
    expect(madeUp.body.error.message).toBe('Not signed in: this session has ended or expired, or was never made here; open a new sign-in link.');
    // The sign-in route takes a browser's form, and says so when sent something else.
    const multipart = await fetch(`${svc.baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      body: '--x\r\nContent-Disposition: form-data; name="token"\r\n\r\nabc\r\n--x--\r\n',
    });
    expect(multipart.status).toBe(415);
    expect(((await multipart.json()) as { error: { message: string } }).error.message).toMatch(/application\/x-www-form-urlencoded/);
  });
});
