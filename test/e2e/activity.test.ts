import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { apiKeyActorId } from '../../src/auth/apiKeys.js';
import { launchBrowser, openDashboard, screenshot, type Browser } from './support.js';

describe('Settings -> Activity (headless Chromium, PostgreSQL)', () => {
  let tdb: TestDb;
  let svc: TestService;
  let browser: Browser;
  let siem: Receiver;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    svc = await startTestService(tdb.db);
    siem = await startReceiver(undefined, { trail: 'handle' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await siem?.close();
    await tdb?.close();
  });

  it('lists who changed what: an API key creating a destination, then a change made in the dashboard', async () => {
    const { orgId, apiKey } = await svc.newOrg('Acme Security');
    const created = await svc.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, {
      apiKey,
      body: { url: `${siem.url}/hook`, name: 'Audit webhook', auth_header_name: 'Authorization', auth_header_value: 'Bearer e2e-activity-secret-123' },
    });
    expect(created.status, created.text).toBe(201);

    const { page, pageErrors: errors } = await openDashboard(browser, svc, tdb.db, { orgId, apiKey });
    // A change made in the dashboard: the notification settings.
    await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Notifications' }).click();
    await page.getByRole('heading', { name: 'Notifications', level: 2 }).waitFor();
    await page.getByLabel('E-mail addresses').fill('soc@example.com');
    await page.getByRole('button', { name: 'Save notification settings' }).click();
    await page.getByText('Notification settings saved.').waitFor();

    // The Activity page asks for the trail alone: names come with its entries, not from the destination list.
    const destinationGets: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/forwarding-destinations')) destinationGets.push(r.url());
    });
    await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Activity' }).click();
    await page.waitForURL('**/settings/activity');
    await page.getByRole('heading', { name: 'Activity', level: 2 }).waitFor();
    const rows = page.locator('table.activity tbody tr');
    await expect.poll(() => rows.count(), { timeout: 60_000 }).toBe(2);
    // Newest first: the dashboard's change, by the session; then the API key's create.
    const newest = rows.nth(0);
    await expect(newest.getAttribute('data-action')).resolves.toBe('notification_settings_changed');
    await expect(newest.textContent()).resolves.toMatch(/Dashboard session ses_[0-9a-f]{16}.*Changed notification settings.*Notifications.*emails/);
    const oldest = rows.nth(1);
    await expect(oldest.getAttribute('data-action')).resolves.toBe('destination_created');
    await expect(oldest.textContent()).resolves.toContain(`API key ${apiKeyActorId(apiKey)}`);
    await expect(oldest.textContent()).resolves.toContain('Audit webhook');
    expect(destinationGets).toEqual([]);
    await expect(oldest.textContent()).resolves.toContain('auth_header_value');
    const html = await page.content();
    expect(html).not.toContain('e2e-activity-secret-123');
    expect(html).not.toContain('soc@example.com');
    await screenshot(page, 'activity');

    // The same change reached the SIEM as an aegis.audit_stream event.
    await expect
      .poll(() => siem.requests.map((r) => r.body.toString('utf8')).some((b) => b.includes('"action":"notification_settings_changed"')), { timeout: 60_000 })
      .toBe(true);
    expect(errors).toEqual([]);
  });
  // A browser review's: a name of 100 characters with no blank widened the page past its top bar.
  it('wraps a long destination name in its cell: the page is no wider than the window', async () => {
    const { orgId, apiKey } = await svc.newOrg('Wide Names');
    const name = 'W'.repeat(100);
    const created = await svc.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey, body: { url: `${siem.url}/hook`, name } });
    expect(created.status, created.text).toBe(201);
    const { page, pageErrors: errors } = await openDashboard(browser, svc, tdb.db, { orgId, apiKey });
    await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Activity' }).click();
    await page.waitForURL('**/settings/activity');
    await page.locator('table.activity tbody tr').first().waitFor();
    await expect(page.locator('table.activity').textContent()).resolves.toContain(name);
    // The tab names the page (it said "SIEM Forwarding" on every page).
    await expect(page.title()).resolves.toBe('Activity — Aegis');
    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, window: document.documentElement.clientWidth }));
    expect(widths.page).toBeLessThanOrEqual(widths.window);
    expect(errors).toEqual([]);
  });
});
