import { describe, expect, it } from 'vitest';
import { formatHints } from '../catalog.js';
import { DD_API_KEY, correct, find } from '../formTestKit.js';
import { DATADOG_SITES } from './form.js';

describe('Datadog format hints', () => {
  const base = correct.datadog;
  it('flags a non-intake URL and a site mismatch', () => {
    const app = find(formatHints('datadog', { ...base, url: 'https://app.datadoghq.eu/logs' }), 'url', /intake/);
    expect(app.fix?.value).toBe('https://http-intake.logs.datadoghq.eu/api/v2/logs');
    const mismatch = find(formatHints('datadog', { ...base, url: 'https://http-intake.logs.datadoghq.com/api/v2/logs' }), 'url', /site/);
    expect(mismatch.fix?.value).toBe('https://http-intake.logs.datadoghq.eu/api/v2/logs');
    // Another host may be a proxy forwarding to Datadog (the field's help says so): a warning, not an error.
    expect(find(formatHints('datadog', { ...base, url: 'https://logs.example.com/api/v2/logs' }), 'url', /not a Datadog.*proxy/).severity).toBe('warning');
    const v1 = find(formatHints('datadog', { ...base, url: 'https://http-intake.logs.datadoghq.eu/v1/input' }), 'url', /intake/);
    expect(v1.fix?.value).toBe(base.url);
  });
  it('gives one fix, not two opposite ones, for an old intake path of another site than the one picked', () => {
    // The v1 intake of datadoghq.com with EU picked: "use the logs intake URL" (of .com) and "use EU"
    // were both offered; the picked site's intake URL is the one fix.
    const urlHints = formatHints('datadog', { ...base, url: 'https://http-intake.logs.datadoghq.com/v1/input' }).filter((h) => h.field === 'url');
    expect(urlHints.map((h) => h.fix?.value)).toEqual(['https://http-intake.logs.datadoghq.eu/api/v2/logs']);
  });
  it('names the path, not "the app or API address", for the intake host with an old path', () => {
    const v1 = find(formatHints('datadog', { ...base, url: 'https://http-intake.logs.datadoghq.eu/v1/input' }), 'url', /intake/);
    expect(v1.message).toContain('/v1/input');
    expect(v1.message).not.toMatch(/app or API address/);
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
