import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { fakeSplunkHec, type FakeSplunkHec } from '../support/fakeSplunkHec.js';
import { deliveryLog, eventIdsOf, jobRows } from '../integration/delivery/support.js';
import { card, launchBrowser, openDashboard, type Browser } from './support.js';

const TOKEN = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';

// Splunk indexer acknowledgement through the dashboard: the checkbox in the Splunk form, the option as
// the API stores it, events delivered once the stand-in Splunk acknowledges them, and Edit keeping or
// clearing it.
describe('Splunk HEC indexer acknowledgement in the dashboard (headless Chromium, PostgreSQL)', () => {
  let tdb: TestDb;
  let svc: TestService;
  let browser: Browser;
  let fake: FakeSplunkHec;
  let receiver: Receiver;
  let page: Page;
  let orgId: string;
  let apiKey: string;
  let pageErrors: string[];

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    svc = await startTestService(tdb.db, { AEGIS_SPLUNK_ACK_POLL_MS: '200' });
    fake = fakeSplunkHec(eventIdsOf);
    receiver = await startReceiver(fake.handler);
    browser = await launchBrowser();
    ({ page, orgId, apiKey, pageErrors } = await openDashboard(browser, svc, tdb.db, 'Ack org'));
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

  it('the checkbox sends indexer_ack, events are done once acknowledged, Edit keeps and clears it', async () => {
    await page.getByRole('button', { name: 'Add destination' }).click();
    const add = page.getByRole('dialog', { name: 'Add destination' });
    await add.getByRole('radio', { name: /^Splunk HEC/ }).check();
    await add.getByRole('button', { name: 'Continue' }).click();
    await add.getByLabel('HEC URL').fill(`${receiver.url}/services/collector/event`);
    await add.getByLabel('HEC Token', { exact: true }).fill(TOKEN);
    await add.getByText('Optional settings').click();
    const box = add.getByRole('checkbox', { name: 'Indexer acknowledgement' });
    expect(await box.isChecked()).toBe(false);
    await expect(add.getByTestId('option-help-indexer_ack').textContent()).resolves.toMatch(/Enable indexer acknowledgement/);
    await box.check();

    const createReq = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/forwarding-destinations'));
    await add.getByRole('button', { name: 'Save & test' }).click();
    const created = JSON.parse((await createReq).postData() ?? '{}') as Record<string, unknown>;
    expect(created).toMatchObject({ siem: 'splunk_hec', options: { indexer_ack: true } });
    const result = add.getByTestId('test-result');
    await result.waitFor();
    // The test event went out on the destination's channel, which a token with acknowledgement needs.
    expect(await result.getAttribute('data-ok')).toBe('true');
    expect(fake.accepted).toHaveLength(1);
    await add.getByRole('button', { name: 'Done' }).click();
    await add.waitFor({ state: 'detached' });

    const list = await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey });
    const dest = (list.body as Array<{ destination_id: string; options: Record<string, unknown>; enabled: boolean }>)[0]!;
    expect(dest.options).toEqual({ indexer_ack: true });
    expect(dest.enabled).toBe(true);

    // A live event: held until Splunk says it is indexed, then delivered (its job deleted).
    let release = false;
    fake.indexed = () => release;
    const res = await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'quarterly report draft', actor_id: 'carol@example.com' } });
    expect(res.status).toBe(200);
    await expect.poll(() => fake.polls.length, { timeout: 30_000 }).toBeGreaterThan(0);
    const held = await jobRows(tdb.db, dest.destination_id);
    expect(held.map((j) => j.status)).toEqual(['pending']);
    const logBefore = await deliveryLog(tdb.db, dest.destination_id);
    release = true;
    await expect.poll(async () => await jobRows(tdb.db, dest.destination_id), { timeout: 30_000 }).toEqual([]);
    // Settled as delivered once acknowledged: Splunk took the event once, and the delivery log has the
    // acknowledged request as a delivery, no failure.
    expect(fake.accepted.flatMap((r) => r.eventIds).filter((e) => e === held[0]!.event_id)).toHaveLength(1);
    const logAfter = await deliveryLog(tdb.db, dest.destination_id);
    expect(logAfter.delivered).toBeGreaterThan(logBefore.delivered);
    expect(logAfter.failed).toBe(logBefore.failed);

    // Edit shows it ticked and keeps it on Save; unticking removes it.
    await page.goto(`${svc.baseUrl}/settings/siem-forwarding`);
    await card(page, dest.destination_id).getByRole('link', { name: /^Edit/ }).click();
    const edit = page.getByRole('dialog', { name: 'Edit destination' });
    await edit.waitFor();
    await edit.getByText('Optional settings').click();
    const editBox = edit.getByRole('checkbox', { name: 'Indexer acknowledgement' });
    expect(await editBox.isChecked()).toBe(true);
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.getByText('Changes saved.').waitFor();
    const get = async () =>
      (await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations/${dest.destination_id}`, { apiKey })).body as { options: Record<string, unknown> };
    expect((await get()).options).toEqual({ indexer_ack: true });
    await editBox.uncheck();
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(async () => (await get()).options, { timeout: 30_000 }).toEqual({});
    expect(pageErrors).toEqual([]);
  });
});
