import { describe, expect, it } from 'vitest';
import { formatHints } from '../catalog.js';
import { GUID, correct, find } from '../formTestKit.js';
import { entraTokenUrl, normalizeSentinelUrl, parseSentinelUrl, sentinelIngestionUrl, tenantOfEntraTokenUrl } from './urls.js';

describe('Microsoft Sentinel format hints', () => {
  const base = { ...correct.microsoft_sentinel, url: 'https://aegis-dce-a1b2.eastus-1.ingest.monitor.azure.com' };
  const f = base.sentinel!;
  it('accepts a whole Logs Ingestion URL on its own (the API form)', () => {
    const url = sentinelIngestionUrl(base.url, f.dcr_immutable_id!, f.stream_name!);
    expect(url).toBe(`${base.url}/dataCollectionRules/${f.dcr_immutable_id!}/streams/Custom-AegisAudit_CL?api-version=2023-01-01`);
    expect(formatHints('microsoft_sentinel', { url })).toEqual([]);
    expect(parseSentinelUrl(url)).toEqual({
      endpoint: base.url,
      dcrImmutableId: f.dcr_immutable_id,
      streamName: 'Custom-AegisAudit_CL',
      apiVersion: '2023-01-01',
    });
    expect(normalizeSentinelUrl(url.replace(/\?.*$/, ''))).toEqual({ ok: true, url });
    expect(normalizeSentinelUrl(base.url)).toMatchObject({ ok: false, message: /dataCollectionRules/ });
    expect(normalizeSentinelUrl(`${base.url}/dataCollectionRules/my-dcr/streams/Custom-X`)).toMatchObject({ ok: false, message: /immutable id/ });
  });
  it('flags the legacy Data Collector API, a DCE path and the configuration endpoint', () => {
    find(formatHints('microsoft_sentinel', { ...base, url: 'https://0000.ods.opinsights.azure.com/api/logs' }), 'url', /Data Collector API/);
    const h = find(formatHints('microsoft_sentinel', { ...base, url: `${base.url}/dataCollectionRules` }), 'url', /endpoint alone/);
    expect(h.fix?.value).toBe(base.url);
    const c = find(
      formatHints('microsoft_sentinel', { ...base, url: 'https://aegis-dce-a1b2.eastus-1.handler.control.monitor.azure.com' }),
      'url',
      /configuration access/,
    );
    expect(c.fix?.value).toBe(base.url);
  });
  it('checks the DCR immutable id, the stream, the tenant, the client id and the secret', () => {
    find(
      formatHints('microsoft_sentinel', {
        ...base,
        sentinel: { ...f, dcr_immutable_id: '/subscriptions/x/resourceGroups/y/providers/Microsoft.Insights/dataCollectionRules/z' },
      }),
      'dcr_immutable_id',
      /resource id/,
    );
    find(formatHints('microsoft_sentinel', { ...base, sentinel: { ...f, dcr_immutable_id: 'my-dcr' } }), 'dcr_immutable_id', /32 hexadecimal/);
    const s = find(formatHints('microsoft_sentinel', { ...base, sentinel: { ...f, stream_name: 'AegisAudit_CL' } }), 'stream_name', /Custom-/);
    expect(s.fix?.value).toBe('Custom-AegisAudit_CL');
    find(formatHints('microsoft_sentinel', { ...base, sentinel: { ...f, tenant_id: 'not a tenant' } }), 'tenant_id', /GUID/);
    find(formatHints('microsoft_sentinel', { ...base, sentinel: { ...f, client_id: f.tenant_id } }), 'client_id', /tenant id/);
    find(formatHints('microsoft_sentinel', { ...base, sentinel: { ...f, client_secret: GUID } }), 'client_secret', /Secret ID/);
    find(formatHints('microsoft_sentinel', { ...base, sentinel: { ...f, client_secret: '' } }), 'client_secret', /Value/);
    // Edit leaves the stored secret alone: an undefined field is not checked.
    expect(formatHints('microsoft_sentinel', { ...base, sentinel: { ...f, client_secret: undefined } })).toEqual([]);
  });
  it('builds the Entra ID token URL from the tenant and reads it back', () => {
    expect(entraTokenUrl(f.tenant_id!)).toBe(`https://login.microsoftonline.com/${f.tenant_id!}/oauth2/v2.0/token`);
    expect(tenantOfEntraTokenUrl(entraTokenUrl('contoso.onmicrosoft.com'))).toBe('contoso.onmicrosoft.com');
    expect(tenantOfEntraTokenUrl('https://127.0.0.1:1234/token')).toBeUndefined();
  });
});
