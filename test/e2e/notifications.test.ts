import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { launchBrowser, openDashboard, type Browser } from './support.js';

describe('Settings -> Notifications (headless Chromium, PostgreSQL)', () => {
  let tdb: TestDb;
  let svc: TestService;
  let browser: Browser;
  let hooks: Receiver;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    svc = await startTestService(tdb.db);
    hooks = await startReceiver();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await hooks?.close();
    await tdb?.close();
  });

  it('edits alert e-mails and the webhook URL; a refused address is named; the secret shows once', async () => {
    const { page, orgId, apiKey } = await openDashboard(browser, svc, tdb.db, 'Acme Security');
    await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Notifications' }).click();
    await page.waitForURL('**/settings/notifications');
    await page.getByRole('heading', { name: 'Notifications', level: 2 }).waitFor();
    // No AEGIS_SMTP_URL in this service: the page says so (without naming the setting).
    await page.getByText('no mail server set up').waitFor();
    expect(await page.locator('#alert-emails-help').textContent()).not.toContain('AEGIS_');

    await page.getByLabel('E-mail addresses').fill('soc@example.com\nnot an address');
    await page.getByRole('button', { name: 'Save notification settings' }).click();
    // Said under the field, by the line the user sees (the API counts the list from zero: /emails/1).
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/^Line 2: /);
    await expect(page.getByLabel('E-mail addresses').getAttribute('aria-invalid')).resolves.toBe('true');

    await page.getByLabel('E-mail addresses').fill('soc@example.com\noncall@example.org');
    await page.getByLabel('Operational webhook URL').fill(`${hooks.url}/alerts`);
    await page.getByRole('button', { name: 'Save notification settings' }).click();
    await page.getByText('Notification settings saved.').waitFor();
    const secret = await page.getByTestId('webhook-secret').textContent();
    expect(secret).toMatch(/^whsec_/);

    const stored = await svc.request('GET', `/api/orgs/${orgId}/notification-settings`, { apiKey });
    expect(stored.body).toMatchObject({
      emails: ['soc@example.com', 'oncall@example.org'],
      webhook_url: `${hooks.url}/alerts`,
      webhook_signing_secret_configured: true,
    });

    // After a reload the secret is gone for good; the saved values are shown.
    await page.reload();
    await page.getByRole('heading', { name: 'Notifications', level: 2 }).waitFor();
    await expect(page.getByLabel('E-mail addresses').inputValue()).resolves.toBe('soc@example.com\noncall@example.org');
    await expect(page.getByTestId('webhook-secret').count()).resolves.toBe(0);
    await expect(page.content()).resolves.not.toContain(secret!);
  });
});
