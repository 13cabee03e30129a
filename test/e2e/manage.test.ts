import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { closedPort, DECISIONS_ONLY, ok, startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { card, hasFocus, launchBrowser, openDashboard, recordResponses, screenshot, type Browser } from './support.js';

const FIRST_TOKEN = '11111111-2222-3333-4444-555555555555';
const ROTATED_TOKEN = '99999999-8888-7777-6666-aaaaaaaaaaaa';
const WEBHOOK_TOKEN = 'webhook-secret-4d4d4d';
const QUEUED_TOKEN = 'queued-secret-5e5e5e';
const STALE_TOKEN = 'stale-secret-6f6f6f';
const FRESH_TOKEN = 'fresh-secret-7a7a7a';

describe('Edit, failing hint, failed events and replay, disable, delete (headless Chromium, PostgreSQL)', () => {
  let tdb: TestDb;
  let svc: TestService;
  let browser: Browser;
  let receiver: Receiver;
  let page: Page;
  let orgId: string;
  let apiKey: string;
  let traffic: ReturnType<typeof recordResponses>;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    svc = await startTestService(tdb.db);
    receiver = await startReceiver();
    browser = await launchBrowser();
    ({ page, orgId, apiKey } = await openDashboard(browser, svc, tdb.db, 'Manage org', (p) => {
      traffic = recordResponses(p);
    }));
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
    expect(res.status).toBe(201);
    return res.body as { destination_id: string };
  };
  interface View {
    url: string;
    status: string;
    enabled: boolean;
    auth_header_configured: boolean;
    pending_events: number;
    failed_events: number;
    options: Record<string, string | number>;
  }
  const get = async (id: string): Promise<View> => (await svc.request('GET', `${base()}/${id}`, { apiKey })).body as View;
  const recordEvent = async () => {
    const res = await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'quarterly report draft', actor_id: 'carol@example.com' } });
    expect(res.status).toBe(200);
    return res.body.preflight_id as string;
  };
  const reloadPage = async () => {
    await page.goto(`${svc.baseUrl}/settings/siem-forwarding`);
    await page.getByRole('heading', { name: 'SIEM Forwarding', level: 2 }).waitFor();
  };
  const pill = (id: string) => card(page, id).locator('.pill');

  it('Edit destination: URL saved, credential only as a chip, Rotate sends the new token, Remove clears it', async () => {
    const { destination_id: id } = await create({
      siem: 'splunk_hec',
      url: `${receiver.url}/services/collector`,
      auth_header_value: `Splunk ${FIRST_TOKEN}`,
      enabled: false,
      // Set through the API; the dialog does not edit them but must not drop them (PATCH replaces options).
      options: { index: 'audit', max_events_per_second: 200, max_concurrent_requests: 2 },
    });
    await reloadPage();
    await card(page, id).getByRole('link', { name: /^Edit/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit destination' });
    await dialog.waitFor();
    expect(new URL(page.url()).pathname).toBe(`/settings/siem-forwarding/${id}/edit`);
    await expect(dialog.getByTestId('credential-chip').textContent()).resolves.toContain('credential present (encrypted)');
    await expect(dialog.getByRole('button', { name: 'Rotate' }).isVisible()).resolves.toBe(true);
    await expect(dialog.getByRole('button', { name: 'Remove' }).isVisible()).resolves.toBe(true);
    // The Format hint reads the URL as the user types.
    const url = dialog.getByLabel('HEC URL');
    expect(await dialog.getByTestId('format-hint').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('/services/collector/event is the explicit event endpoint')]),
    );
    await screenshot(page, 'desktop-10-edit');

    await url.fill(`${receiver.url}/services/collector/event`);
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.getByText('Changes saved.').waitFor();
    expect((await get(id)).url).toBe(`${receiver.url}/services/collector/event`);
    expect((await get(id)).options).toEqual({ index: 'audit', max_events_per_second: 200, max_concurrent_requests: 2 });

    await dialog.getByRole('button', { name: 'Rotate' }).click();
    // Rotate gives way to the new-credential field, and focus goes with it (moved by an effect after
    // the render: polled, not read once).
    await expect.poll(hasFocus(dialog.getByLabel('New HEC Token')), { timeout: 30_000 }).toBe(true);
    await dialog.getByRole('button', { name: 'Keep current credential' }).click();
    await expect.poll(hasFocus(dialog.getByRole('button', { name: 'Rotate' })), { timeout: 30_000 }).toBe(true);
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    await dialog.getByLabel('New HEC Token').fill(ROTATED_TOKEN);
    // Issue 15: Rotate used to add a second Cancel/Save pair under the form's own. One pair now:
    // Save changes stores the new credential with the rest of the form.
    await expect(dialog.getByRole('button', { name: /^Save/ }).allTextContents()).resolves.toEqual(['Save changes']);
    await expect(dialog.getByRole('button', { name: 'Cancel', exact: true }).count()).resolves.toBe(0);
    await screenshot(page, 'desktop-10b-edit-rotate');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.getByText('The new credential is stored encrypted').waitFor();
    await dialog.getByLabel('New HEC Token').waitFor({ state: 'detached' });
    await expect(dialog.getByTestId('credential-chip').textContent()).resolves.toContain('credential present (encrypted)');
    await dialog.getByRole('button', { name: 'Send test event' }).click();
    await dialog.getByTestId('test-result').waitFor();
    await expect(dialog.getByTestId('test-result').getAttribute('data-ok')).resolves.toBe('true');
    expect(receiver.requests.at(-1)!.headers.authorization).toBe(`Splunk ${ROTATED_TOKEN}`);

    await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
    await dialog.getByRole('button', { name: 'Remove credential' }).click();
    await dialog.getByText('Credential removed.').waitFor();
    await expect(dialog.getByTestId('credential-chip').textContent()).resolves.toBe('no credential');
    expect((await get(id)).auth_header_configured).toBe(false);
    const before = receiver.requests.length;
    await dialog.getByRole('button', { name: 'Send test event' }).click();
    await receiver.waitFor((r) => r.length > before);
    expect(receiver.requests.at(-1)!.headers.authorization).toBeUndefined();

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(new URL(page.url()).pathname).toBe('/settings/siem-forwarding');
  });

  it('Edit: Send test event waits for unsaved credential, URL or header; Save and Remove clear the old result; a new host asks for the credential', async () => {
    // The receiver takes only the fresh token: the stored (stale) one answers 401.
    receiver.setHandler((req) =>
      req.path.startsWith('/editflow') && req.headers.authorization !== `Bearer ${FRESH_TOKEN}` ? { status: 401, body: 'unauthorized' } : ok()(req),
    );
    const { destination_id: id } = await create({ url: `${receiver.url}/editflow`, auth_header_value: `Bearer ${STALE_TOKEN}`, enabled: false });
    await reloadPage();
    await card(page, id).getByRole('link', { name: /^Edit/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit destination' });
    await dialog.waitFor();
    const sendTest = dialog.getByRole('button', { name: 'Send test event' });
    const note = dialog.getByTestId('test-note');
    const result = dialog.getByTestId('test-result');
    const url = dialog.getByLabel('Webhook URL');
    const header = dialog.getByLabel('Auth header name');
    const save = dialog.getByRole('button', { name: 'Save changes' });

    // Nothing changed: the test tests what is saved, and the stale token fails.
    await expect(note.count()).resolves.toBe(0);
    await sendTest.click();
    await result.waitFor();
    await expect(result.getAttribute('data-ok')).resolves.toBe('false');

    // Issue 1: a new credential typed but not saved. Rotate opened alone changes nothing yet.
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    await expect(sendTest.isEnabled()).resolves.toBe(true);
    await dialog.getByLabel('New Auth header value').fill(`Bearer ${FRESH_TOKEN}`);
    await expect.poll(() => sendTest.isDisabled()).toBe(true);
    // The stale token's red result no longer describes what the form holds: it goes.
    await expect(result.count()).resolves.toBe(0);
    await expect(note.textContent()).resolves.toBe('Save changes first: the test uses the saved settings.');
    await expect(sendTest.getAttribute('aria-describedby')).resolves.toBe(await note.getAttribute('id'));
    await sendTest.scrollIntoViewIfNeeded();
    await screenshot(page, 'desktop-10c-edit-test-waits-for-save');

    // Issue 2: Save changes clears the red result the stale token got; the test is offered again.
    await save.click();
    await dialog.getByText('The new credential is stored encrypted').waitFor();
    await expect(result.count()).resolves.toBe(0);
    await expect(note.count()).resolves.toBe(0);
    await sendTest.click();
    await dialog.locator('[data-testid="test-result"][data-ok="true"]').waitFor();
    expect(receiver.requests.at(-1)!.headers.authorization).toBe(`Bearer ${FRESH_TOKEN}`);

    // The URL and the header name count too, and typing the saved value back lifts the wait.
    await url.fill(`${receiver.url}/editflow/elsewhere`);
    await expect.poll(() => sendTest.isDisabled()).toBe(true);
    await url.fill(`${receiver.url}/editflow`);
    await expect.poll(() => sendTest.isEnabled()).toBe(true);
    await header.fill('X-Token');
    await expect.poll(() => sendTest.isDisabled()).toBe(true);
    await header.fill('Authorization');
    await expect.poll(() => sendTest.isEnabled()).toBe(true);
    // A name over the limit, counted inline, is not sent for the API to refuse.
    await dialog.getByLabel(/^Name/).fill('n'.repeat(111));
    await save.click();
    await dialog.getByText('Shorten the name to 100 characters first.').waitFor();
    expect((await svc.request('GET', `${base()}/${id}`, { apiKey })).body.name).toBeNull();
    // The name and the filter do not change the probe.
    await dialog.getByLabel(/^Name/).fill('Edit flow hook');
    await expect(sendTest.isEnabled()).resolves.toBe(true);

    // A save of anything clears the green result as well.
    await save.click();
    await dialog.getByText('Changes saved.').waitFor();
    await expect(result.count()).resolves.toBe(0);

    // Issue 3: another port is another origin. Said under the URL before any Save, and Save does not
    // send what the API would refuse.
    const elsewhere = `https://127.0.0.1:${await closedPort()}/editflow`;
    await url.fill(elsewhere);
    const hint = dialog.getByTestId('new-host-hint');
    // Under the URL it is about, inside that field.
    await expect(url.locator('xpath=..').getByTestId('new-host-hint').count()).resolves.toBe(1);
    await expect(hint.textContent()).resolves.toContain(
      'A new host: enter the credential again (Rotate), or Remove it. A stored credential is never sent to a new host.',
    );
    await screenshot(page, 'desktop-10d-edit-new-host');
    const patches: string[] = [];
    const onReq = (r: import('playwright-core').Request) => {
      if (r.method() === 'PATCH') patches.push(r.postData() ?? '');
    };
    page.on('request', onReq);
    await save.click();
    await expect(dialog.getByRole('alert').textContent()).resolves.toContain('A new host: enter the credential again');
    page.off('request', onReq);
    expect(patches).toEqual([]);
    expect((await get(id)).url).toBe(`${receiver.url}/editflow`);
    await hint.getByRole('button', { name: 'Enter it again' }).click();
    await expect.poll(hasFocus(dialog.getByLabel('New Auth header value')), { timeout: 30_000 }).toBe(true);
    await expect(hint.count()).resolves.toBe(0);
    await dialog.getByLabel('New Auth header value').fill(`Bearer ${FRESH_TOKEN}`);
    await save.click();
    await dialog.getByText('The new credential is stored encrypted').waitFor();
    expect((await get(id)).url).toBe(elsewhere);
    await expect(hint.count()).resolves.toBe(0);

    // Issue 2 again: Remove credential clears a result (here the closed port's red one) too.
    await sendTest.click();
    await result.waitFor();
    await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
    await dialog.getByRole('button', { name: 'Remove credential' }).click();
    await dialog.getByText('Credential removed.').waitFor();
    await expect(result.count()).resolves.toBe(0);
    // Without a stored credential a move needs nothing more: no hint.
    await url.fill(`${receiver.url}/editflow`);
    await expect(hint.count()).resolves.toBe(0);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    receiver.setHandler(ok());
  });

  it('a failing card shows the action-oriented hint with a one-click link into Edit; dead-lettered events replay', async () => {
    receiver.setHandler((req) => (req.path === '/hook' ? { status: 401, body: 'unauthorized' } : ok()(req)));
    // The test is about one event's failure and replay: the filter keeps the configuration trail (this
    // destination's own creation, the replay request, ...) out of its counts (docs/trail.md#filters).
    const { destination_id: id } = await create({
      url: `${receiver.url}/hook`,
      auth_header_value: `Bearer ${WEBHOOK_TOKEN}`,
      enabled: true,
      filter: DECISIONS_ONLY,
    });
    const eventId = await recordEvent();
    await expect.poll(async () => (await get(id)).failed_events, { timeout: 60_000, interval: 250 }).toBe(1);

    await reloadPage();
    await expect(pill(id).textContent()).resolves.toBe('Failing');
    const hint = card(page, id).locator('.card-hint');
    await expect(hint.textContent()).resolves.toContain("Authentication failed — check the token hasn't been revoked");
    await screenshot(page, 'desktop-11-failing-card');
    await hint.getByRole('link', { name: /Edit destination/ }).click();
    await page.getByRole('dialog', { name: 'Edit destination' }).waitFor();
    await page.keyboard.press('Escape');

    receiver.setHandler(ok());
    await card(page, id).getByRole('button', { name: 'Dead-lettered events (1)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Dead-lettered events' });
    await expect.poll(() => dialog.locator('tbody tr').count()).toBe(1);
    await expect(dialog.locator('tbody').textContent()).resolves.toContain(eventId);
    await screenshot(page, 'desktop-12-failed-events');
    await dialog.getByRole('button', { name: 'Replay 1 event' }).click();
    await expect(dialog.getByTestId('replay-result').textContent()).resolves.toContain('1 event put back in the queue');
    await receiver.waitFor(
      (r) => r.some((x) => x.path === '/hook' && x.headers['idempotency-key'] === eventId && x.headers.authorization === `Bearer ${WEBHOOK_TOKEN}`),
      60_000,
    );
    await page.keyboard.press('Escape');
    await expect.poll(async () => (await get(id)).status, { timeout: 60_000, interval: 250 }).toBe('active');
    await reloadPage();
    await expect(pill(id).textContent()).resolves.toBe('Active');
    // The replayed event alone: the destination's filter keeps the trail out (see its creation above).
    await expect.poll(() => card(page, id).locator('svg[role=img]').getAttribute('aria-label')).toMatch(/\b1 event delivered/);
    await expect(card(page, id).textContent()).resolves.toContain('Last delivery');
  });

  it('Disable and re-enable from the card', async () => {
    const { destination_id: id } = await create({ url: `${receiver.url}/toggle`, enabled: true });
    await reloadPage();
    await card(page, id)
      .getByRole('button', { name: /^Disable/ })
      .click();
    await page.getByTestId('notice').waitFor();
    await expect.poll(() => pill(id).textContent()).toBe('Disabled');
    expect((await get(id)).enabled).toBe(false);
    await card(page, id)
      .getByRole('button', { name: /^Enable/ })
      .click();
    await expect.poll(() => pill(id).textContent()).not.toBe('Disabled');
    expect((await get(id)).enabled).toBe(true);
  });

  it('Delete says how many queued events it will clear, then clears them', async () => {
    receiver.setHandler((req) => (req.path === '/busy' ? { status: 503, headers: { 'retry-after': '3600' }, body: 'busy' } : ok()(req)));
    const { destination_id: id } = await create({
      url: `${receiver.url}/busy`,
      name: 'Busy webhook',
      auth_header_value: `Bearer ${QUEUED_TOKEN}`,
      enabled: true,
    });
    await recordEvent();
    await recordEvent();
    await receiver.waitFor((r) => r.some((x) => x.path === '/busy'), 60_000);
    await expect.poll(async () => (await get(id)).pending_events, { timeout: 60_000, interval: 250 }).toBe(2);

    await reloadPage();
    await card(page, id)
      .getByRole('button', { name: /^Delete/ })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Delete destination?' });
    await expect.poll(() => dialog.getByTestId('delete-count').textContent()).toBe('This clears 2 queued events that have not been delivered yet.');
    // Named as its card names it: the name, then the URL.
    await expect(dialog.getByTestId('delete-what').textContent()).resolves.toBe(
      `Busy webhook (${receiver.url}/busy) will stop receiving audit events and its settings and credential are deleted.`,
    );
    await screenshot(page, 'desktop-13-delete');
    await dialog.getByRole('button', { name: 'Delete destination' }).click();
    await expect(page.getByTestId('notice').textContent()).resolves.toContain('2 queued events cleared');
    await expect.poll(() => card(page, id).count()).toBe(0);
    expect((await svc.request('GET', `${base()}/${id}`, { apiKey })).status).toBe(404);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id), { timeout: 30_000 }).toBe('main');
  });

  it('works at 390 px: no sideways scrolling; cards, Add destination and Edit fit', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const { destination_id: failing } = await create({ url: `${receiver.url}/narrow`, auth_header_value: 'Bearer x-narrow', enabled: false });
    await reloadPage();
    // Measured once the cards are there: before, an empty page would fit however wide a card is.
    await card(page, failing).waitFor();
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await expect(overflow()).resolves.toBe(0);
    await screenshot(page, 'mobile-01-cards');

    await page.getByRole('button', { name: 'Add destination' }).click();
    const add = page.getByRole('dialog', { name: 'Add destination' });
    await screenshot(page, 'mobile-02-add-choose');
    await add.getByRole('button', { name: 'Continue' }).click();
    await add.getByLabel('HEC URL').fill('http://splunk.example.com/services/collector/raw');
    await add.getByLabel('HEC Token', { exact: true }).fill('Bearer abc');
    await expect(overflow()).resolves.toBe(0);
    await screenshot(page, 'mobile-03-add-configure');
    await page.keyboard.press('Escape');

    await card(page, failing).getByRole('link', { name: /^Edit/ }).click();
    await page.getByRole('dialog', { name: 'Edit destination' }).waitFor();
    await expect(overflow()).resolves.toBe(0);
    await screenshot(page, 'mobile-04-edit');
    await page.keyboard.press('Escape');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('never sent a credential to the browser', async () => {
    await page.waitForLoadState('networkidle');
    await traffic.settle();
    const html = await page.content();
    expect(traffic.bodies.length).toBeGreaterThan(20);
    for (const secret of [FIRST_TOKEN, ROTATED_TOKEN, WEBHOOK_TOKEN, QUEUED_TOKEN, STALE_TOKEN, FRESH_TOKEN, 'x-narrow']) {
      expect(html).not.toContain(secret);
      for (const b of traffic.bodies) expect(b.body, `${b.url} leaked a credential`).not.toContain(secret);
    }
  });
});
