import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { closedPort, ok, startReceiver, type ReceivedRequest, type Receiver } from '../support/httpsReceiver.js';
import { hasFocus, launchBrowser, openDashboard, recordResponses, screenshot, type Browser } from './support.js';

// Planted credentials: each must reach the receiver (prefix included) and never come back to the browser.
const SPLUNK_TOKEN = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
const DATADOG_KEY = 'abcdef0123456789abcdef0123456789';
const ELASTIC_PAIR = 'VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw';
const ELASTIC_ENCODED = Buffer.from(ELASTIC_PAIR).toString('base64');
const NEW_RELIC_KEY = 'eu01xx0123456789abcdef0123456789abcdNRAL';
const SUMO_URL_TOKEN = 'ZaVnC4dhaV3-SumoSourceToken_xyz';
const CUSTOM_TOKEN = 'custom-secret-token-5f2e9a';
const RED_TOKEN = 'revoked-token-77aa11';
// (Sumo Logic's token is part of its URL, which the API returns by design, so it is not in this list.)
const PLANTED = [SPLUNK_TOKEN, DATADOG_KEY, ELASTIC_PAIR, ELASTIC_ENCODED, NEW_RELIC_KEY, CUSTOM_TOKEN, RED_TOKEN];

describe('Add destination, every preset, in headless Chromium against real HTTPS receivers', () => {
  let tdb: TestDb;
  let svc: TestService;
  let browser: Browser;
  let receiver: Receiver;
  let page: Page;
  let orgId: string;
  let apiKey: string;
  let traffic: ReturnType<typeof recordResponses>;
  let pageErrors: string[];

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    svc = await startTestService(tdb.db);
    receiver = await startReceiver((req) =>
      req.path.startsWith('/unauthorized')
        ? { status: 401, body: '{"text":"Invalid token","code":4}' }
        : // Elastic counts a 200 delivered only with its _bulk answer ("errors": false).
          // The request carries a filter_path query, so only the path part is compared.
          req.path.split('?')[0] === '/_bulk'
          ? { status: 200, headers: { 'content-type': 'application/json' }, body: '{"took":1,"errors":false,"items":[]}' }
          : ok()(req),
    );
    browser = await launchBrowser();
    ({ page, orgId, apiKey, pageErrors } = await openDashboard(browser, svc, tdb.db, 'Add flow org', (p) => {
      traffic = recordResponses(p);
    }));
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await svc?.stop();
    await tdb?.close();
  });

  // A failed step must not leave its dialog over the page for the next test.
  afterEach(async () => {
    if (await page.getByRole('dialog').count()) await page.keyboard.press('Escape');
  });

  const dialog = () => page.getByRole('dialog', { name: 'Add destination' });

  async function openAndChoose(siemLabel: string): Promise<void> {
    await page.getByRole('button', { name: 'Add destination' }).click();
    await dialog()
      .getByRole('radio', { name: new RegExp(`^${siemLabel}`) })
      .check();
    await dialog().getByRole('button', { name: 'Continue' }).click();
    await dialog()
      .getByRole('heading', { name: new RegExp(`Step 2: Configure ${siemLabel}`) })
      .waitFor();
  }

  // Focus moves in effects after a render (a step's heading, the opener on close): polled, never read once.
  const WAIT = { timeout: 30_000 };
  const focusedText = () => page.evaluate(() => document.activeElement?.textContent);

  const hintTexts = async () => (await dialog().getByTestId('format-hint').allTextContents()).join('\n');

  /** Save & test; returns the create request body, the result panel's text and whether it was green. */
  async function saveAndTest(): Promise<{ created: Record<string, unknown>; text: string; ok: boolean }> {
    const createReq = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/forwarding-destinations'));
    await dialog().getByRole('button', { name: 'Save & test' }).click();
    const created = JSON.parse((await createReq).postData() ?? '{}') as Record<string, unknown>;
    const result = dialog().getByTestId('test-result');
    await result.waitFor();
    return { created, text: (await result.textContent()) ?? '', ok: (await result.getAttribute('data-ok')) === 'true' };
  }

  /** Step 4: reads the checkbox default, clicks Done, returns the PATCH body the page sent (or null). */
  async function finish(): Promise<{ checkedByDefault: boolean; patch: Record<string, unknown> | null }> {
    const box = dialog().getByRole('checkbox', { name: 'Start forwarding live events' });
    const checkedByDefault = await box.isChecked();
    const patches: Record<string, unknown>[] = [];
    const onReq = (r: import('playwright-core').Request) => {
      if (r.method() === 'PATCH') patches.push(JSON.parse(r.postData() ?? '{}') as Record<string, unknown>);
    };
    page.on('request', onReq);
    await dialog().getByRole('button', { name: 'Done' }).click();
    await dialog().waitFor({ state: 'detached' });
    await page.waitForLoadState('networkidle');
    page.off('request', onReq);
    return { checkedByDefault, patch: patches[0] ?? null };
  }

  async function lastReceived(predicate: (r: ReceivedRequest) => boolean): Promise<ReceivedRequest> {
    const reqs = await receiver.waitFor((all) => all.some(predicate), 60_000);
    return reqs.filter(predicate).at(-1)!;
  }

  async function destinationFor(url: string) {
    const list = await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey });
    return (list.body as { url: string; enabled: boolean; siem: string; destination_id: string; status: string }[]).find((d) => d.url === url)!;
  }

  it('Splunk HEC: "HEC Token", https and Bearer gotchas flagged, the Splunk prefix applied for the user', async () => {
    await openAndChoose('Splunk HEC');
    const url = dialog().getByLabel('HEC URL');
    const token = dialog().getByLabel('HEC Token', { exact: true });
    await screenshot(page, 'desktop-04-add-configure-splunk');

    await url.fill(`${receiver.url.replace('https://', 'http://')}/services/collector/event`);
    expect(await hintTexts()).toContain('Use https://');
    await dialog().getByRole('button', { name: 'Switch to https://' }).click();
    await expect(url.inputValue()).resolves.toBe(`${receiver.url}/services/collector/event`);

    // The token is required (its hint is red): Save & test waits for it as for the URL, and creates nothing.
    const creates: string[] = [];
    const onCreate = (r: import('playwright-core').Request) => {
      if (r.method() === 'POST' && r.url().endsWith('/forwarding-destinations')) creates.push(r.url());
    };
    page.on('request', onCreate);
    await dialog().getByRole('button', { name: 'Save & test' }).click();
    await dialog().getByRole('alert').getByText('Paste your HEC Token first.').waitFor();
    expect(await hintTexts()).toContain('Paste your HEC token.');
    // So does a name over the limit, counted inline.
    await token.fill(SPLUNK_TOKEN);
    await dialog().getByLabel(/^Name/).fill('n'.repeat(111));
    await dialog().getByRole('button', { name: 'Save & test' }).click();
    await dialog().getByText('Shorten the name to 100 characters first.').waitFor();
    await expect(dialog().getByTestId('name-too-long').textContent()).resolves.toContain('this one has 111');
    page.off('request', onCreate);
    expect(creates).toEqual([]);
    await dialog().getByLabel(/^Name/).fill('');

    await token.fill(`Bearer ${SPLUNK_TOKEN}`);
    expect(await hintTexts()).toContain('Splunk HEC expects "Splunk <token>"');
    // Sent as "Splunk <token>", never "Splunk Bearer <token>": the hint says it is done.
    expect(await hintTexts()).toContain('Use the Splunk prefix: done for you.');
    await token.fill(SPLUNK_TOKEN);
    expect(await hintTexts()).toContain('Add the Splunk prefix: done for you.');
    await screenshot(page, 'desktop-05-add-format-hint-splunk');

    const { created, ok: green } = await saveAndTest();
    expect(created).toMatchObject({ siem: 'splunk_hec', enabled: false, auth_header_name: 'Authorization', auth_header_value: `Splunk ${SPLUNK_TOKEN}` });
    expect(green).toBe(true);
    await screenshot(page, 'desktop-06-add-green');
    const got = await lastReceived((r) => r.path === '/services/collector/event');
    expect(got.headers.authorization).toBe(`Splunk ${SPLUNK_TOKEN}`);
    expect(got.body.toString()).toContain('aegis.audit_stream.test');

    const { checkedByDefault, patch } = await finish();
    expect(checkedByDefault).toBe(true);
    expect(patch).toEqual({ enabled: true });
    const d = await destinationFor(`${receiver.url}/services/collector/event`);
    expect(d.enabled).toBe(true);
    // Done refreshes the cards in the background (the list and the charts): wait for that answer.
    await expect.poll(() => page.locator(`article[data-destination-id="${d.destination_id}"] .pill`).textContent(), { timeout: 60_000 }).not.toBe('Disabled');
  });

  it('Datadog Logs: the site picker builds the URL, a URL for another site is flagged, the key goes in DD-API-KEY', async () => {
    await openAndChoose('Datadog Logs');
    const url = dialog().getByLabel('Logs intake URL');
    await expect(url.inputValue()).resolves.toBe('https://http-intake.logs.datadoghq.com/api/v2/logs');
    await dialog().getByLabel('Datadog site').selectOption('datadoghq.eu');
    await expect(url.inputValue()).resolves.toBe('https://http-intake.logs.datadoghq.eu/api/v2/logs');
    await url.fill('https://http-intake.logs.datadoghq.com/api/v2/logs');
    expect(await hintTexts()).toContain('The URL is for site datadoghq.com but you picked EU');

    await url.fill(`${receiver.url}/api/v2/logs`);
    await dialog().getByRole('button', { name: 'Save & test' }).click();
    await dialog().getByText('Paste your API Key first.').waitFor();
    await dialog().getByLabel('API Key', { exact: true }).fill(DATADOG_KEY);
    const { created, ok: green } = await saveAndTest();
    expect(created).toMatchObject({ siem: 'datadog', enabled: false, auth_header_name: 'DD-API-KEY', auth_header_value: DATADOG_KEY });
    expect(green).toBe(true);
    const got = await lastReceived((r) => r.path === '/api/v2/logs');
    expect(got.headers['dd-api-key']).toBe(DATADOG_KEY);
    expect((await finish()).checkedByDefault).toBe(true);
  });

  it('Sumo Logic: a URL without its token is flagged; the token travels in the URL', async () => {
    await openAndChoose('Sumo Logic');
    const url = dialog().getByLabel('HTTP Source address');
    await url.fill(`${receiver.url}/receiver/v1/http`);
    expect(await hintTexts()).toContain('The URL has no token');
    await url.fill(`${receiver.url}/receiver/v1/http/${SUMO_URL_TOKEN}`);
    expect(await hintTexts()).not.toContain('The URL has no token');
    const { created, ok: green } = await saveAndTest();
    expect(created).toMatchObject({ siem: 'sumo_logic', enabled: false });
    expect(created.auth_header_value).toBeUndefined();
    expect(green).toBe(true);
    await lastReceived((r) => r.path === `/receiver/v1/http/${SUMO_URL_TOKEN}`);
    expect((await finish()).checkedByDefault).toBe(true);
  });

  it('Elastic: a raw id:key is flagged as not base64, "Encode it" fixes it, ApiKey prefix applied', async () => {
    await openAndChoose('Elastic');
    await dialog().getByLabel('Elasticsearch endpoint').fill(`${receiver.url}/_bulk`);
    const key = dialog().getByLabel('API key (encoded)', { exact: true });
    await key.fill(ELASTIC_PAIR);
    expect(await hintTexts()).toContain('raw id:api_key pair');
    await dialog().getByRole('button', { name: 'Encode it' }).click();
    expect(await hintTexts()).not.toContain('raw id:api_key pair');
    const { created, ok: green } = await saveAndTest();
    expect(created).toMatchObject({ siem: 'elastic', auth_header_name: 'Authorization', auth_header_value: `ApiKey ${ELASTIC_ENCODED}` });
    expect(green).toBe(true);
    const got = await lastReceived((r) => r.path.startsWith('/_bulk?'));
    expect(new URL(got.path, receiver.url).searchParams.get('filter_path')).toContain('items.*.error.reason');
    expect(got.headers.authorization).toBe(`ApiKey ${ELASTIC_ENCODED}`);
    expect((await finish()).checkedByDefault).toBe(true);
  });

  it('New Relic: the region picker builds the URL, the license key goes in Api-Key', async () => {
    await openAndChoose('New Relic');
    const url = dialog().getByLabel('Log API endpoint');
    await expect(url.inputValue()).resolves.toBe('https://log-api.newrelic.com/log/v1');
    await dialog().getByLabel('Region').selectOption('eu');
    await expect(url.inputValue()).resolves.toBe('https://log-api.eu.newrelic.com/log/v1');
    await url.fill(`${receiver.url}/log/v1`);
    await dialog().getByLabel('License key', { exact: true }).fill(NEW_RELIC_KEY);
    const { created, ok: green } = await saveAndTest();
    expect(created).toMatchObject({ siem: 'new_relic', auth_header_name: 'Api-Key', auth_header_value: NEW_RELIC_KEY });
    expect(green).toBe(true);
    const got = await lastReceived((r) => r.path === '/log/v1');
    expect(got.headers['api-key']).toBe(NEW_RELIC_KEY);
    expect((await finish()).checkedByDefault).toBe(true);
  });

  it('Custom HTTPS webhook, with the keyboard alone: focus stays in the dialog, Escape closes it', async () => {
    const add = page.getByRole('button', { name: 'Add destination' });
    await add.focus();
    await page.keyboard.press('Enter');
    await dialog().waitFor();
    // Focus is trapped: thirty Tabs never leave the dialog.
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press(i % 7 === 6 ? 'Shift+Tab' : 'Tab');
      await expect(page.evaluate(() => !!document.activeElement?.closest('[role="dialog"]'))).resolves.toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'detached' });
    await expect.poll(focusedText, WAIT).toBe('Add destination');

    await page.keyboard.press('Enter');
    await dialog().waitFor();
    // Splunk HEC is focused; six ArrowDowns reach Custom HTTPS webhook.
    for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowDown');
    await expect(
      dialog()
        .getByRole('radio', { name: /^Custom HTTPS webhook/ })
        .isChecked(),
    ).resolves.toBe(true);
    await dialog().getByRole('button', { name: 'Continue' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(focusedText, WAIT).toContain('Step 2: Configure Custom HTTPS webhook');
    await page.keyboard.press('Tab'); // Webhook URL
    await page.keyboard.type(`${receiver.url}/hooks/aegis`);
    await page.keyboard.press('Tab'); // Auth header name (Authorization)
    await page.keyboard.press('Tab'); // Auth header value
    await page.keyboard.type(`Bearer ${CUSTOM_TOKEN}`);
    await expect.poll(hasFocus(dialog().getByLabel('Auth header value')), WAIT).toBe(true);
    await page.keyboard.press('Enter'); // submits: Save & test
    const result = dialog().getByTestId('test-result');
    await result.waitFor();
    await expect(result.getAttribute('data-ok')).resolves.toBe('true');
    await expect.poll(focusedText, WAIT).toBe('Step 4: Enable');
    await page.keyboard.press('Tab');
    await expect.poll(hasFocus(dialog().getByRole('checkbox', { name: 'Start forwarding live events' })), WAIT).toBe(true);
    const got = await lastReceived((r) => r.path === '/hooks/aegis');
    expect(got.headers.authorization).toBe(`Bearer ${CUSTOM_TOKEN}`);
    const { checkedByDefault, patch } = await finish();
    expect(checkedByDefault).toBe(true);
    expect(patch).toEqual({ enabled: true });
  });

  it('a 401 shows red with the action-oriented hint; the checkbox defaults OFF and nothing starts streaming', async () => {
    await openAndChoose('Custom HTTPS webhook');
    await dialog().getByLabel('Webhook URL').fill(`${receiver.url}/unauthorized/hook`);
    await dialog().getByLabel('Auth header value').fill(`Bearer ${RED_TOKEN}`);
    const { created, text, ok: green } = await saveAndTest();
    expect(created.enabled).toBe(false);
    expect(green).toBe(false);
    expect(text).toContain('HTTP 401');
    expect(text).toContain("Authentication failed — check the token hasn't been revoked");
    await screenshot(page, 'desktop-07-add-red-401');
    const { checkedByDefault, patch } = await finish();
    expect(checkedByDefault).toBe(false);
    expect(patch).toBeNull();
    const d = await destinationFor(`${receiver.url}/unauthorized/hook`);
    expect(d.enabled).toBe(false);
    await expect(page.locator(`article[data-destination-id="${d.destination_id}"] .pill`).textContent()).resolves.toBe('Disabled');
  });

  it('a network error shows red with its hint, and the checkbox defaults OFF', async () => {
    const port = await closedPort();
    await openAndChoose('Custom HTTPS webhook');
    await dialog().getByLabel('Webhook URL').fill(`https://127.0.0.1:${port}/hook`);
    const { text, ok: green } = await saveAndTest();
    expect(green).toBe(false);
    expect(text).toContain('Test failed (no response)');
    expect(text).toMatch(/Connection refused/);
    await expect(dialog().getByRole('checkbox', { name: 'Start forwarding live events' }).isChecked()).resolves.toBe(false);
    await screenshot(page, 'desktop-08-add-red-network');
    await finish();
    const d = await destinationFor(`https://127.0.0.1:${port}/hook`);
    expect(d.enabled).toBe(false);
    await screenshot(page, 'desktop-09-cards');
  });

  it('after a red test, Back to configure fixes the saved destination (no duplicate) and a green retest turns the checkbox ON', async () => {
    const countBefore = (await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey })).body.length as number;
    await openAndChoose('Custom HTTPS webhook');
    await dialog().getByLabel('Webhook URL').fill(`${receiver.url}/unauthorized/retry`);
    await dialog().getByLabel('Auth header value').fill(`Bearer ${RED_TOKEN}`);
    expect((await saveAndTest()).ok).toBe(false);
    await dialog().getByRole('button', { name: 'Back to configure' }).click();
    // The note points at the test result: it is still there to read.
    await expect(dialog().locator('[data-testid="test-result"][data-ok="false"]').textContent()).resolves.toContain('HTTP 401');
    await dialog().getByLabel('Webhook URL').fill(`${receiver.url}/fixed/retry`);
    const methods: string[] = [];
    const onReq = (r: import('playwright-core').Request) => {
      // The filter preview (POST .../filter-preview) may re-query at any time; it creates nothing.
      if (r.url().includes('/forwarding-destinations') && !r.url().endsWith('/filter-preview')) methods.push(r.method());
    };
    page.on('request', onReq);
    await dialog().getByRole('button', { name: 'Save & test' }).click();
    await dialog().locator('[data-testid="test-result"][data-ok="true"]').waitFor();
    page.off('request', onReq);
    expect(methods).toContain('PATCH');
    expect(methods.filter((m) => m === 'POST')).toEqual(['POST']); // the test probe only, no second create
    const got = await lastReceived((r) => r.path === '/fixed/retry');
    expect(got.headers.authorization).toBe(`Bearer ${RED_TOKEN}`);
    const { checkedByDefault, patch } = await finish();
    expect(checkedByDefault).toBe(true);
    expect(patch).toEqual({ enabled: true });
    const after = (await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey })).body as { url: string; enabled: boolean }[];
    expect(after.length).toBe(countBefore + 1);
    expect(after.find((d) => d.url === `${receiver.url}/fixed/retry`)?.enabled).toBe(true);
  });

  it('closing after the test (Escape, ×) does what Done does with the box as shown; an unticked box never enables', async () => {
    /** Closes step 4 with `how`; returns the PATCH bodies the page sent on the way. */
    async function closeWith(how: () => Promise<void>): Promise<Record<string, unknown>[]> {
      const patches: Record<string, unknown>[] = [];
      const onReq = (r: import('playwright-core').Request) => {
        if (r.method() === 'PATCH') patches.push(JSON.parse(r.postData() ?? '{}') as Record<string, unknown>);
      };
      page.on('request', onReq);
      await how();
      await dialog().waitFor({ state: 'detached' });
      await page.waitForLoadState('networkidle');
      page.off('request', onReq);
      return patches;
    }
    const box = () => dialog().getByRole('checkbox', { name: 'Start forwarding live events' });

    // Green, box ticked as shown, Escape: forwarding starts, as Done would.
    await openAndChoose('Custom HTTPS webhook');
    await dialog().getByLabel('Webhook URL').fill(`${receiver.url}/close/escape`);
    expect((await saveAndTest()).ok).toBe(true);
    await expect(box().isChecked()).resolves.toBe(true);
    expect(await closeWith(() => page.keyboard.press('Escape'))).toEqual([{ enabled: true }]);
    const escaped = await destinationFor(`${receiver.url}/close/escape`);
    expect(escaped.enabled).toBe(true);
    await expect.poll(() => page.locator(`article[data-destination-id="${escaped.destination_id}"] .pill`).textContent()).not.toBe('Disabled');

    // Green, box unticked by the user, ×: it stays disabled, nothing is sent.
    await openAndChoose('Custom HTTPS webhook');
    await dialog().getByLabel('Webhook URL').fill(`${receiver.url}/close/untick`);
    expect((await saveAndTest()).ok).toBe(true);
    await box().uncheck();
    expect(await closeWith(() => dialog().getByRole('button', { name: 'Close' }).click())).toEqual([]);
    expect((await destinationFor(`${receiver.url}/close/untick`)).enabled).toBe(false);

    // Red, box unticked by default, Escape: disabled, as Done leaves it.
    await openAndChoose('Custom HTTPS webhook');
    await dialog().getByLabel('Webhook URL').fill(`${receiver.url}/unauthorized/close`);
    expect((await saveAndTest()).ok).toBe(false);
    await expect(box().isChecked()).resolves.toBe(false);
    expect(await closeWith(() => page.keyboard.press('Escape'))).toEqual([]);
    const red = await destinationFor(`${receiver.url}/unauthorized/close`);
    expect(red.enabled).toBe(false);
    await expect(page.locator(`article[data-destination-id="${red.destination_id}"] .pill`).textContent()).resolves.toBe('Disabled');
  });

  it('no credential ever comes back: not in the page, not in any response the browser received', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'SIEM Forwarding', level: 2 }).waitFor();
    await page.waitForLoadState('networkidle');
    await traffic.settle();
    const html = await page.content();
    expect(traffic.bodies.length).toBeGreaterThan(20);
    // No script error and no Content-Security-Policy violation on the way.
    expect(pageErrors).toEqual([]);
    expect(traffic.bodies.some((b) => b.url.includes('/forwarding-destinations'))).toBe(true);
    for (const secret of PLANTED) {
      expect(html).not.toContain(secret);
      for (const b of traffic.bodies) expect(b.body, `${b.url} leaked a credential`).not.toContain(secret);
    }
  });
});
