// Issue 15, "Dashboard details": what a newcomer tripped over on the SIEM Forwarding page, each
// checked in headless Chromium against the real service and a real HTTPS receiver.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Request } from 'playwright-core';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { ok, onlyTrailEvents, startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { card, launchBrowser, openDashboard, screenshot, type Browser } from './support.js';

const TOKEN = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';

describe('Dashboard details (issue 15), headless Chromium', () => {
  let tdb: TestDb;
  let svc: TestService;
  let browser: Browser;
  let receiver: Receiver;
  // The Splunk card test's SIEM. Enabling a destination forwards its own destination_enabled trail
  // event to it, a live delivery that turns the card Active; this receiver holds trail-only requests
  // until the test has read the card as it was before that delivery, then lets them through.
  let gated: Receiver;
  let releaseTrail!: () => void;
  const trailGate = new Promise<void>((resolve) => (releaseTrail = resolve));
  let page: Page;
  let orgId: string;
  let apiKey: string;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    // A held trail request must not time out (a timeout would turn the card Failing): the service's
    // time limit per phase is its maximum here.
    svc = await startTestService(tdb.db, { AEGIS_HTTP_TIMEOUT_MS: '120000' });
    receiver = await startReceiver((req) =>
      req.path.startsWith('/unauthorized')
        ? { status: 401, body: 'unauthorized' }
        : req.path.startsWith('/long-error')
          ? { status: 400, body: `error_id=${'Q'.repeat(400)}` }
          : ok()(req),
    );
    gated = await startReceiver(
      async (req) => {
        if (onlyTrailEvents(req.body)) await trailGate;
        return ok()(req);
      },
      { trail: 'handle' },
    );
    browser = await launchBrowser();
    ({ page, orgId, apiKey } = await openDashboard(browser, svc, tdb.db, 'Details org'));
  });
  afterAll(async () => {
    releaseTrail();
    await browser?.close();
    await receiver?.close();
    await gated?.close();
    await svc?.stop();
    await tdb?.close();
  });
  afterEach(async () => {
    if (await page.getByRole('dialog').count()) await page.keyboard.press('Escape');
  });

  const base = () => `/api/orgs/${orgId}/forwarding-destinations`;
  /** How far the page scrolls sideways: 0 when everything fits the viewport. */
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  const get = async (id: string) => (await svc.request('GET', `${base()}/${id}`, { apiKey })).body as { name: string | null; enabled: boolean };
  const add = () => page.getByRole('dialog', { name: 'Add destination' });
  const hints = () => add().getByTestId('format-hint');
  const reloadPage = async () => {
    await page.goto(`${svc.baseUrl}/settings/siem-forwarding`);
    await page.getByRole('heading', { name: 'SIEM Forwarding', level: 2 }).waitFor();
  };

  async function openAndChoose(siemLabel: string): Promise<void> {
    await page.getByRole('button', { name: 'Add destination' }).click();
    await add()
      .getByRole('radio', { name: new RegExp(`^${siemLabel}`) })
      .check();
    await add().getByRole('button', { name: 'Continue' }).click();
    await add()
      .getByRole('heading', { name: new RegExp(`Step 2: Configure ${siemLabel}`) })
      .waitFor();
  }

  /** Save & test; returns the create request's body once the result panel shows. */
  async function saveAndTest(): Promise<Record<string, unknown>> {
    const createReq = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/forwarding-destinations'));
    await add().getByRole('button', { name: 'Save & test' }).click();
    const created = JSON.parse((await createReq).postData() ?? '{}') as Record<string, unknown>;
    await add().getByTestId('test-result').waitFor();
    return created;
  }

  async function done(): Promise<void> {
    await add().getByRole('button', { name: 'Done' }).click();
    await add().waitFor({ state: 'detached' });
    await page.waitForLoadState('networkidle');
  }

  it('Format hints wait for a field to be touched, or for a Save & test attempt', async () => {
    await openAndChoose('Splunk HEC');
    // A fresh form: empty URL and token, but no red "Paste your …" yet.
    await expect(hints().count()).resolves.toBe(0);
    await expect(add().locator('[aria-invalid="true"]').count()).resolves.toBe(0);
    await page.screenshot({ path: '/tmp/details-01-fresh-form.png' });

    // Typing in the URL field shows the URL's hints, and only those.
    await add().getByLabel('HEC URL').fill('http://splunk.example.com:8088/services/collector/event');
    await expect(hints().allTextContents()).resolves.toEqual([expect.stringContaining('Use https://')]);
    // Leaving the token field empty after visiting it counts as touching it.
    await add().getByLabel('HEC Token', { exact: true }).focus();
    await add().getByLabel('Name').focus();
    await expect(hints().allTextContents()).resolves.toEqual(expect.arrayContaining([expect.stringContaining('Paste your HEC token')]));
    await page.keyboard.press('Escape');

    // A submit attempt shows every field's hints, touched or not.
    await openAndChoose('Splunk HEC');
    await expect(hints().count()).resolves.toBe(0);
    await add().getByRole('button', { name: 'Save & test' }).click();
    await add().getByText('Paste your HEC URL first.').waitFor();
    const after = (await hints().allTextContents()).join('\n');
    expect(after).toContain('Paste your HEC URL');
    expect(after).toContain('Paste your HEC token');
    await page.screenshot({ path: '/tmp/details-02-after-submit.png' });
  });

  it('after a red test, ticking "Start forwarding live events" replaces the "Off because the test failed" text', async () => {
    await openAndChoose('Custom HTTPS webhook');
    await add().getByLabel('Webhook URL').fill(`${receiver.url}/unauthorized/details`);
    await saveAndTest();
    const help = add().getByTestId('enable-help');
    const box = add().getByRole('checkbox', { name: 'Start forwarding live events' });
    await expect(box.isChecked()).resolves.toBe(false);
    await expect(help.textContent()).resolves.toContain('Off because the test failed');
    await box.check();
    await expect(help.textContent()).resolves.not.toContain('Off because');
    await expect(help.textContent()).resolves.toContain('On although the test failed');
    await page.screenshot({ path: '/tmp/details-03-ticked-after-red.png' });
    await box.uncheck();
    await expect(help.textContent()).resolves.toContain('Off because the test failed');
    await page.keyboard.press('Escape');
  });

  it('a pasted name over the limit is kept whole and counted, not cut without a word', async () => {
    await openAndChoose('Splunk HEC');
    const name = add().getByLabel('Name');
    const long = 'Splunk prod — ' + 'x'.repeat(136); // 150 characters
    await name.fill(long);
    // The browser must not cut it to 100: the user would save a name they did not mean.
    await expect(name.inputValue()).resolves.toBe(long);
    const alert = add().getByTestId('name-too-long');
    await expect(alert.textContent()).resolves.toBe('A name is at most 100 characters; this one has 150. Shorten it to save.');
    await expect(name.getAttribute('aria-invalid')).resolves.toBe('true');
    // Counted as the server counts: code points, trimmed.
    await name.fill(`  ${'😀'.repeat(100)}  `);
    await expect(alert.count()).resolves.toBe(0);
    await name.fill('😀'.repeat(101));
    await expect(alert.textContent()).resolves.toContain('this one has 101');
    await page.keyboard.press('Escape');
  });

  it('Splunk: a named destination with a green test says "Test delivered …", and the Source shown is the Source sent', async () => {
    await openAndChoose('Splunk HEC');
    await add().getByLabel('HEC URL').fill(`${gated.url}/services/collector/event`);
    await add().getByLabel('HEC Token', { exact: true }).fill(TOKEN);
    await add().getByLabel('Name').fill('  Splunk prod  ');
    await add().getByText('Optional settings').click();
    const source = add().getByLabel('Source', { exact: true });
    const shownDefault = await source.getAttribute('placeholder');
    expect(shownDefault).toBeTruthy();
    await expect(add().getByTestId('option-help-source').textContent()).resolves.toContain(shownDefault!);
    await page.screenshot({ path: '/tmp/details-04-splunk-form.png', fullPage: true });

    const created = await saveAndTest();
    expect(created).toMatchObject({ name: 'Splunk prod', siem: 'splunk_hec' });
    expect(created.options).toEqual({}); // Source left empty: the preset's default applies
    const sent = gated.requests.find((r) => !onlyTrailEvents(r.body))!;
    const envelope = JSON.parse(sent.body.toString('utf8').trim().split('\n')[0]!) as { source: string };
    expect(envelope.source).toBe(shownDefault);
    await done();

    const list = (await svc.request('GET', base(), { apiKey })).body as { destination_id: string; name: string | null; url: string }[];
    const d = list.find((x) => x.name === 'Splunk prod')!;
    const c = card(page, d.destination_id);
    await expect(c.getByRole('heading').textContent()).resolves.toBe('Splunk prod');
    await expect(c.locator('.card-siem').textContent()).resolves.toBe('Splunk HEC');
    // Done refreshes the cards in the background: polled until that answer is on the card (network
    // idle is a 500 ms quiet period, not a sign the answer has been rendered).
    await expect.poll(() => c.locator('.pill').textContent(), { timeout: 60_000 }).toBe('Idle'); // the pill rules are unchanged
    await expect
      .poll(async () => (await c.locator('.card-last').textContent()) ?? '', { timeout: 60_000 })
      .toMatch(/^Test delivered just now; no live events yet/);
    expect(await c.locator('.card-last').textContent()).not.toContain('No deliveries yet');

    // The first live event (the destination's own destination_enabled, held until now) is what
    // turns the card Active.
    await expect.poll(() => gated.requests.filter((r) => onlyTrailEvents(r.body)).length, { timeout: 60_000 }).toBeGreaterThan(0);
    releaseTrail();
    await expect
      .poll(async () => ((await svc.request('GET', `${base()}/${d.destination_id}`, { apiKey })).body as { status: string }).status, { timeout: 60_000 })
      .toBe('active');
    await reloadPage();
    await expect.poll(() => c.locator('.pill').textContent(), { timeout: 60_000 }).toBe('Active');
    await expect(c.locator('.card-last').textContent()).resolves.toMatch(/^Last delivery /);
  });

  it('two Splunk destinations are told apart by name; Edit renames and clears the name', async () => {
    const res = await svc.request('POST', base(), { apiKey, body: { siem: 'splunk_hec', url: `${receiver.url}/services/collector/event`, enabled: false } });
    const id = res.body.destination_id as string;
    await reloadPage();
    // Seen: the SIEM (the URL is right under it); heard: the host too, so two unnamed Splunk cards differ.
    const seen = () =>
      card(page, id)
        .getByRole('heading')
        .evaluate((h) =>
          Array.from(h.childNodes)
            .filter((n) => !(n instanceof HTMLElement && n.classList.contains('visually-hidden')))
            .map((n) => n.textContent)
            .join(''),
        );
    await expect(seen()).resolves.toBe('Splunk HEC');
    await expect(card(page, id).getByRole('heading').textContent()).resolves.toBe(`Splunk HEC at ${new URL(receiver.url).host}`);
    await expect(card(page, id).locator('.card-siem').count()).resolves.toBe(0);
    await page.screenshot({ path: '/tmp/details-05-cards-desktop.png', fullPage: true });

    const patches: Record<string, unknown>[] = [];
    const onReq = (r: Request) => {
      if (r.method() === 'PATCH') patches.push(JSON.parse(r.postData() ?? '{}') as Record<string, unknown>);
    };
    page.on('request', onReq);
    await card(page, id).getByRole('link', { name: /^Edit/ }).click();
    const edit = page.getByRole('dialog', { name: 'Edit destination' });
    await edit.getByLabel('Name').fill('Splunk staging');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.getByText('Changes saved.').waitFor();
    expect((await get(id)).name).toBe('Splunk staging');
    await page.keyboard.press('Escape');
    await expect.poll(() => card(page, id).getByRole('heading').textContent()).toBe('Splunk staging');

    await card(page, id).getByRole('link', { name: /^Edit/ }).click();
    await expect(edit.getByLabel('Name').inputValue()).resolves.toBe('Splunk staging');
    await edit.getByLabel('Name').fill('');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.getByText('Changes saved.').waitFor();
    page.off('request', onReq);
    expect(patches.map((p) => p.name)).toEqual(['Splunk staging', null]);
    expect((await get(id)).name).toBeNull();
    await page.keyboard.press('Escape');
    await expect.poll(seen).toBe('Splunk HEC');
  });

  it('the chart counts failed tries, the list shows dead-lettered events, and each says which it is', async () => {
    const res = await svc.request('POST', base(), { apiKey, body: { url: `${receiver.url}/unauthorized/dead`, name: 'Dead letters', enabled: true } });
    const id = res.body.destination_id as string;
    const pre = await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'quarterly report draft' } });
    expect(pre.status).toBe(200);
    await expect
      .poll(async () => ((await svc.request('GET', `${base()}/${id}`, { apiKey })).body as { failed_events: number }).failed_events, {
        timeout: 60_000,
        interval: 250,
      })
      .toBe(1);
    await reloadPage();
    const c = card(page, id);
    await expect.poll(() => c.locator('svg[role=img]').getAttribute('aria-label'), { timeout: 60_000 }).toMatch(/\d+ failed tr(y|ies) \(retried/);
    const legend = (await c.locator('.chart-legend').textContent()) ?? '';
    expect(legend).toMatch(/\d+ failed tr(y|ies)/);
    await c.getByRole('button', { name: 'Dead-lettered events (1)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Dead-lettered events' });
    await expect.poll(() => dialog.locator('tbody tr').count()).toBe(1);
    await expect(dialog.textContent()).resolves.not.toMatch(/Failed events/);
    await page.screenshot({ path: '/tmp/details-06-dead-letters.png' });
    await page.keyboard.press('Escape');
    await screenshot(page, 'desktop-13-named-cards');
  });

  it("a SIEM's long unbroken answer wraps inside the card's hint instead of widening the page", async () => {
    const res = await svc.request('POST', base(), { apiKey, body: { url: `${receiver.url}/long-error`, name: 'Long answer', enabled: true } });
    const id = res.body.destination_id as string;
    await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'weekly summary' } });
    await expect
      .poll(async () => ((await svc.request('GET', `${base()}/${id}`, { apiKey })).body as { status: string }).status, { timeout: 60_000 })
      .toBe('failing');
    await reloadPage();
    await card(page, id).locator('.card-hint').waitFor();
    await expect(overflow()).resolves.toBe(0);
    await svc.request('DELETE', `${base()}/${id}`, { apiKey });
  });

  it('at 390 px: named cards and the add form fit without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await reloadPage();
      await page.waitForFunction(() => !document.querySelector('svg[aria-label^="Loading"]'));
      await expect(overflow()).resolves.toBe(0);
      await page.screenshot({ path: '/tmp/details-07-cards-390.png', fullPage: true });
      await openAndChoose('Splunk HEC');
      await add().getByLabel('Name').fill('A rather long destination name for the security team');
      await add().getByText('Optional settings').click();
      await expect(overflow()).resolves.toBe(0);
      await page.screenshot({ path: '/tmp/details-08-add-390.png', fullPage: true });
      await page.keyboard.press('Escape');
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });
});
