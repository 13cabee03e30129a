import { describe, expect, it } from 'vitest';
import { applyPrefix, buildUrl, formatHints, getPresetInfo, SIEM_IDS, SIEM_PRESETS, type FormatHint, type FormatHintInput, type SiemId } from './catalog.js';
import { DATADOG_SITES } from './datadog/form.js';
import { NEW_RELIC_REGIONS } from './new-relic/form.js';
import { entraTokenUrl, normalizeSentinelUrl, parseSentinelUrl, sentinelIngestionUrl, tenantOfEntraTokenUrl } from './microsoft-sentinel/urls.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';

const GUID = '12345678-9abc-4def-8123-456789abcdef';
const ES_ENCODED = btoa('VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw');
const DD_API_KEY = '0123456789abcdef0123456789abcdef';
const NR_LICENSE = `${'a1b2c3d4e5'.repeat(3)}abcdefNRAL`;

const correct: Record<SiemId, FormatHintInput> = {
  splunk_hec: { url: 'https://splunk.example.com:8088/services/collector/event', authHeaderName: 'Authorization', authHeaderValue: `Splunk ${GUID}` },
  datadog: { url: 'https://http-intake.logs.datadoghq.eu/api/v2/logs', authHeaderName: 'DD-API-KEY', authHeaderValue: DD_API_KEY, site: 'datadoghq.eu' },
  sumo_logic: { url: 'https://endpoint4.collection.us2.sumologic.com/receiver/v1/http/ZaVnC4dhaV3_abc==', authHeaderName: null, authHeaderValue: null },
  elastic: { url: 'https://my-deployment.es.us-east-1.aws.elastic-cloud.com/_bulk', authHeaderName: 'Authorization', authHeaderValue: `ApiKey ${ES_ENCODED}` },
  new_relic: { url: 'https://log-api.newrelic.com/log/v1', authHeaderName: 'Api-Key', authHeaderValue: NR_LICENSE, region: 'us' },
  microsoft_sentinel: {
    url: 'https://aegis-dce-a1b2.eastus-1.ingest.monitor.azure.com/',
    sentinel: {
      dcr_immutable_id: 'dcr-0123456789abcdef0123456789abcdef',
      stream_name: 'Custom-AegisAudit_CL',
      tenant_id: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      client_id: GUID,
      client_secret: 'Xy8Q~abcdefghijklmnopqrstuvwxyz0123456789',
    },
  },
  custom: { url: 'https://siem.example.com/ingest', authHeaderName: 'Authorization', authHeaderValue: 'Bearer abc123' },
};

function find(hints: FormatHint[], field: FormatHint['field'], re: RegExp): FormatHint {
  const hit = hints.find((h) => h.field === field && re.test(h.message));
  if (!hit) throw new Error(`no ${field} hint matching ${String(re)} in ${JSON.stringify(hints, null, 2)}`);
  return hit;
}

