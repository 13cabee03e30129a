// Issue 13: the Microsoft Sentinel form preset in headless Chromium. The token comes from a real
// OAuth2 server (oidc-provider) and the receiver accepts only tokens it signed for the Logs
// Ingestion resource; the token URL is set under "Sovereign cloud settings", as a user of Azure
// Government would, since no Entra ID is reachable from a test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { bearerOnly, startOAuthServer, type OAuthServer } from '../support/oauthServer.js';
import { card, collectPageErrors, launchBrowser, openDashboard, recordResponses, screenshot, type Browser } from './support.js';

const CLIENT_ID = '5a5a5a5a-1b1b-4c4c-8d8d-9e9e9e9e9e9e';
const TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const SECRET = 'Qk8Q~e2e-Client.Secret_Value-0123456789abcd';
const DCR = 'dcr-fedcba9876543210fedcba9876543210';

describe('Add destination: Microsoft Sentinel, in headless Chromium against a real OAuth2 server', () => {
  let tdb: TestDb;
  let svc: TestService;
  let op: OAuthServer;
  let receiver: Receiver;
  let browser: Browser;
  let page: Page;
  let orgId: string;
  let apiKey: string;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    op = await startOAuthServer([{ client_id: CLIENT_ID, client_secret: SECRET, token_endpoint_auth_method: 'client_secret_post' }]);
    svc = await startTestService(tdb.db);
    receiver = await startReceiver(bearerOnly(op));
    browser = await launchBrowser();
    ({ page, orgId, apiKey } = await openDashboard(browser, svc, tdb.db, 'Sentinel org'));
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await svc?.stop();
    await op?.close();
    await tdb?.close();
  });

  const dialog = () => page.getByRole('dialog', { name: 'Add destination' });
  const hintTexts = async () => (await dialog().getByTestId('format-hint').allTextContents()).join('\n');

  it('the form flags the usual mix-ups, builds the ingestion URL, gets a token and turns green; the secret never comes back', async () => {
    const traffic = recordResponses(page);
    const pageErrors = collectPageErrors(page);
    await page.getByRole('button', { name: 'Add destination' }).click();
    await dialog()
      .getByRole('radio', { name: /^Microsoft Sentinel/ })
      .check();
    await dialog().getByRole('button', { name: 'Continue' }).click();
    await dialog()
      .getByRole('heading', { name: /Step 2: Configure Microsoft Sentinel/ })
      .waitFor();

    await expect(dialog().getByLabel('Stream name').inputValue()).resolves.toBe('Custom-AegisAudit_CL');
    // Mix-ups first: a DCR resource id, a table name as the stream, the secret's id for its value.
    await dialog().getByLabel('Data collection endpoint (DCE)').fill('https://aegis-dce-a1b2.eastus-1.ingest.monitor.azure.com');
    await dialog().getByLabel('DCR immutable id').fill('/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/aegis');
    await dialog().getByLabel('Stream name').fill('AegisAudit_CL');
    await dialog().getByLabel('Client secret').fill('0f0e0d0c-0b0a-4090-8070-605040302010');
    const hints = await hintTexts();
    expect(hints).toMatch(/resource id/);
    expect(hints).toMatch(/start with Custom-/);
    expect(hints).toMatch(/Secret ID/);
    await dialog().getByRole('button', { name: 'Use Custom-AegisAudit_CL' }).click();
    await expect(dialog().getByLabel('Stream name').inputValue()).resolves.toBe('Custom-AegisAudit_CL');

    await dialog().getByLabel('Data collection endpoint (DCE)').fill(receiver.url);
    await dialog().getByLabel('DCR immutable id').fill(DCR);
    await dialog().getByLabel('Tenant ID').fill(TENANT_ID);
    await dialog().getByLabel('Client ID').fill(CLIENT_ID);
    await dialog().getByLabel('Client secret').fill(SECRET);
    await dialog().getByText('Sovereign cloud settings').click();
    await dialog().getByLabel('Token URL').fill(op.tokenUrl);
    await screenshot(page, 'sentinel-configure');

    const createReq = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/forwarding-destinations'));
    await dialog().getByRole('button', { name: 'Save & test' }).click();
    const created = JSON.parse((await createReq).postData() ?? '{}') as Record<string, unknown>;
    expect(created).toMatchObject({
      siem: 'microsoft_sentinel',
      url: `${receiver.url}/dataCollectionRules/${DCR}/streams/Custom-AegisAudit_CL?api-version=2023-01-01`,
      auth: { type: 'oauth2_client_credentials', tenant_id: TENANT_ID, client_id: CLIENT_ID, client_secret: SECRET, token_url: op.tokenUrl },
    });
    expect(created).not.toHaveProperty('auth_header_value');
    const result = dialog().getByTestId('test-result');
    await result.waitFor();
    await expect(result.getAttribute('data-ok'), (await result.textContent()) ?? '').resolves.toBe('true');
    expect(op.grants.get(CLIENT_ID)).toBe(1);
    const got = receiver.requests.at(-1)!;
    expect(got.path).toBe(`/dataCollectionRules/${DCR}/streams/Custom-AegisAudit_CL?api-version=2023-01-01`);
    expect((JSON.parse(got.body.toString('utf8')) as Array<{ event: { dataset: string } }>)[0]!.event.dataset).toBe('aegis.audit_stream.test');

    await expect(dialog().getByRole('checkbox', { name: 'Start forwarding live events' }).isChecked()).resolves.toBe(true);
    await dialog().getByRole('button', { name: 'Done' }).click();
    await dialog().waitFor({ state: 'detached' });

    const list = await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey });
    const dest = (list.body as Array<{ destination_id: string; siem: string; enabled: boolean }>).find((d) => d.siem === 'microsoft_sentinel')!;
    expect(dest.enabled).toBe(true);

    // Edit: the fields come back split, the secret only as "credential present (encrypted)".
    const c = card(page, dest.destination_id);
    await c.getByRole('link', { name: /^Edit/ }).click();
    const edit = page.getByRole('dialog', { name: 'Edit destination' });
    await expect(edit.getByLabel('DCR immutable id').inputValue()).resolves.toBe(DCR);
    await expect(edit.getByLabel('Tenant ID').inputValue()).resolves.toBe(TENANT_ID);
    await expect(edit.getByLabel('Client ID').inputValue()).resolves.toBe(CLIENT_ID);
    await expect(edit.getByTestId('credential-chip').textContent()).resolves.toContain('credential present (encrypted)');
    const patchReq = page.waitForRequest((r) => r.method() === 'PATCH');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    const patch = JSON.parse((await patchReq).postData() ?? '{}') as Record<string, unknown>;
    expect(patch).toMatchObject({ auth: { type: 'oauth2_client_credentials', client_id: CLIENT_ID, token_url: op.tokenUrl } });
    expect((patch.auth as Record<string, unknown>).client_secret).toBeUndefined();
    await edit.getByText('Changes saved.').waitFor();
    await screenshot(page, 'sentinel-edit');
    await page.keyboard.press('Escape');

    await page.waitForLoadState('networkidle');
    await traffic.settle();
    expect(pageErrors).toEqual([]);
    expect(await page.content()).not.toContain(SECRET);
    for (const b of traffic.bodies) expect(b.body, `${b.url} leaked the client secret`).not.toContain(SECRET);
  });
});
