// Issue 13: a custom webhook's OAuth2 client credentials set in the dashboard, in headless Chromium.
// A real authorization server (oidc-provider, test/support/oauthServer.ts) issues the tokens and the
// receiver accepts only a bearer token that server signed. Add configures it (the secret write-only),
// Edit shows the secret as set and rotates it like any credential, and events arrive with the token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { bearerOnly, startOAuthServer, WEBHOOK_SCOPE, type OAuthServer } from '../support/oauthServer.js';
import { card, collectPageErrors, hasFocus, launchBrowser, openDashboard, recordResponses, screenshot, type Browser } from './support.js';

const CLIENT_ID = 'aegis-e2e-webhook';
const SECRET = 'e2e-webhook-Client.Secret~0123456789abcdef';
const WRONG_SECRET = 'e2e-not-the-secret~fedcba9876543210';
const WAIT = { timeout: 60_000, interval: 200 };

describe('Custom webhook with OAuth2 client credentials, in headless Chromium against a real authorization server', () => {
  let tdb: TestDb;
  let svc: TestService;
  let op: OAuthServer;
  let receiver: Receiver;
  let browser: Browser;
  let page: Page;
  let orgId: string;
  let apiKey: string;
  /** Bearer tokens the receiver accepted (each verified against the server's published keys). */
  const accepted: string[] = [];

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    op = await startOAuthServer([{ client_id: CLIENT_ID, client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic' }]);
    svc = await startTestService(tdb.db);
    receiver = await startReceiver(bearerOnly(op, { scope: WEBHOOK_SCOPE, accepted, refusal: { status: 401, body: '{"error":"invalid_token"}' } }));
    browser = await launchBrowser();
    ({ page, orgId, apiKey } = await openDashboard(browser, svc, tdb.db, 'OAuth2 webhook org'));
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await svc?.stop();
    await op?.close();
    await tdb?.close();
  });

  const add = () => page.getByRole('dialog', { name: 'Add destination' });
  const edit = () => page.getByRole('dialog', { name: 'Edit destination' });

  it('Add sets token URL, client id, secret, scope and method; the test and live events carry a token the server signed; Edit rotates the secret', async () => {
    const traffic = recordResponses(page);
    const pageErrors = collectPageErrors(page);
    await page.getByRole('button', { name: 'Add destination' }).click();
    await add()
      .getByRole('radio', { name: /^Custom HTTPS webhook/ })
      .check();
    await add().getByRole('button', { name: 'Continue' }).click();
    await add()
      .getByRole('heading', { name: /Step 2: Configure Custom HTTPS webhook/ })
      .waitFor();
    await add().getByLabel('Webhook URL').fill(`${receiver.url}/ingest`);

    await add().getByRole('checkbox', { name: 'Authenticate with OAuth2 client credentials' }).check();
    // Missing parts are named before anything is sent.
    await add().getByRole('button', { name: 'Save & test' }).click();
    await expect.poll(() => add().getByRole('alert').textContent(), WAIT).toMatch(/OAuth2: give the token URL/);
    await add().getByLabel('Token URL').fill(op.tokenUrl);
    await add().getByLabel('Client ID').fill(CLIENT_ID);
    await add().getByLabel('Client secret', { exact: true }).fill(SECRET);
    await add().getByLabel('Scope').fill(WEBHOOK_SCOPE);
    await add().getByLabel('Client authentication').selectOption('client_secret_basic');
    await screenshot(page, 'custom-oauth2-add');

    const createReq = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/forwarding-destinations'));
    await add().getByRole('button', { name: 'Save & test' }).click();
    const created = JSON.parse((await createReq).postData() ?? '{}') as Record<string, unknown>;
    expect(created).toMatchObject({
      siem: 'custom',
      url: `${receiver.url}/ingest`,
      auth: {
        type: 'oauth2_client_credentials',
        token_url: op.tokenUrl,
        client_id: CLIENT_ID,
        client_secret: SECRET,
        scope: WEBHOOK_SCOPE,
        token_endpoint_auth_method: 'client_secret_basic',
      },
    });
    expect(created).not.toHaveProperty('auth_header_value');
    const result = add().getByTestId('test-result');
    await result.waitFor();
    await expect(result.getAttribute('data-ok'), (await result.textContent()) ?? '').resolves.toBe('true');
    expect(op.grants.get(CLIENT_ID)).toBe(1);
    await expect(add().getByRole('checkbox', { name: 'Start forwarding live events' }).isChecked()).resolves.toBe(true);
    await add().getByRole('button', { name: 'Done' }).click();
    await add().waitFor({ state: 'detached' });

    const list = await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey });
    const dest = (list.body as Array<{ destination_id: string; enabled: boolean; auth: Record<string, unknown> | null }>)[0]!;
    expect(dest.enabled).toBe(true);
    expect(dest.auth).toEqual({
      type: 'oauth2_client_credentials',
      token_url: op.tokenUrl,
      client_id: CLIENT_ID,
      scope: WEBHOOK_SCOPE,
      token_endpoint_auth_method: 'client_secret_basic',
      client_secret_configured: true,
    });

    // A live audit event is delivered with a bearer token the authorization server signed.
    const preflight = await svc.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'quarterly numbers, nothing secret' } });
    expect(preflight.status, preflight.text).toBe(200);
    const decision = (id: string) => receiver.requests.some((r) => r.body.toString('utf8').includes(id));
    const eventId = String(preflight.body.preflight_id);
    expect(eventId).toMatch(/^pflt_/);
    await expect.poll(() => decision(eventId), WAIT).toBe(true);
    const delivered = receiver.requests.find((r) => r.body.toString('utf8').includes(eventId))!;
    const token = /^Bearer (\S+)$/.exec(String(delivered.headers.authorization))![1]!;
    expect(accepted).toContain(token);
    await expect(op.verify(token)).resolves.toMatchObject({ client_id: CLIENT_ID });

    // Edit: the settings come back, the secret only as "set"; Rotate replaces it.
    const c = card(page, dest.destination_id);
    await c.getByRole('link', { name: /^Edit/ }).click();
    await expect(edit().getByRole('checkbox', { name: 'Authenticate with OAuth2 client credentials' }).isChecked()).resolves.toBe(true);
    await expect(edit().getByLabel('Token URL').inputValue()).resolves.toBe(op.tokenUrl);
    await expect(edit().getByLabel('Client ID').inputValue()).resolves.toBe(CLIENT_ID);
    await expect(edit().getByLabel('Scope').inputValue()).resolves.toBe(WEBHOOK_SCOPE);
    await expect(edit().getByTestId('oauth2-secret-chip').textContent()).resolves.toBe('client secret set (encrypted)');
    await expect(edit().getByLabel('New client secret').count()).resolves.toBe(0);

    // Saving without rotating keeps the stored secret: the PATCH carries the settings, no secret.
    let patchReq = page.waitForRequest((r) => r.method() === 'PATCH');
    await edit().getByRole('button', { name: 'Save changes' }).click();
    let patch = JSON.parse((await patchReq).postData() ?? '{}') as { auth: Record<string, unknown> };
    expect(patch.auth).toMatchObject({ type: 'oauth2_client_credentials', token_url: op.tokenUrl, client_id: CLIENT_ID });
    expect(patch.auth.client_secret).toBeUndefined();
    await edit().getByText('Changes saved.').waitFor();

    // Rotated to a secret the server does not know: the next token request is refused, so the new secret is the one in use.
    // Rotate and the new-secret field replace each other, and focus goes with them, both ways.
    await edit().getByRole('button', { name: 'Rotate client secret' }).click();
    await expect.poll(hasFocus(edit().getByLabel('New client secret')), WAIT).toBe(true);
    await edit().getByRole('button', { name: 'Keep current client secret' }).click();
    await expect.poll(hasFocus(edit().getByRole('button', { name: 'Rotate client secret' })), WAIT).toBe(true);
    await edit().getByRole('button', { name: 'Rotate client secret' }).click();
    await edit().getByLabel('New client secret').fill(WRONG_SECRET);
    patchReq = page.waitForRequest((r) => r.method() === 'PATCH');
    await edit().getByRole('button', { name: 'Save changes' }).click();
    patch = JSON.parse((await patchReq).postData() ?? '{}') as { auth: Record<string, unknown> };
    expect(patch.auth.client_secret).toBe(WRONG_SECRET);
    await edit().getByText('Changes saved. The new credential is stored encrypted.').waitFor();
    // The rotation closes once its secret is stored: wait for the field to go, not a count read once.
    await edit().getByLabel('New client secret').waitFor({ state: 'detached' });
    const refusedBefore = op.refused;
    await edit().getByRole('button', { name: 'Send test event' }).click();
    const failed = edit().getByTestId('test-result');
    await failed.waitFor();
    await expect(failed.getAttribute('data-ok')).resolves.toBe('false');
    await expect(failed.textContent()).resolves.toMatch(/OAuth2 token request .*client/);
    expect(op.refused).toBeGreaterThan(refusedBefore);

    // Rotated back to the real secret: the test goes through, with a token the server signed for it.
    await edit().getByRole('button', { name: 'Rotate client secret' }).click();
    await edit().getByLabel('New client secret').fill(SECRET);
    // The test event below must go out after this PATCH is stored: wait for its answer, not a message.
    const patchRes = page.waitForResponse((r) => r.request().method() === 'PATCH');
    await edit().getByRole('button', { name: 'Save changes' }).click();
    const rotatedBack = await patchRes;
    expect((JSON.parse(rotatedBack.request().postData() ?? '{}') as { auth: Record<string, unknown> }).auth.client_secret).toBe(SECRET);
    expect(rotatedBack.status()).toBe(200);
    await edit().getByText('Changes saved. The new credential is stored encrypted.').waitFor();
    const acceptedBefore = accepted.length;
    await edit().getByRole('button', { name: 'Send test event' }).click();
    await expect.poll(async () => edit().getByTestId('test-result').getAttribute('data-ok'), WAIT).toBe('true');
    expect(accepted.length).toBe(acceptedBefore + 1);
    await screenshot(page, 'custom-oauth2-edit');
    await page.keyboard.press('Escape');

    await page.waitForLoadState('networkidle');
    await traffic.settle();
    expect(pageErrors).toEqual([]);
    // Write-only: the secrets never come back to the browser.
    expect(await page.content()).not.toContain(SECRET);
    for (const b of traffic.bodies) {
      expect(b.body, `${b.url} leaked the client secret`).not.toContain(SECRET);
      expect(b.body, `${b.url} leaked the rotated secret`).not.toContain(WRONG_SECRET);
    }
  });
});
