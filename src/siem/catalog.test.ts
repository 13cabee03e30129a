import { describe, expect, it } from 'vitest';
import { applyPrefix, buildUrl, formatHints, getPresetInfo, SIEM_IDS, SIEM_PRESETS } from './catalog.js';
import { correct, DD_API_KEY, ES_ENCODED, find, GUID } from './formTestKit.js';
import { DATADOG_SITES } from './datadog/form.js';
import { NEW_RELIC_REGIONS } from './new-relic/form.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';

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

  it('lists every SIEM folder: one folder under src/siem/ per SIEM, each with its form, encoder and their tests', () => {
    const root = new URL('./', import.meta.url);
    const folders = readdirSync(root)
      .filter((name) => statSync(new URL(name, root)).isDirectory())
      .sort();
    // catalog.ts imports each folder's form once: a folder it does not list is a SIEM nobody can choose.
    const catalog = readFileSync(new URL('./catalog.ts', import.meta.url), 'utf8');
    const listed = [...catalog.matchAll(/from '\.\/([^/]+)\/form\.js'/g)].map((m) => m[1]!).sort();
    expect(listed).toHaveLength(SIEM_IDS.length);
    expect(folders).toEqual(listed);
    for (const folder of folders) {
      const files = readdirSync(new URL(`${folder}/`, root));
      expect(files, folder).toEqual(expect.arrayContaining(['form.ts', 'form.test.ts', 'encoder.ts', 'encoder.test.ts']));
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
    // A scheme the SIEM never takes is replaced, not kept behind the prefix ("Splunk Bearer ...");
    // one it takes is sent as pasted (HEC's Basic authentication, Elasticsearch's Basic and Bearer).
    expect(applyPrefix('splunk_hec', `Bearer ${GUID}`)).toBe(`Splunk ${GUID}`);
    expect(applyPrefix('splunk_hec', `bearer  Splunk ${GUID}`)).toBe(`Splunk ${GUID}`);
    const basicHec = `Basic ${Buffer.from(`x:${GUID}`).toString('base64')}`;
    expect(applyPrefix('splunk_hec', basicHec)).toBe(basicHec);
    expect(applyPrefix('elastic', `Basic ${ES_ENCODED}`)).toBe(`Basic ${ES_ENCODED}`);
    expect(applyPrefix('elastic', `Bearer ${ES_ENCODED}`)).toBe(`Bearer ${ES_ENCODED}`);
    expect(applyPrefix('splunk_hec', '   ')).toBe('');
    for (const id of SIEM_IDS) {
      for (const v of [GUID, `Splunk ${GUID}`, `ApiKey ${ES_ENCODED}`, ' x ', `Bearer ${GUID}`, `Basic ${ES_ENCODED}`]) {
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
});
