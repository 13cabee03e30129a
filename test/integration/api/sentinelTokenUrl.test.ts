// Microsoft Sentinel's Entra ID token URL as written by hand: every spelling that reaches the same
// token endpoint names the same tenant, and a malformed one is a 400 naming auth.token_url (a bad
// percent escape used to escape the checks as a 500).
import { describe, expect, it } from 'vitest';
import { serviceWithOrg } from '../../support/serviceWithOrg.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const DCR = 'dcr-0123456789abcdef0123456789abcdef';

describe('POST /forwarding-destinations: hostile spellings of the Sentinel token URL', () => {
  const t = serviceWithOrg();

  const create = (auth: Record<string, unknown>) =>
    t.svc.request('POST', `/api/orgs/${t.org.orgId}/forwarding-destinations`, {
      apiKey: t.org.apiKey,
      body: {
        siem: 'microsoft_sentinel',
        url: `https://dce.example.com/dataCollectionRules/${DCR}/streams/Custom-AegisAudit_CL`,
        auth: { type: 'oauth2_client_credentials', client_id: '11111111-1111-4111-8111-111111111111', client_secret: 's3cret~value', ...auth },
      },
    });

  it('a bad percent escape in the tenant is a 400 naming auth.token_url, never a 500', async () => {
    for (const token_url of [
      'https://login.microsoftonline.com/%zz/oauth2/v2.0/token',
      `https://login.microsoftonline.com./${TENANT}/oauth2/v2.0/%zz`,
      `https://login.microsoftonline.com//${TENANT}/oauth2/v2.0/token`,
    ]) {
      for (const auth of [{ token_url }, { token_url, tenant_id: TENANT }]) {
        const res = await create(auth);
        expect(res.status, `${token_url}: ${res.text}`).toBe(400);
        expect(res.body.error.message, token_url).toMatch(/^auth\.token_url: /);
      }
    }
  });

  it('an upper-case host, a trailing dot or an escaped letter still names the tenant', async () => {
    for (const token_url of [
      'https://LOGIN.MICROSOFTONLINE.COM./contoso.onmicrosoft.com/oauth2/v2.0/token',
      'https://login.microsoftonline.com./contoso.onmicrosoft.com/%6Fauth2/v2.0/token',
      // Entra's own aliases of the sign-in host issue the same tenant's tokens.
      'https://login.windows.net/contoso.onmicrosoft.com/oauth2/v2.0/token',
      'https://sts.windows.net/contoso.onmicrosoft.com/oauth2/v2.0/token',
      'https://login.microsoft.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
      'https://login.partner.microsoftonline.cn/contoso.onmicrosoft.com/oauth2/v2.0/token',
      'https://login.usgovcloudapi.net/contoso.onmicrosoft.com/oauth2/v2.0/token',
      'https://login-us.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
      'https://westus2.login.microsoft.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
      'https://login.microsoftonline.com../contoso.onmicrosoft.com/oauth2/v2.0/token',
    ]) {
      const contradiction = await create({ token_url, tenant_id: TENANT });
      expect(contradiction.status, contradiction.text).toBe(400);
      expect(contradiction.body.error.message).toMatch(/^auth\.tenant_id: .*token_url asks tenant contoso\.onmicrosoft\.com/);
      const alone = await create({ token_url });
      expect(alone.status, alone.text).toBe(201);
      expect(alone.body.auth.tenant_id).toBe('contoso.onmicrosoft.com');
    }
  });
});
