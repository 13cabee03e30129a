import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { assertValidOcsf } from '../../src/events/ocsfSchema.js';
import { card, launchBrowser, openDashboard, type Browser } from './support.js';

// The event format choice (issue #13) in the dashboard: add an OCSF webhook, see the OCSF test event
// arrive and the format on the card and in the API, then switch it back to ECS in Edit.
describe('Event format: ECS / OCSF in Add and Edit (headless Chromium, PostgreSQL)', () => {
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
    svc = await startTestService(tdb.db);
    receiver = await startReceiver();
    browser = await launchBrowser();
    ({ page, orgId, apiKey, pageErrors } = await openDashboard(browser, svc, tdb.db, 'OCSF org'));
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await svc?.stop();
    await tdb?.close();
  });

  const get = async (id: string) =>
    (await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations/${id}`, { apiKey })).body as { format: string; enabled: boolean };

  it('adds an OCSF webhook, receives an OCSF test event, shows the format, and Edit switches it to ECS', async () => {
    const add = page.getByRole('dialog', { name: 'Add destination' });
    await page.getByRole('button', { name: 'Add destination' }).click();
    await add.getByRole('radio', { name: /^Custom HTTPS webhook/ }).check();
    await add.getByRole('button', { name: 'Continue' }).click();
    await add.getByLabel('Webhook URL').fill(`${receiver.url}/ocsf-hook`);
    const format = add.getByLabel('Event format');
    await expect(format.inputValue()).resolves.toBe('ecs');
    await format.selectOption('ocsf');
    await expect(add.getByText(/Data Security Finding/).count()).resolves.toBeGreaterThan(0);

    const createReq = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/forwarding-destinations'));
    await add.getByRole('button', { name: 'Save & test' }).click();
    const created = JSON.parse((await createReq).postData() ?? '{}') as Record<string, unknown>;
    expect(created).toMatchObject({ siem: 'custom', format: 'ocsf', enabled: false });
    const result = add.getByTestId('test-result');
    await result.waitFor();
    expect(await result.getAttribute('data-ok')).toBe('true');

    // The synthetic test event arrived in OCSF form.
    const reqs = await receiver.waitFor((all) => all.some((r) => r.path === '/ocsf-hook'), 60_000);
    const testEvent = JSON.parse(reqs.find((r) => r.path === '/ocsf-hook')!.body.toString('utf8')) as { metadata: { source: string } };
    assertValidOcsf(testEvent);
    expect(testEvent.metadata.source).toBe('aegis.audit_stream.test');

    await add.getByRole('button', { name: 'Done' }).click();
    await add.waitFor({ state: 'detached' });
    const list = (await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey })).body as Array<{ destination_id: string; url: string }>;
    const id = list.find((d) => d.url === `${receiver.url}/ocsf-hook`)!.destination_id;
    expect(await get(id)).toMatchObject({ format: 'ocsf', enabled: true });
    await expect(card(page, id).getByTestId('card-format').textContent()).resolves.toContain('OCSF');

    // Edit shows the stored format and saves a change.
    await card(page, id).getByRole('link', { name: /^Edit/ }).click();
    const edit = page.getByRole('dialog', { name: 'Edit destination' });
    const editFormat = edit.getByLabel('Event format');
    await expect(editFormat.inputValue()).resolves.toBe('ocsf');
    await editFormat.selectOption('ecs');
    const patchReq = page.waitForRequest((r) => r.method() === 'PATCH');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    expect(JSON.parse((await patchReq).postData() ?? '{}')).toMatchObject({ format: 'ecs' });
    await edit.getByText('Changes saved.').waitFor();
    expect((await get(id)).format).toBe('ecs');
    await edit.getByRole('button', { name: 'Close', exact: true }).last().click();
    await expect.poll(async () => card(page, id).getByTestId('card-format').textContent(), { timeout: 30_000 }).toContain('ECS');
    expect(pageErrors).toEqual([]);
  });
});
