import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { createLoginLink } from '../../src/auth/sessions.js';
import { launchBrowser, openDashboard, screenshot, signIn, type Browser } from './support.js';

describe('dashboard sign-in, sign-out and CSRF (headless Chromium, PostgreSQL)', () => {
  let tdb: TestDb;
  let svc: TestService;
  let browser: Browser;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    svc = await startTestService(tdb.db);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await tdb?.close();
  });

  it('a one-time link signs in with an HttpOnly, SameSite=Strict cookie and lands on Settings -> SIEM Forwarding', async () => {
    const { page, link } = await openDashboard(browser, svc, tdb.db, 'Acme Security');

    expect(new URL(page.url()).pathname).toBe('/settings/siem-forwarding');
    await expect(page.getByRole('heading', { name: 'Settings', level: 1 }).isVisible()).resolves.toBe(true);
    await expect(page.getByText('Acme Security').isVisible()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Add destination' }).isVisible()).resolves.toBe(true);

    const cookies = await browser.context.cookies(svc.baseUrl);
    const session = cookies.find((c) => c.name === 'aegis_session');
    expect(session).toBeDefined();
    expect(session!.httpOnly).toBe(true);
    expect(session!.sameSite).toBe('Strict');
    // The page's script cannot read it.
    await expect(page.evaluate(() => document.cookie)).resolves.not.toContain('aegis_session');
    await screenshot(page, 'desktop-01-empty');

    // The dashboard is served with a same-origin-only Content-Security-Policy.
    const res = await page.request.get(`${svc.baseUrl}/settings/siem-forwarding`);
    expect(res.headers()['content-security-policy']).toContain("default-src 'self'");

    // The same link a second time says it has been used.
    const again = await page.goto(link);
    expect(again!.status()).toBe(410);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('already been used');
    await page.close();
  });

  it('an expired or unknown link says so', async () => {
    const { orgId } = await svc.newOrg();
    const link = await createLoginLink(tdb.db, orgId, svc.baseUrl);
    await tdb.db.query(`UPDATE login_links SET expires_at = now() - interval '1 minute' WHERE used_at IS NULL`);
    const page = await browser.context.newPage();
    const res = await page.goto(link);
    expect(res!.status()).toBe(410);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('expired');
    await screenshot(page, 'desktop-02-expired-link');

    const unknown = await page.goto(`${svc.baseUrl}/auth/login?token=not-a-real-token`);
    expect(unknown!.status()).toBe(410);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not valid');
    await page.close();
  });

  it('refuses a cookie-authenticated write without the CSRF header, and accepts it with the header', async () => {
    const { page, orgId } = await openDashboard(browser, svc, tdb.db);
    const path = `/api/orgs/${orgId}/forwarding-destinations`;
    const results = await page.evaluate(async (p) => {
      const body = JSON.stringify({ url: 'https://127.0.0.1:9/x', enabled: false });
      const noHeader = await fetch(p, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const wrong = await fetch(p, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': 'forged' }, body });
      const session = (await (await fetch('/api/session')).json()) as { csrf_token: string };
      const right = await fetch(p, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token }, body });
      const logoutNoHeader = await fetch('/api/session/logout', { method: 'POST' });
      return {
        noHeader: { status: noHeader.status, body: (await noHeader.json()) as { error: { code: string } } },
        wrong: { status: wrong.status, body: (await wrong.json()) as { error: { code: string } } },
        right: right.status,
        logoutNoHeader: logoutNoHeader.status,
      };
    }, path);
    expect(results.noHeader.status).toBe(403);
    expect(results.noHeader.body.error.code).toBe('csrf_failed');
    expect(results.wrong.status).toBe(403);
    expect(results.wrong.body.error.code).toBe('csrf_failed');
    expect(results.right).toBe(201);
    expect(results.logoutNoHeader).toBe(403);
    // Only the request with the right token created anything.
    const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM destinations WHERE org_id = $1', [orgId]);
    expect(rows[0]!.n).toBe(1);
    await page.close();
  });

  it('signs out: the session is gone server-side and the page asks for a new link', async () => {
    const { page } = await openDashboard(browser, svc, tdb.db);
    const cookieBefore = (await browser.context.cookies(svc.baseUrl)).find((c) => c.name === 'aegis_session')!.value;

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await screenshot(page, 'desktop-03-signed-out');
    expect((await browser.context.cookies(svc.baseUrl)).some((c) => c.name === 'aegis_session')).toBe(false);

    // The old cookie no longer works, even replayed by hand.
    const replay = await svc.request('GET', '/api/session', { headers: { cookie: `aegis_session=${cookieBefore}` } });
    expect(replay.status).toBe(401);

    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Aegis' }).waitFor();
    await expect(page.getByText('aegis-stream login-link').isVisible()).resolves.toBe(true);
    // The CLI cannot open the embedded database while the service holds it: the page gives the API
    // way first, with this service's own address, and says when the CLI works.
    const text = (await page.locator('.signed-out').textContent()) ?? '';
    expect(text).toContain('ask the running service with the organization’s API key: POST /api/orgs/<org id>/login-links');
    expect(text).toContain('only while the service is stopped; with PostgreSQL (DATABASE_URL) at any time');
    await expect(page.getByTestId('login-link-curl').textContent()).resolves.toBe(
      `curl -X POST -H "Authorization: Bearer $AEGIS_API_KEY" ${svc.baseUrl}/api/orgs/$ORG_ID/login-links`,
    );
    await screenshot(page, 'desktop-03b-sign-in-again');
    // What the page says works: the organization's API key gets a link from the running service.
    const { orgId: otherOrg, apiKey } = await svc.newOrg('Signed-out org');
    const made = await svc.request('POST', `/api/orgs/${otherOrg}/login-links`, { apiKey });
    expect(made.status).toBe(201);
    expect((made.body as { url: string }).url).toContain('/auth/login?token=');
    await page.close();
  });
  // A dashboard attacker review: over http another host of the domain can set aegis_session for the
  // parent domain with a longer path, sent first. The request is refused, and the page says why and
  // what to do instead of showing the sign-in page a new link would not get past.
  it('a second session cookie (planted by another host) is refused, and the page says what to do', async () => {
    const { page } = await openDashboard(browser, svc, tdb.db, 'Victim Org');
    const attacker = await svc.newOrg('Attacker Org');
    const made = await svc.request('POST', `/api/orgs/${attacker.orgId}/login-links`, { apiKey: attacker.apiKey });
    const token = new URL((made.body as { url: string }).url).searchParams.get('token')!;
    const signedIn = await fetch(`${svc.baseUrl}/auth/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    const plantedValue = signedIn.headers.get('set-cookie')!.split(';')[0]!.split('=')[1]!;
    await browser.context.addCookies([{ name: 'aegis_session', value: plantedValue, domain: new URL(svc.baseUrl).hostname, path: '/api' }]);
    await page.reload();
    await page.getByRole('alert').filter({ hasText: 'Two session cookies were sent' }).waitFor();
    await expect(page.getByText('Attacker Org').count()).resolves.toBe(0);
    await expect(page.getByRole('heading', { name: 'Sign in to Aegis' }).count()).resolves.toBe(0);
    await browser.context.clearCookies({ name: 'aegis_session', path: '/api' });
    await page.close();
  });

  it('signing in again in the same browser ends the session it had; the CSRF token is never cached', async () => {
    const { page, orgId } = await openDashboard(browser, svc, tdb.db);
    const cookieNow = async () => (await browser.context.cookies(svc.baseUrl)).find((c) => c.name === 'aegis_session')!.value;
    const first = await cookieNow();
    const session = await page.request.get(`${svc.baseUrl}/api/session`);
    expect(session.headers()['cache-control']).toBe('no-store');

    // Chromium's own form POST (Origin and Sec-Fetch-Site: same-origin) signs in, and the old session ends.
    await signIn(page, svc, tdb.db, orgId);
    const second = await cookieNow();
    expect(second).not.toBe(first);
    expect((await svc.request('GET', '/api/session', { headers: { cookie: `aegis_session=${first}` } })).status).toBe(401);
    expect((await svc.request('GET', '/api/session', { headers: { cookie: `aegis_session=${second}` } })).status).toBe(200);
    await page.close();
  });
});
