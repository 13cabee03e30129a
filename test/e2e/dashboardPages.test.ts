// Issue #10: the SIEM Forwarding page pages through the destinations and gets every card's chart in
// one request per page, not one per card. Headless Chromium against the real service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { launchBrowser, signIn, type Browser } from './support.js';

const COUNT = 502; // two pages of the dashboard's 500

describe('Dashboard with more destinations than one page, headless Chromium', () => {
  let tdb: TestDb;
  let svc: TestService;
  let browser: Browser;
  let page: Page;
  let orgId: string;
  const lastId = `fwd_page${String(COUNT).padStart(4, '0')}`;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    svc = await startTestService(tdb.db);
    browser = await launchBrowser();
    ({ orgId } = await svc.newOrg('Pages org'));
    await tdb.db.query(
      `INSERT INTO destinations (org_id, id, siem, url, enabled, created_at)
       SELECT $1, 'fwd_page' || lpad(g::text, 4, '0'), 'custom', 'https://siem.example.com/in', false, now() - make_interval(secs => $2 - g)
         FROM generate_series(1, $2::int) g`,
      [orgId, COUNT],
    );
    // The last card (on the second page) has a background replay running, leased to another process
    // (this service's runner leaves it alone), started from the API before the page opened.
    await tdb.db.query(
      `INSERT INTO replays (org_id, id, destination_id, window_from, window_to, start_at, created_by, status, total_estimate, scanned, claim_id, lease_until)
       VALUES ($1, 'rpl_pages000000000000000', $2, now() - interval '1 hour', now(), now() - interval '1 hour', 'api_key', 'running', 1000, 250, 'elsewhere', now() + interval '1 hour')`,
      [orgId, lastId],
    );
    // The last card (on the second page) has a chart to show.
    await tdb.db.query(
      `INSERT INTO delivery_attempts (org_id, destination_id, event_count, delivered_count, failed_count, duration_ms) VALUES ($1, $2, 3, 3, 0, 4)`,
      [orgId, lastId],
    );
    page = await browser.context.newPage();
    // The page refreshes on its own every 15 s while the tab is visible, and a busy machine can take
    // longer than that for a test: the tab says it is hidden, so the requests counted below are only
    // those of the first load and of what the test does (a dialog opened or closed).
    await page.addInitScript(() => Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' }));
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await tdb?.close();
  });

  it('shows every card with its chart after two list pages and two stats pages', async () => {
    const gets: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'GET' && r.url().includes('/forwarding-destinations')) gets.push(new URL(r.url()).pathname + new URL(r.url()).search);
    });
    await signIn(page, svc, tdb.db, orgId);
    await expect.poll(() => page.locator('article.card').count(), { timeout: 60_000 }).toBe(COUNT);
    const last = page.locator(`article[data-destination-id="${lastId}"]`);
    await expect.poll(() => last.getByRole('img').getAttribute('aria-label'), { timeout: 60_000 }).toMatch(/^Last 24 hours: 3 events delivered/);
    const base = `/api/orgs/${orgId}/forwarding-destinations`;
    const first = gets.filter((g) => g.startsWith(`${base}?`) || g.startsWith(`${base}/stats?`)).slice(0, 4);
    expect(first.filter((g) => g.startsWith(`${base}?limit=500`))).toHaveLength(2);
    expect(first.filter((g) => g.startsWith(`${base}/stats?limit=500`))).toHaveLength(2);
    // No card asked for its own chart, nor listed its replays: the stats pages said which one runs.
    expect(gets.filter((g) => /\/forwarding-destinations\/fwd_[^/]+\/stats/.test(g))).toEqual([]);
    expect(gets.filter((g) => /\/replays\?/.test(g))).toEqual([]);
    const progress = last.getByTestId('replay-progress');
    await expect.poll(() => progress.textContent(), { timeout: 60_000 }).toMatch(/^Replaying: .*25% of about 1,?000 events/);
    await expect(progress.getAttribute('data-status')).resolves.toBe('running');
    expect(gets.filter((g) => g.includes('/replays/')).every((g) => g.includes(`/${lastId}/replays/rpl_pages000000000000000`))).toBe(true);
  });

  // Opening a dialog changes the path, which re-renders the whole app: the list must not be fetched
  // again for that (it was, on every open and close, because the sign-out callback changed identity).
  it("opens and closes a card's Edit without fetching the list again", async () => {
    const base = `/api/orgs/${orgId}/forwarding-destinations`;
    const lists: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (r.method() === 'GET' && (u.pathname === base || u.pathname === `${base}/stats`)) lists.push(u.pathname + u.search);
    });
    const editLink = page.locator(`article[data-destination-id="${lastId}"]`).getByRole('link', { name: /^Edit/ });
    await editLink.click();
    await page.getByRole('dialog', { name: 'Edit destination' }).waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog', { name: 'Edit destination' }).count(), { timeout: 60_000 }).toBe(0);
    await editLink.click();
    await page.getByRole('dialog', { name: 'Edit destination' }).waitFor();
    expect(lists).toEqual([]);
  });
});
