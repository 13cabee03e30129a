import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { authView, checkAuth } from './oauth2.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const base = { type: 'oauth2_client_credentials' as const, client_id: 'app', client_secret: 's3cret~value' };

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err.message;
    throw err;
  }
  throw new Error('expected a 400');
}

describe('checkAuth', () => {
  it('Sentinel: the tenant builds the Entra ID token URL; default scope and client_secret_post', () => {
    const { stored, secret } = checkAuth('microsoft_sentinel', { ...base, tenant_id: TENANT }, { allowPrivate: false });
    expect(stored).toEqual({
      type: 'oauth2_client_credentials',
      token_url: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
      client_id: 'app',
      scope: 'https://monitor.azure.com//.default',
      token_endpoint_auth_method: 'client_secret_post',
      tenant_id: TENANT,
    });
    expect(secret).toBe('s3cret~value');
  });

  it('custom: token_url required, no scope by default, client_secret_basic', () => {
    expect(refusal(() => checkAuth('custom', base, { allowPrivate: false }))).toMatch(/^auth\.token_url: is required/);
    const { stored } = checkAuth('custom', { ...base, token_url: 'https://auth.example.com/token' }, { allowPrivate: false });
    expect(stored).toMatchObject({ scope: null, token_endpoint_auth_method: 'client_secret_basic' });
    expect(stored.tenant_id).toBeUndefined();
  });

  it('the token URL obeys the destination address rules', () => {
    expect(refusal(() => checkAuth('custom', { ...base, token_url: 'https://127.0.0.1:8443/token' }, { allowPrivate: false }))).toMatch(
      /^auth\.token_url: .*loopback/,
    );
    expect(refusal(() => checkAuth('custom', { ...base, token_url: 'http://auth.example.com/token' }, { allowPrivate: false }))).toMatch(
      /^auth\.token_url: .*https/,
    );
    expect(checkAuth('custom', { ...base, token_url: 'https://127.0.0.1:8443/token' }, { allowPrivate: true }).stored.token_url).toBe(
      'https://127.0.0.1:8443/token',
    );
  });

  it('refuses other presets, bad values, and a kept secret on a new host; never echoes the secret', () => {
    expect(refusal(() => checkAuth('splunk_hec', { ...base, tenant_id: TENANT }, { allowPrivate: false }))).toMatch(/^auth: /);
    expect(refusal(() => checkAuth('microsoft_sentinel', { ...base, tenant_id: 'not a tenant' }, { allowPrivate: false }))).toMatch(/^auth\.tenant_id/);
    expect(refusal(() => checkAuth('custom', { ...base, token_url: 'https://a.example/t', scope: 'a "b"' }, { allowPrivate: false }))).toMatch(/^auth\.scope/);
    const bad = refusal(() => checkAuth('microsoft_sentinel', { ...base, tenant_id: TENANT, client_secret: 'Zq9secret\nXw7' }, { allowPrivate: false }));
    expect(bad).toMatch(/^auth\.client_secret/);
    expect(bad).not.toContain('Zq9secret');
    const { client_secret: _omit, ...noSecret } = base;
    const previous = { stored: checkAuth('custom', { ...base, token_url: 'https://a.example/t' }, { allowPrivate: false }).stored, hasSecret: true };
    expect(checkAuth('custom', { ...noSecret, token_url: 'https://a.example/other' }, { allowPrivate: false, previous }).secret).toBeNull();
    expect(refusal(() => checkAuth('custom', { ...noSecret, token_url: 'https://b.example/t' }, { allowPrivate: false, previous }))).toMatch(/new host/);
    expect(refusal(() => checkAuth('custom', { ...noSecret, token_url: 'https://a.example/t' }, { allowPrivate: false }))).toMatch(
      /^auth\.client_secret: is required/,
    );
  });

  it('Sentinel: tenant_id and an Entra ID token_url must name the same tenant; another token URL keeps tenant_id as given', () => {
    const entra = (t: string, host = 'login.microsoftonline.com') => `https://${host}/${t}/oauth2/v2.0/token`;
    const contradiction = refusal(() =>
      checkAuth('microsoft_sentinel', { ...base, tenant_id: TENANT, token_url: entra('contoso.onmicrosoft.com') }, { allowPrivate: false }),
    );
    expect(contradiction).toMatch(/^auth\.tenant_id: is 72f988bf-.* token_url asks tenant contoso\.onmicrosoft\.com/);
    expect(
      refusal(() =>
        checkAuth(
          'microsoft_sentinel',
          { ...base, tenant_id: TENANT, token_url: entra('contoso.onmicrosoft.com', 'login.microsoftonline.us') },
          { allowPrivate: false },
        ),
      ),
    ).toMatch(/^auth\.tenant_id: /);
    // Agreeing (case aside), a sovereign cloud's token URL is used and the tenant kept.
    const gov = checkAuth(
      'microsoft_sentinel',
      { ...base, tenant_id: TENANT.toUpperCase(), token_url: entra(TENANT, 'login.microsoftonline.us') },
      { allowPrivate: false },
    ).stored;
    expect(gov).toMatchObject({ token_url: entra(TENANT, 'login.microsoftonline.us'), tenant_id: TENANT.toUpperCase() });
    // Only the token URL: the tenant is derived from it.
    expect(checkAuth('microsoft_sentinel', { ...base, token_url: entra(TENANT) }, { allowPrivate: false }).stored.tenant_id).toBe(TENANT);
    // A token URL that is not Entra ID's names no tenant: tenant_id stays the label shown.
    expect(
      checkAuth('microsoft_sentinel', { ...base, tenant_id: TENANT, token_url: 'https://login.example.net/t/token' }, { allowPrivate: false }).stored.tenant_id,
    ).toBe(TENANT);
  });

  it('Sentinel: every spelling of an Entra ID token URL that reaches the same endpoint names its tenant', () => {
    const other = 'contoso.onmicrosoft.com';
    const spellings = [
      `https://LOGIN.MicrosoftOnline.COM/${other}/oauth2/v2.0/token`,
      `https://login.microsoftonline.com./${other}/oauth2/v2.0/token`,
      `https://login.microsoftonline.com:443/${other}/oauth2/v2.0/token`,
      `https://login.microsoftonline.co%6D/${other}/oauth2/v2.0/token`,
      `https://login.microsoftonline.com/${other}/%6Fauth2/v2.0/token`,
      `https://login.microsoftonline.com/contoso%2Eonmicrosoft%2Ecom/oauth2/v2.0/token`,
      `https://login.microsoftonline.com/${other}/OAuth2/V2.0/Token`,
      `https://login.microsoftonline.com/${other}/oauth2/v2.0/token?x=1`,
    ];
    for (const token_url of spellings) {
      // Against another tenant: refused as the contradiction it is.
      expect(
        refusal(() => checkAuth('microsoft_sentinel', { ...base, tenant_id: TENANT, token_url }, { allowPrivate: false })),
        token_url,
      ).toMatch(/^auth\.tenant_id: is 72f988bf-.* token_url asks tenant contoso\.onmicrosoft\.com/);
      // Alone: the tenant shown is the one the URL names.
      expect(checkAuth('microsoft_sentinel', { ...base, token_url }, { allowPrivate: false }).stored.tenant_id, token_url).toBe(other);
    }
  });

  it('Sentinel: an Entra ID token URL whose path is not /<tenant>/oauth2/v2.0/token is refused as auth.token_url', () => {
    const malformed = [
      'https://login.microsoftonline.com/%zz/oauth2/v2.0/token',
      'https://login.microsoftonline.com/contoso%E0%A4%A.onmicrosoft.com/oauth2/v2.0/token',
      `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/%zz`,
      `https://login.microsoftonline.com//${TENANT}/oauth2/v2.0/token`,
      `https://login.microsoftonline.com/${TENANT}//oauth2/v2.0/token`,
      `https://login.microsoftonline.com./${TENANT}/oauth2//v2.0/token`,
      `https://login.microsoftonline.com/contoso.onmicrosoft.com%2F${TENANT}/oauth2/v2.0/token`,
      `https://login.microsoftonline.com/contoso.onmicrosoft.com/${TENANT}/oauth2/v2.0/token`,
      'https://login.microsoftonline.com/common/oauth2/v2.0/token',
      `https://login.microsoftonline.com/${TENANT}/oauth2/token`,
      `https://login.microsoftonline.com/${TENANT}/oauth2%2Fv2.0/token`,
      `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0%2Ftoken`,
    ];
    for (const token_url of malformed) {
      for (const body of [
        { ...base, token_url },
        { ...base, tenant_id: TENANT, token_url },
      ]) {
        expect(
          refusal(() => checkAuth('microsoft_sentinel', body, { allowPrivate: false })),
          token_url,
        ).toMatch(/^auth\.token_url: must be .*login\.microsoftonline\.com\/<tenant>\/oauth2\/v2\.0\/token/);
      }
    }
    // A custom webhook may use any token endpoint, Entra ID's included: its path is not judged.
    expect(
      checkAuth('custom', { ...base, token_url: `https://login.microsoftonline.com/${TENANT}/oauth2/token` }, { allowPrivate: false }).stored.token_url,
    ).toBe(`https://login.microsoftonline.com/${TENANT}/oauth2/token`);
  });

  it('the view says whether a secret is stored, never what it is', () => {
    const { stored } = checkAuth('microsoft_sentinel', { ...base, tenant_id: TENANT }, { allowPrivate: false });
    const view = authView(stored, true);
    expect(view).toMatchObject({ client_secret_configured: true, tenant_id: TENANT });
    expect(JSON.stringify(view)).not.toContain('s3cret');
    expect(authView(null, false)).toBeNull();
  });
});
