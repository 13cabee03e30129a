import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { DECISIONS_ONLY, ok, respondWith, startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { card, launchBrowser, openDashboard, screenshot, type Browser } from './support.js';

// The delivery log and the hold limit in the dashboard: a real SIEM (HTTPS receiver) that fails, then
// succeeds, then fails again; the card's failing hint opens the log filtered to the current streak.
describe('Delivery log timeline and the hold limit on cards (headless Chromium, PostgreSQL)', () => {
  let tdb: TestDb;
  let svc: TestService;
  let browser: Browser;
  let receiver: Receiver;
  let page: Page;
  let orgId: string;
  let apiKey: string;
  let pageErrors: string[];

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    // Quick retries: an event is tried three times within seconds, then dead-lettered.
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '0.5,0.5' });
    receiver = await startReceiver(ok());
    browser = await launchBrowser();
    ({ page, orgId, apiKey, pageErrors } = await openDashboard(browser, svc, tdb.db, 'Delivery log org'));
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await svc?.stop();
    await tdb?.close();
  });
  afterEach(async () => {
    if (await page.getByRole('dialog').count()) await page.keyboard.press('Escape');
  });

  const base = () => `/api/orgs/${orgId}/forwarding-destinations`;
  const create = async (body: Record<string, unknown>) => {
    const res = await svc.request('POST', base(), { apiKey, body });
    expect(res.status, res.text).toBe(201);
    return res.body.destination_id as string;
  };
  const get = async (id: string) => (await svc.request('GET', `${base()}/${id}`, { apiKey })).body;
  const recordEvent = async () => {
    const res = await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'weekly status', actor_id: 'dana@example.com' } });
    expect(res.status).toBe(200);
  };
  const reloadPage = async () => {
    await page.goto(`${svc.baseUrl}/settings/siem-forwarding`);
    await page.getByRole('heading', { name: 'SIEM Forwarding', level: 2 }).waitFor();
  };
  const dialog = () => page.getByRole('dialog', { name: 'Delivery log' });
  const rows = () => dialog().getByRole('list', { name: 'Requests, newest first' }).getByRole('listitem');
  /** An instant as the browser's datetime-local value, to the second. */
  const localInput = (ms: number) =>
    page.evaluate((t) => {
      const d = new Date(t);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    }, ms);

  it('the failing hint opens the failures of the current streak; filters by outcome; every row says what happened', async () => {
    // An earlier streak: the first try fails, the retry gets through. Decided by the receiver itself,
    // set before the event exists: a switch made by the test after seeing the failure would race the
    // 0.5 s retry on a busy machine (a second 503 in the streak, six rows below instead of five).
    const maintenance = respondWith(503, 'SIEM maintenance window, retry later');
    let answered = 0;
    receiver.setHandler((req) => (answered++ === 0 ? maintenance(req) : ok()(req)));
    // The log's rows are this test's own two events: the filter keeps the configuration trail (this
    // destination's creation among them) out of this SIEM (docs/trail.md#filters).
    const id = await create({
      url: `${receiver.url}/log`,
      name: 'Log SIEM',
      auth_header_value: 'Bearer log-token-1',
      enabled: true,
      filter: DECISIONS_ONLY,
    });
    await recordEvent();
    // Active only once a delivery settled (the 503 came first): the filter keeps every other event out.
    await expect.poll(async () => (await get(id)).status, { timeout: 60_000, interval: 250 }).toBe('active');
    // The current streak: three failed tries, then dead-lettered.
    receiver.setHandler(respondWith(502, 'upstream gateway down'));
    await recordEvent();
    await expect.poll(async () => (await get(id)).failed_events, { timeout: 60_000, interval: 250 }).toBe(1);
    const view = await get(id);
    expect(view.failing_since).not.toBeNull();

    await reloadPage();
    const hint = card(page, id).locator('.card-hint');
    const failures = hint.getByRole('link', { name: /See failures since/ });
    await failures.click();
    await dialog().waitFor();
    expect(new URL(page.url()).pathname).toBe(`/settings/siem-forwarding/${id}/log`);
    expect(new URL(page.url()).searchParams.get('outcome')).toBe('failed');
    expect(new URL(page.url()).searchParams.get('since')).toBe(view.failing_since);
    // Exactly the current streak's three failed requests: not the earlier streak's 503, not the success.
    await expect.poll(() => rows().count(), { timeout: 30_000 }).toBe(3);
    for (const row of await rows().all()) {
      const text = (await row.textContent()) ?? '';
      expect(text).toContain('Failed');
      expect(text).toContain('HTTP 502');
      expect(text).toContain('1 event · 0 delivered · 1 failed');
      await expect(row.getAttribute('data-outcome')).resolves.toBe('failed');
    }
    await rows().first().getByText('Response').click();
    await expect(rows().first().locator('pre').textContent()).resolves.toContain('upstream gateway down');
    await expect(dialog().getByLabel('Outcome').inputValue()).resolves.toBe('failed');
    await screenshot(page, 'desktop-20-delivery-log-failures');

    // Every request: the earlier 503, the success and the three 502s, newest first.
    await dialog().getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(async () => (await rows().count()) === 5 || (await rows().allTextContents()).join('\n'), { timeout: 30_000 }).toBe(true);
    const all = await rows().allTextContents();
    expect(all[4]).toContain('HTTP 503');
    expect(all[3]).toContain('Delivered');
    expect(all[3]).toContain('HTTP 200');
    expect(all.slice(0, 3).every((t) => t.includes('HTTP 502'))).toBe(true);
    const times = await rows()
      .locator('time')
      .evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('datetime')!)));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    // Only what got through.
    await dialog().getByLabel('Outcome').selectOption('delivered');
    await dialog().getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows().count(), { timeout: 30_000 }).toBe(1);
    await expect(rows().first().textContent()).resolves.toContain('1 event · 1 delivered · 0 failed');
    // Every failure, of both streaks.
    await dialog().getByLabel('Outcome').selectOption('failed');
    await dialog().getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows().count(), { timeout: 30_000 }).toBe(4);

    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'detached' });
    expect(new URL(page.url()).pathname).toBe('/settings/siem-forwarding');
  });

  it('a time range and Load older requests page through a long log', async () => {
    const id = await create({ url: `${receiver.url}/long`, name: 'Long log', auth_header_value: 'Bearer long-token', enabled: false });
    // Sixty logged requests, one a minute, oldest first as the worker appends them (written directly
    // here so the test does not wait an hour).
    await tdb.db.query(
      `INSERT INTO delivery_attempts (org_id, destination_id, attempted_at, event_count, delivered_count, failed_count, status_code, duration_ms, error, response_snippet)
       SELECT $1, $2, now() - make_interval(mins => i), 10, 10, 0, 200, 40 + i, NULL, NULL FROM generate_series(60, 1, -1) AS i`,
      [orgId, id],
    );
    await reloadPage();
    await card(page, id)
      .getByRole('link', { name: /^Delivery log/ })
      .click();
    await dialog().waitFor();
    await expect.poll(() => rows().count(), { timeout: 30_000 }).toBe(50);
    await expect(dialog().getByTestId('log-summary').textContent()).resolves.toContain('Showing 50 requests (more below)');
    await dialog().getByRole('button', { name: 'Load older requests' }).click();
    await expect.poll(() => rows().count(), { timeout: 30_000 }).toBe(60);
    await expect(dialog().getByRole('button', { name: 'Load older requests' }).count()).resolves.toBe(0);
    // The oldest entry is the one logged an hour ago, 100 ms long.
    await expect(rows().last().textContent()).resolves.toContain('100 ms');

    // From 20.5 to 10.5 minutes ago: the ten requests logged 11 to 20 minutes ago.
    const now = Date.now();
    await dialog()
      .getByLabel('From')
      .fill(await localInput(now - 20.5 * 60_000));
    await dialog()
      .getByLabel('Until')
      .fill(await localInput(now - 10.5 * 60_000));
    await dialog().getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows().count(), { timeout: 30_000 }).toBe(10);
    const durations = await rows().allTextContents();
    expect(durations[0]).toContain('51 ms');
    expect(durations[9]).toContain('60 ms');
    await screenshot(page, 'desktop-21-delivery-log-range');
  });

  it('a destination paused by the hold limit says "Paused: failing since …"; Resume & replay delivers its events', async () => {
    receiver.setHandler((req) => (req.path === '/held' ? { status: 500, body: 'internal error' } : ok()(req)));
    const id = await create({ url: `${receiver.url}/held`, name: 'Held SIEM', auth_header_value: 'Bearer held-token', enabled: true });
    await recordEvent();
    await expect.poll(async () => (await get(id)).failing_since, { timeout: 60_000, interval: 250 }).not.toBeNull();
    // A week of failing: the start of the streak moved back (the worker checks every second in tests).
    await tdb.db.query(`UPDATE destinations SET failing_since = now() - interval '170 hours' WHERE id = $1`, [id]);
    await expect.poll(async () => (await get(id)).paused_reason, { timeout: 60_000, interval: 250 }).toBe('hold_limit');
    // Paused: an event recorded now is dead-lettered too, beside the one that ran out of retries.
    await expect.poll(async () => (await get(id)).failed_events, { timeout: 60_000, interval: 250 }).toBe(1);
    await recordEvent();
    await expect.poll(async () => (await get(id)).failed_events, { timeout: 60_000, interval: 250 }).toBe(2);
    const view = await get(id);
    expect(view.pending_events).toBe(0);

    await reloadPage();
    const since = await page.evaluate((iso) => new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }), view.failing_since as string);
    await expect(card(page, id).getByTestId('card-held').textContent()).resolves.toBe(`Paused: failing since ${since}`);
    await expect(card(page, id).locator('.pill').textContent()).resolves.toBe('Failing');
    await expect(card(page, id).locator('.card-hint').textContent()).resolves.toContain('Paused by the hold limit');
    await screenshot(page, 'desktop-22-hold-limit-paused');

    receiver.setHandler(ok());
    await card(page, id)
      .getByRole('button', { name: /Resume & replay 2 events/ })
      .click();
    await expect(page.getByTestId('notice').textContent()).resolves.toContain('Destination resumed: 2 dead-lettered events queued again');
    await expect.poll(async () => (await get(id)).status, { timeout: 60_000, interval: 250 }).toBe('active');
    await reloadPage();
    // The pill first: it waits for the card, so the absence below is read from a rendered card, not
    // from a page whose cards have not loaded yet.
    await expect(card(page, id).locator('.pill').textContent()).resolves.toBe('Active');
    await expect(card(page, id).getByTestId('card-held').count()).resolves.toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