describe('presets', () => {
  it('has one preset per SIEM id with the product labels', () => {
    expect(SIEM_IDS).toHaveLength(7);
    expect(SIEM_IDS.map((id) => SIEM_PRESETS[id].label)).toEqual([
      'Splunk HEC',
      'Datadog Logs',
      'Sumo Logic',
      'Elastic',
      'New Relic',
      'Microsoft Sentinel',
      'Custom HTTPS webhook',
    ]);
    expect(getPresetInfo('splunk_hec').credentialLabel).toBe('HEC Token');
    expect(getPresetInfo('datadog').credentialLabel).toBe('API Key');
    expect(getPresetInfo('new_relic').credentialLabel).toBe('License key');
    expect(getPresetInfo('custom').credentialLabel).toBe('Auth header value');
    expect(getPresetInfo('splunk_hec').defaultHeaderName).toBe('Authorization');
    expect(getPresetInfo('elastic').defaultHeaderName).toBe('Authorization');
    expect(getPresetInfo('datadog').defaultHeaderName).toBe('DD-API-KEY');
    expect(getPresetInfo('new_relic').headerNameChoices).toEqual(['Api-Key', 'X-License-Key']);
    expect(getPresetInfo('sumo_logic').defaultHeaderName).toBeNull();
    expect(getPresetInfo('sumo_logic').headerNameChoices).toEqual(['x-sumo-token']);
  });

  it('builds Datadog site and New Relic region URLs', () => {
    expect(DATADOG_SITES).toHaveLength(9);
    expect(buildUrl('datadog', 'us5.datadoghq.com')).toBe('https://http-intake.logs.us5.datadoghq.com/api/v2/logs');
    expect(buildUrl('datadog', 'ddog-gov.com')).toBe('https://http-intake.logs.ddog-gov.com/api/v2/logs');
    expect(NEW_RELIC_REGIONS.map((r) => r.id)).toEqual(['us', 'eu', 'jp', 'fedramp']);
    expect(buildUrl('new_relic', 'eu')).toBe('https://log-api.eu.newrelic.com/log/v1');
    expect(buildUrl('new_relic', 'jp')).toBe('https://log-api.jp.nr-data.net/log/v1');
    expect(buildUrl('splunk_hec', 'x')).toBeUndefined();
  });

  it('is browser-safe: no node imports and no Buffer in catalog.ts or anything it imports', () => {
    // The dashboard bundles catalog.ts; follow its relative imports through every file they reach.
    const seen = new Set<string>();
    const visit = (url: URL): void => {
      if (seen.has(url.href)) return;
      seen.add(url.href);
      const text = readFileSync(url, 'utf8');
      expect(text, url.pathname).not.toMatch(/from ['"]node:/);
      expect(text, url.pathname).not.toMatch(/\bBuffer\b|\bprocess\./);
      for (const m of text.matchAll(/^(?:import|export) [^;]* from ['"]([^'"]+)['"];$/gm)) {
        const spec = m[1]!;
        // Bare specifiers would pull a package into the bundle: none are allowed here.
        expect(spec, `${url.pathname} imports ${spec}`).toMatch(/^\.{1,2}\//);
        visit(new URL(spec.replace(/\.js$/, '.ts'), url));
      }
    };
    visit(new URL('./catalog.ts', import.meta.url));
    const files = [...seen].map((href) => href.slice(href.indexOf('/src/')));
    // Every SIEM's form and the shared header-name rule are among them; no encoder is.
    expect(files).toContain('/src/destinations/headerRules.ts');
    expect(files.filter((f) => /^\/src\/siem\/[^/]+\/form\.ts$/.test(f))).toHaveLength(SIEM_IDS.length);
    expect(files.filter((f) => /encoder|registry|types\.ts/.test(f))).toEqual([]);
  });

  it('lists every SIEM folder: one folder under src/siem/ per SIEM, each with its form and encoder', () => {
    const root = new URL('./', import.meta.url);
    const folders = readdirSync(root).filter((name) => statSync(new URL(name, root)).isDirectory()).sort();
    // catalog.ts imports each folder's form once: a folder it does not list is a SIEM nobody can choose.
    const catalog = readFileSync(new URL('./catalog.ts', import.meta.url), 'utf8');
    const listed = [...catalog.matchAll(/from '\.\/([^/]+)\/form\.js'/g)].map((m) => m[1]!).sort();
    expect(listed).toHaveLength(SIEM_IDS.length);
    expect(folders).toEqual(listed);
    for (const folder of folders) {
      const files = readdirSync(new URL(`${folder}/`, root));
      expect(files, folder).toEqual(expect.arrayContaining(['form.ts', 'encoder.ts']));
    }
  });

  it('every preset has its docs page', () => {
    for (const id of SIEM_IDS) {
      expect(readFileSync(new URL(`../../${SIEM_PRESETS[id].docsPath}`, import.meta.url), 'utf8')).toMatch(/## Sources/);
    }
  });
});

describe('applyPrefix', () => {
  it('adds the prefix once, trims, and is idempotent', () => {
    expect(applyPrefix('splunk_hec', `  ${GUID}\n`)).toBe(`Splunk ${GUID}`);
    expect(applyPrefix('splunk_hec', `Splunk ${GUID}`)).toBe(`Splunk ${GUID}`);
    expect(applyPrefix('splunk_hec', `Splunk Splunk ${GUID}`)).toBe(`Splunk ${GUID}`);
    expect(applyPrefix('splunk_hec', `splunk   ${GUID}`)).toBe(`Splunk ${GUID}`);
    expect(applyPrefix('elastic', ES_ENCODED)).toBe(`ApiKey ${ES_ENCODED}`);
    expect(applyPrefix('elastic', `ApiKey ${ES_ENCODED}`)).toBe(`ApiKey ${ES_ENCODED}`);
    expect(applyPrefix('datadog', ` ${DD_API_KEY} `)).toBe(DD_API_KEY);
    expect(applyPrefix('custom', 'Bearer x')).toBe('Bearer x');
    expect(applyPrefix('splunk_hec', '   ')).toBe('');
    for (const id of SIEM_IDS) {
      for (const v of [GUID, `Splunk ${GUID}`, `ApiKey ${ES_ENCODED}`, ' x ']) {
        expect(applyPrefix(id, applyPrefix(id, v))).toBe(applyPrefix(id, v));
      }
    }
  });
});

describe('formatHints', () => {
  it.each(SIEM_IDS.map((id) => [id]))('gives no hint for a correct %s configuration', (id) => {
    expect(formatHints(id, correct[id])).toEqual([]);
  });

  it('gives no hint for Splunk Cloud managed and self-service URLs', () => {
    const v = correct.splunk_hec;
    expect(formatHints('splunk_hec', { ...v, url: 'https://http-inputs-acme.splunkcloud.com/services/collector/event' })).toEqual([]);
    expect(formatHints('splunk_hec', { ...v, url: 'https://http-inputs-acme.splunkcloud.com:443/services/collector/event' })).toEqual([]);
    expect(formatHints('splunk_hec', { ...v, url: 'https://prd-p-abcde.splunkcloud.com:8088/services/collector/event' })).toEqual([]);
  });

  it('flags http:// for every preset, with a fix', () => {
    for (const id of SIEM_IDS) {
      const url = correct[id].url.replace('https://', 'http://');
      const hint = find(formatHints(id, { ...correct[id], url }), 'url', /https/);
      expect(hint.severity).toBe('error');
      expect(hint.fix?.value).toBe(correct[id].url);
    }
  });

  it('flags a URL that is not a URL', () => {
    expect(find(formatHints('custom', { ...correct.custom, url: 'siem.example.com/ingest' }), 'url', /complete URL/).severity).toBe('error');
    expect(find(formatHints('custom', { ...correct.custom, url: '' }), 'url', /Paste/).severity).toBe('error');
  });

  describe('Splunk', () => {
    const base = correct.splunk_hec;
    it('offers to append /services/collector/event', () => {
      const h = find(formatHints('splunk_hec', { ...base, url: 'https://splunk.example.com:8088' }), 'url', /services\/collector\/event/);
      expect(h.fix?.value).toBe('https://splunk.example.com:8088/services/collector/event');
      const raw = find(formatHints('splunk_hec', { ...base, url: 'https://splunk.example.com:8088/services/collector/raw' }), 'url', /raw/);
      expect(raw.fix?.value).toBe(base.url);
    });
    it('flags a Splunk Cloud host without http-inputs- and a wrong port', () => {
      const h = find(formatHints('splunk_hec', { ...base, url: 'https://acme.splunkcloud.com/services/collector/event' }), 'url', /http-inputs-/);
      expect(h.fix?.value).toBe('https://http-inputs-acme.splunkcloud.com/services/collector/event');
      const p = find(formatHints('splunk_hec', { ...base, url: 'https://http-inputs-acme.splunkcloud.com:8088/services/collector/event' }), 'url', /port 443/);
      expect(p.fix?.value).toBe('https://http-inputs-acme.splunkcloud.com/services/collector/event');
    });
    it('flags a token without, or with a doubled, Splunk prefix', () => {
      const missing = find(formatHints('splunk_hec', { ...base, authHeaderValue: GUID }), 'auth_header_value', /Splunk <token>/);
      expect(missing.fix?.value).toBe(`Splunk ${GUID}`);
      const doubled = find(formatHints('splunk_hec', { ...base, authHeaderValue: `Splunk Splunk ${GUID}` }), 'auth_header_value', /twice/);
      expect(doubled.fix?.value).toBe(`Splunk ${GUID}`);
      const bearer = find(formatHints('splunk_hec', { ...base, authHeaderValue: `Bearer ${GUID}` }), 'auth_header_value', /Bearer/);
      expect(bearer.fix?.value).toBe(`Splunk ${GUID}`);
    });
    it('flags a token that is not a GUID and the wrong header name', () => {
      find(formatHints('splunk_hec', { ...base, authHeaderValue: 'Splunk my-token-name' }), 'auth_header_value', /look like/);
      expect(find(formatHints('splunk_hec', { ...base, authHeaderName: 'X-Splunk-Token' }), 'auth_header_name', /Authorization/).fix?.value).toBe('Authorization');
    });
  });

  describe('Elastic', () => {
    const base = correct.elastic;
    it('encodes a raw id:key', () => {
      const h = find(formatHints('elastic', { ...base, authHeaderValue: 'VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw' }), 'auth_header_value', /raw id:api_key/);
      expect(h.fix?.value).toBe(`ApiKey ${ES_ENCODED}`);
      const prefixed = find(formatHints('elastic', { ...base, authHeaderValue: 'ApiKey VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw' }), 'auth_header_value', /raw/);
      expect(prefixed.fix?.value).toBe(`ApiKey ${ES_ENCODED}`);
    });
    it('flags the word ApiKey encoded along with the key', () => {
      const h = find(formatHints('elastic', { ...base, authHeaderValue: `ApiKey ${btoa(`ApiKey ${ES_ENCODED}`)}` }), 'auth_header_value', /ApiKey was base64-encoded/);
      expect(h.fix?.value).toBe(`ApiKey ${ES_ENCODED}`);
      const h2 = find(formatHints('elastic', { ...base, authHeaderValue: btoa('ApiKey VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw') }), 'auth_header_value', /ApiKey was base64-encoded/);
      expect(h2.fix?.value).toBe(`ApiKey ${ES_ENCODED}`);
    });
    it('flags a value that does not decode to id:key, and the missing prefix', () => {
      find(formatHints('elastic', { ...base, authHeaderValue: `ApiKey ${btoa('ui2lp2axTNmsyakw9tvNnw')}` }), 'auth_header_value', /does not decode to id:api_key/);
      find(formatHints('elastic', { ...base, authHeaderValue: 'ApiKey not base64 at all!' }), 'auth_header_value', /not an encoded API key/);
      const missing = find(formatHints('elastic', { ...base, authHeaderValue: ES_ENCODED }), 'auth_header_value', /ApiKey <encoded>/);
      expect(missing.fix?.value).toBe(`ApiKey ${ES_ENCODED}`);
      const doubled = find(formatHints('elastic', { ...base, authHeaderValue: `ApiKey ApiKey ${ES_ENCODED}` }), 'auth_header_value', /twice/);
      expect(doubled.fix?.value).toBe(`ApiKey ${ES_ENCODED}`);
    });
    it('offers to append /_bulk and spots Kibana', () => {
      const h = find(formatHints('elastic', { ...base, url: 'https://my-deployment.es.us-east-1.aws.elastic-cloud.com' }), 'url', /_bulk/);
      expect(h.fix?.value).toBe('https://my-deployment.es.us-east-1.aws.elastic-cloud.com/_bulk');
      expect(formatHints('elastic', { ...base, url: 'https://es.example.com:9200/logs-aegis.audit-default/_bulk' })).toEqual([]);
      find(formatHints('elastic', { ...base, url: 'https://my-deployment.kb.us-east-1.aws.elastic-cloud.com/app/home' }), 'url', /Kibana/);
    });
  });

  describe('Datadog', () => {
    const base = correct.datadog;
    it('flags a non-intake URL and a site mismatch', () => {
      const app = find(formatHints('datadog', { ...base, url: 'https://app.datadoghq.eu/logs' }), 'url', /intake/);
      expect(app.fix?.value).toBe('https://http-intake.logs.datadoghq.eu/api/v2/logs');
      const mismatch = find(formatHints('datadog', { ...base, url: 'https://http-intake.logs.datadoghq.com/api/v2/logs' }), 'url', /site/);
      expect(mismatch.fix?.value).toBe('https://http-intake.logs.datadoghq.eu/api/v2/logs');
      find(formatHints('datadog', { ...base, url: 'https://logs.example.com/api/v2/logs' }), 'url', /not a Datadog/);
      const v1 = find(formatHints('datadog', { ...base, url: 'https://http-intake.logs.datadoghq.eu/v1/input' }), 'url', /intake/);
      expect(v1.fix?.value).toBe(base.url);
    });
    it('accepts the intake URL of every site when that site is picked (longest host match wins)', () => {
      for (const site of DATADOG_SITES) {
        const urlHints = formatHints('datadog', { ...base, url: site.url, site: site.id }).filter((h) => h.field === 'url');
        expect(urlHints, site.id).toEqual([]);
      }
    });
    it('flags an application key and a malformed key', () => {
      find(formatHints('datadog', { ...base, authHeaderValue: 'a'.repeat(40) }), 'auth_header_value', /application key/);
      find(formatHints('datadog', { ...base, authHeaderValue: 'abc' }), 'auth_header_value', /32/);
      const pre = find(formatHints('datadog', { ...base, authHeaderValue: `Bearer ${DD_API_KEY}` }), 'auth_header_value', /no prefix/);
      expect(pre.fix?.value).toBe(DD_API_KEY);
      expect(find(formatHints('datadog', { ...base, authHeaderName: 'Authorization' }), 'auth_header_name', /DD-API-KEY/).fix?.value).toBe('DD-API-KEY');
    });
  });

  describe('Sumo Logic', () => {
    const base = correct.sumo_logic;
    it('flags a URL without its token unless x-sumo-token is set', () => {
      find(formatHints('sumo_logic', { ...base, url: 'https://endpoint4.collection.us2.sumologic.com/receiver/v1/http' }), 'url', /no token/);
      expect(
        formatHints('sumo_logic', { url: 'https://endpoint4.collection.us2.sumologic.com/receiver/v1/http', authHeaderName: 'x-sumo-token', authHeaderValue: 'tok' }),
      ).toEqual([]);
      find(formatHints('sumo_logic', { ...base, url: 'https://endpoint4.collection.us2.sumologic.com/ui/' }), 'url', /receiver\/v1\/http/);
      find(formatHints('sumo_logic', { ...base, url: 'https://logs.example.com/receiver/v1/http/abc' }), 'url', /sumologic\.com/);
    });
  });

  describe('New Relic', () => {
    const base = correct.new_relic;
    it('flags a non-log endpoint and a region mismatch', () => {
      const h = find(formatHints('new_relic', { ...base, url: 'https://insights-collector.newrelic.com/v1/accounts/1/events' }), 'url', /Log API endpoint/);
      expect(h.fix?.value).toBe('https://log-api.newrelic.com/log/v1');
      const m = find(formatHints('new_relic', { ...base, region: 'eu' }), 'url', /picked EU/);
      expect(m.fix?.value).toBe('https://log-api.eu.newrelic.com/log/v1');
      find(formatHints('new_relic', { ...base, url: 'https://log-api.newrelic.com/' }), 'url', /\/log\/v1/);
    });
    it('checks the key shape', () => {
      find(formatHints('new_relic', { ...base, authHeaderValue: 'NRAK-ABCDEFGHIJKLMNOPQRSTUVWXYZ1' }), 'auth_header_value', /User key/);
      find(formatHints('new_relic', { ...base, authHeaderValue: 'NRJS-abcdef' }), 'auth_header_value', /Browser key/);
      find(formatHints('new_relic', { ...base, authHeaderValue: 'short' }), 'auth_header_value', /40 characters/);
      find(formatHints('new_relic', { ...base, authHeaderName: 'X-License-Key', authHeaderValue: 'NRII-abc' }), 'auth_header_name', /Insert key/);
      const eu = find(formatHints('new_relic', { ...base, region: null, authHeaderValue: `eu01xx${'a'.repeat(30)}NRAL` }), 'url', /EU account key/);
      expect(eu.fix?.value).toBe('https://log-api.eu.newrelic.com/log/v1');
      expect(formatHints('new_relic', { ...base, authHeaderName: 'X-License-Key' })).toEqual([]);
      expect(find(formatHints('new_relic', { ...base, authHeaderName: 'Authorization' }), 'auth_header_name', /Api-Key/).fix?.value).toBe('Api-Key');
    });
  });

  describe('microsoft_sentinel', () => {
    const base = { ...correct.microsoft_sentinel, url: 'https://aegis-dce-a1b2.eastus-1.ingest.monitor.azure.com' };
    const f = base.sentinel!;
    it('accepts a whole Logs Ingestion URL on its own (the API form)', () => {
      const url = sentinelIngestionUrl(base.url, f.dcr_immutable_id!, f.stream_name!);
      expect(url).toBe(`${base.url}/dataCollectionRules/${f.dcr_immutable_id!}/streams/Custom-AegisAudit_CL?api-version=2023-01-01`);
      expect(formatHints('microsoft_sentinel', { url })).toEqual([]);
      expect(parseSentinelUrl(url)).toEqual({ endpoint: base.url, dcrImmutableId: f.dcr_immutable_id, streamName: 'Custom-AegisAudit_CL', apiVersion: '2023-01-01' });
      expect(normalizeSentinelUrl(url.replace(/\?.*$/, ''))).toEqual({ ok: true, url });
      expect(normalizeSentinelUrl(base.url)).toMatchObject({ ok: false, message: /dataCollectionRules/ });
      expect(normalizeSentinelUrl(`${base.url}/dataCollectionRules/my-dcr/streams/Custom-X`)).toMatchObject({ ok: false, message: /immutable id/ });
    });
    it('flags the legacy Data Collector API, a DCE path and the configuration endpoint', () => {
      find(formatHints('microsoft_sentinel', { ...base, url: 'https://0000.ods.opinsights.azure.com/api/logs' }), 'url', /Data Collector API/);
      const h = find(formatHints('microsoft_sentinel', { ...base, url: `${base.url}/dataCollectionRules` }), 'url', /endpoint alone/);
      expect(h.fix?.value).toBe(base.url);
      const c = find(formatHints('microsoft_sentinel', { ...base, url: 'https://aegis-dce-a1b2.eastus-1.handler.control.monitor.azure.com' }), 'url', /configuration access/);
      expect(c.fix?.value).toBe(base.url);
    });
    it('checks the DCR immutable id, the stream, the tenant, the client id and the secret', () => {
      find(formatHints('microsoft_sentinel', { ...base, sentinel: { ...f, dcr_immutable_id: '/subscriptions/x/resourceGroups/y/providers/Microsoft.Insights/dataCollectionRules/z' } }), 'dcr_immutable_id', /resource id/);
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

  describe('custom', () => {
    it('flags CR/LF in header values and invalid or reserved header names', () => {
      const h = find(formatHints('custom', { ...correct.custom, authHeaderValue: 'Bearer abc\r\nX-Evil: 1' }), 'auth_header_value', /line break/);
      expect(h.severity).toBe('error');
      expect(h.fix?.value).not.toMatch(/[\r\n]/);
      find(formatHints('custom', { ...correct.custom, authHeaderName: 'X Token:' }), 'auth_header_name', /letters/);
      find(formatHints('custom', { ...correct.custom, authHeaderName: 'Host' }), 'auth_header_name', /sets Host/);
      find(formatHints('custom', { ...correct.custom, authHeaderValue: '' }), 'auth_header_value', /anyone/);
      find(formatHints('custom', { ...correct.custom, url: 'https://user:pw@siem.example.com/x' }), 'url', /password/);
    });
  });
});
