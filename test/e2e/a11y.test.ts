// An accessibility review's findings, each as a keyboard or screen-reader user meets it: where focus
// lands after a press, a page switch or a dialog's close; what a hint, a field's error, a button and the
// tab's title say. Focus moves in effects after a render, so it is polled (hasFocus), never read once.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { DECISIONS_ONLY, ok, startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { card, hasFocus, launchBrowser, openDashboard, type Browser } from './support.js';

const SPLUNK_TOKEN = '11111111-2222-3333-4444-555555555555';

describe('dashboard accessibility: focus, names, hints and errors (headless Chromium, PostgreSQL)', () => {
  let tdb: TestDb;
  let svc: TestService;
  let browser: Browser;
  let receiver: Receiver;
  let other: Receiver;
  let page: Page;
  let orgId: string;
  let apiKey: string;
  let pageErrors: string[];

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    svc = await startTestService(tdb.db);
    receiver = await startReceiver();
    other = await startReceiver();
    browser = await launchBrowser();
    ({ page, orgId, apiKey, pageErrors } = await openDashboard(browser, svc, tdb.db, 'A11y org'));
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await other?.close();
    await svc?.stop();
    await tdb?.close();
  });
  afterEach(async () => {
    if (await page.getByRole('dialog').count()) await page.keyboard.press('Escape');
    expect(pageErrors).toEqual([]);
  });

  const base = () => `/api/orgs/${orgId}/forwarding-destinations`;
  const create = async (body: Record<string, unknown>) => {
    const res = await svc.request('POST', base(), { apiKey, body });
    expect(res.status, res.text).toBe(201);
    return (res.body as { destination_id: string }).destination_id;
  };
  const open = async (path = '/settings/siem-forwarding', heading = 'SIEM Forwarding') => {
    await page.goto(`${svc.baseUrl}${path}`);
    await page.getByRole('heading', { name: heading, level: 2 }).waitFor();
  };
  const editDialog = () => page.getByRole('dialog', { name: 'Edit destination' });
  /** Presses a control from the keyboard, as the users this is about do. */
  const pressFromKeyboard = async (control: Locator) => {
    await control.focus();
    await page.keyboard.press('Enter');
  };
  /** Whether focus is inside the element (a dialog). */
  const focusWithin = (locator: Locator) => () => locator.evaluate((el) => el.contains(document.activeElement));
  /** An element's ids in aria-describedby, resolved to their text. */
  const description = (locator: Locator) =>
    locator.evaluate((el) =>
      (el.getAttribute('aria-describedby') ?? '')
        .split(/\s+/)
        .filter((id) => id !== '')
        .map((id) => document.getElementById(id)?.textContent ?? `(missing #${id})`)
        .join(' | '),
    );

  // A button disabled while its work ran lost focus, and the browser dropped it to <body>.
  it('a pressed button keeps focus while its work runs: Send test event, in the Edit dialog', async () => {
    receiver.setHandler(ok());
    const id = await create({ url: `${receiver.url}/focus`, enabled: true });
    await open();
    await card(page, id).getByRole('link', { name: /^Edit/ }).click();
    const sendTest = editDialog().getByRole('button', { name: 'Send test event' });
    await pressFromKeyboard(sendTest);
    await editDialog().locator('[data-testid="test-result"][data-ok="true"]').waitFor();
    await expect.poll(hasFocus(sendTest)).toBe(true);
    await expect.poll(focusWithin(editDialog())).toBe(true);
  });

  it('a pressed button keeps focus while its work runs: the card’s Disable, then saying Enable', async () => {
    const id = await create({ url: `${receiver.url}/toggle`, enabled: true });
    await open();
    const toggle = card(page, id).getByRole('button', { name: /^(Disable|Enable)/ });
    await expect(toggle.textContent()).resolves.toMatch(/^Disable/);
    await pressFromKeyboard(toggle);
    await page.getByTestId('notice').getByText('Destination disabled').waitFor();
    await expect(toggle.textContent()).resolves.toMatch(/^Enable/);
    await expect.poll(hasFocus(toggle)).toBe(true);
  });

  it('a pressed button keeps focus while its work runs: Save notification settings', async () => {
    await open('/settings/notifications', 'Notifications');
    await page.getByLabel('E-mail addresses').fill('soc@example.com');
    const save = page.getByRole('button', { name: 'Save notification settings' });
    await pressFromKeyboard(save);
    await page.getByText('Notification settings saved.').waitFor();
    await expect.poll(hasFocus(save)).toBe(true);
  });

  // An attacker's review: "/settings/notifications/" (a trailing slash, which the server answers with
  // the dashboard) showed the SIEM Forwarding page.
  it('a page’s address with a trailing slash shows that page, and the address is corrected', async () => {
    for (const [path, heading] of [
      ['/settings/notifications/', 'Notifications'],
      ['/settings/activity/', 'Activity'],
    ] as const) {
      await open(path, heading);
      expect(new URL(page.url()).pathname).toBe(path.slice(0, -1));
    }
  });

  it('switching Settings pages puts focus on the new page’s heading', async () => {
    await open();
    const nav = page.getByRole('navigation', { name: 'Settings sections' });
    for (const name of ['Notifications', 'Activity', 'SIEM Forwarding']) {
      await pressFromKeyboard(nav.getByRole('link', { name }));
      await expect.poll(hasFocus(page.getByRole('heading', { name, level: 2 }))).toBe(true);
    }
    // Back: the page it returns to is announced the same way.
    await page.goBack();
    await expect.poll(hasFocus(page.getByRole('heading', { name: 'Activity', level: 2 }))).toBe(true);
  });

  it('every hint says its severity in words: "fix this", "check this" or "note", the Format hints and Rotate’s', async () => {
    const id = await create({ siem: 'splunk_hec', url: `${receiver.url}/services/collector`, auth_header_value: `Splunk ${SPLUNK_TOKEN}` });
    await open(`/settings/siem-forwarding/${id}/edit`);
    const dialog = editDialog();
    const hintTexts = async (hints: Locator) => (await hints.allTextContents()).join('\n');

    // /services/collector works: information ("note"), not a fault; an http:// URL is one to fix.
    const formatHints = dialog.getByTestId('format-hint');
    await expect.poll(() => hintTexts(formatHints)).toMatch(/^Format hint, note: \/services\/collector works/m);
    const url = dialog.getByLabel('HEC URL');
    await url.fill(`${receiver.url.replace('https://', 'http://')}/services/collector/event`);
    await expect.poll(() => hintTexts(formatHints)).toMatch(/^Format hint, fix this: .*https:\/\//m);
    await expect(url.getAttribute('aria-invalid')).resolves.toBe('true');
    await url.fill(`${receiver.url}/services/collector/event`);

    // Rotate's: a token without its "Splunk " prefix gets it added for the user: a note, not a fault.
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    const rotateHints = dialog.locator('.inset .hint');
    await dialog.getByLabel('New HEC Token').fill(SPLUNK_TOKEN);
    await expect.poll(() => hintTexts(rotateHints)).toMatch(/^Format hint, note: .*done for you\.$/m);
    expect(await hintTexts(rotateHints)).not.toMatch(/fix this/);
  });

  it('Rotate’s field is invalid when Save refuses it, and described by its hints', async () => {
    const id = await create({ siem: 'splunk_hec', url: `${receiver.url}/services/collector/event`, auth_header_value: `Splunk ${SPLUNK_TOKEN}` });
    await open(`/settings/siem-forwarding/${id}/edit`);
    const dialog = editDialog();
    // Save with nothing typed: the new credential's field is invalid and its hint says why.
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    const newCredential = dialog.getByLabel('New HEC Token');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.getByText('Paste the new HEC Token, or choose Keep current credential.').waitFor();
    await expect(newCredential.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect.poll(() => description(newCredential)).toMatch(/Format hint, fix this: Paste your HEC token/);

    // A token without its "Splunk " prefix: the prefix is added for the user, a note, not a fault.
    await newCredential.fill(SPLUNK_TOKEN);
    await expect.poll(() => description(newCredential)).toMatch(/done for you\./);
    await expect.poll(() => newCredential.getAttribute('aria-invalid')).toBeNull();
  });

  it('an error is tied to its field: the filter’s JSON', async () => {
    const id = await create({ url: `${receiver.url}/filtered` });
    await open(`/settings/siem-forwarding/${id}/edit`);
    const dialog = editDialog();
    await dialog.getByTestId('filter-summary').click();
    await dialog.getByRole('checkbox', { name: 'Advanced (JSON)' }).check();
    const json = dialog.getByLabel('Filter (JSON)');
    await json.fill('{"aegis.decision": ');
    await expect.poll(() => json.getAttribute('aria-invalid')).toBe('true');
    const said = await dialog.getByTestId('filter-preview').textContent();
    expect(said).not.toBe('');
    await expect(description(json)).resolves.toContain(said);
    await json.fill('{"aegis.decision": "BLOCKED"}');
    await expect.poll(() => json.getAttribute('aria-invalid')).toBeNull();
  });

  it('an error is tied to its field: the e-mail address refused, by its line', async () => {
    await open('/settings/notifications', 'Notifications');
    // The second address, on the third line (a blank one between): the API counts it from zero.
    const emails = page.getByLabel('E-mail addresses');
    await emails.fill('soc@example.com\n\nnot an address');
    await page.getByRole('button', { name: 'Save notification settings' }).click();
    await expect.poll(() => emails.getAttribute('aria-invalid')).toBe('true');
    const error = await description(emails);
    expect(error).toMatch(/Line 3/);
    expect(error).not.toMatch(/emails\[/);
    // The refusal (HTTP 400) is the one console error Chromium logs here, and the one this step expects:
    // waited for (it may be logged after the field is marked), then taken out of the page's errors.
    await expect.poll(() => pageErrors.some((e) => e.includes('status of 400'))).toBe(true);
    expect(pageErrors.splice(0).every((e) => e.includes('status of 400'))).toBe(true);
    // Fixed, the field is valid again.
    await emails.fill('soc@example.com\n\noncall@example.org');
    await page.getByRole('button', { name: 'Save notification settings' }).click();
    await page.getByText('Notification settings saved.').waitFor();
    await expect(emails.getAttribute('aria-invalid')).resolves.toBeNull();
  });

  it('the filter builder is folded while no filter is set, open when one is', async () => {
    await open();
    await page.getByRole('button', { name: 'Add destination' }).click();
    const add = page.getByRole('dialog', { name: 'Add destination' });
    await add.getByRole('radio', { name: /^Custom HTTPS webhook/ }).check();
    await add.getByRole('button', { name: 'Continue' }).click();
    const summary = add.getByTestId('filter-summary');
    await expect(summary.textContent()).resolves.toBe('Which events to forward: every event');
    // Folded: none of its checkboxes is a Tab stop between Event format and Save & test.
    const blocked = add.getByRole('checkbox', { name: 'Blocked' });
    await expect(blocked.isVisible()).resolves.toBe(false);
    await pressFromKeyboard(summary);
    await blocked.check();
    await expect(summary.textContent()).resolves.toBe('Which events to forward: filtered');
    await page.keyboard.press('Escape');
    await add.waitFor({ state: 'detached' });

    // A filtered destination's Edit opens with its filter in view.
    const id = await create({ url: `${receiver.url}/folded`, filter: { 'aegis.decision': { $in: ['BLOCKED'] } } });
    await open(`/settings/siem-forwarding/${id}/edit`);
    await expect.poll(() => editDialog().getByRole('checkbox', { name: 'Blocked' }).isVisible()).toBe(true);
    await expect(editDialog().getByRole('checkbox', { name: 'Blocked' }).isChecked()).resolves.toBe(true);
  });

  it('two unnamed destinations of one SIEM: every button and link names its own (the URL’s host)', async () => {
    // Both refuse the credential: each dead-letters its event, and the count shows on its button.
    const refuse = () => ({ status: 401, body: 'unauthorized' });
    receiver.setHandler(refuse);
    other.setHandler(refuse);
    const first = await create({ url: `${receiver.url}/twin`, auth_header_value: 'Bearer one', enabled: true, filter: DECISIONS_ONLY });
    const second = await create({ url: `${other.url}/twin`, auth_header_value: 'Bearer two', enabled: true, filter: DECISIONS_ONLY });
    const recorded = await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'draft', actor_id: 'carol@example.com' } });
    expect(recorded.status).toBe(200);
    for (const id of [first, second]) {
      await expect
        .poll(async () => ((await svc.request('GET', `${base()}/${id}`, { apiKey })).body as { failed_events: number }).failed_events, { interval: 250 })
        .toBe(1);
    }
    await open();
    const names = async (id: string) =>
      card(page, id)
        .locator('.card-actions')
        .evaluate((el) =>
          Array.from(el.querySelectorAll('a, button')).map((c) => {
            // The accessible name of these controls is their text (none has aria-label).
            return (c.textContent ?? '').replace(/\s+/g, ' ').trim();
          }),
        );
    const [a, b] = [await names(first), await names(second)];
    const hostA = new URL(receiver.url).host;
    const hostB = new URL(other.url).host;
    expect(a).toContain(`Dead-lettered events (1) of Custom HTTPS webhook at ${hostA}`);
    expect(b).toContain(`Dead-lettered events (1) of Custom HTTPS webhook at ${hostB}`);
    expect(a).toContain(`Edit destination Custom HTTPS webhook at ${hostA}`);
    // No control of one card is named as one of the other's.
    expect(a.filter((n) => b.includes(n))).toEqual([]);
    receiver.setHandler(ok());
    other.setHandler(ok());
  });

  it('closing a dialog opened by its address lands on the page’s main landmark, not on <body>', async () => {
    const id = await create({ url: `${receiver.url}/deep` });
    await open(`/settings/siem-forwarding/${id}/edit`);
    await editDialog().waitFor();
    await page.keyboard.press('Escape');
    await editDialog().waitFor({ state: 'detached' });
    await expect.poll(hasFocus(page.locator('#main'))).toBe(true);
  });

  it('the tab names the dialogs that have their own address: Edit and the delivery log', async () => {
    const id = await create({ url: `${receiver.url}/titled` });
    await open(`/settings/siem-forwarding/${id}/edit`);
    await editDialog().waitFor();
    await expect.poll(() => page.title()).toBe('Edit destination — SIEM Forwarding — Aegis');
    await page.keyboard.press('Escape');
    await editDialog().waitFor({ state: 'detached' });
    await expect.poll(() => page.title()).toBe('SIEM Forwarding — Aegis');

    await open(`/settings/siem-forwarding/${id}/log`);
    const log = page.getByRole('dialog', { name: 'Delivery log' });
    await log.waitFor();
    await expect.poll(() => page.title()).toBe('Delivery log — SIEM Forwarding — Aegis');
    await page.keyboard.press('Escape');
    await log.waitFor({ state: 'detached' });
  });

  // Last: it ends the session this file's page signed in with.
  it('Sign out: the tab says signed out, and focus is on the page that says so', async () => {
    await open();
    await pressFromKeyboard(page.getByRole('button', { name: 'Sign out' }));
    const heading = page.getByRole('heading', { name: 'You are signed out', level: 1 });
    await heading.waitFor();
    await expect.poll(() => page.title()).toBe('Signed out — Aegis');
    await expect.poll(hasFocus(heading)).toBe(true);
  });
});
