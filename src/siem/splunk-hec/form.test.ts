import { describe, expect, it } from 'vitest';
import { formatHints } from '../catalog.js';
import { GUID, correct, find } from '../formTestKit.js';

describe('Splunk HEC format hints', () => {
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
    // HEC takes Basic authentication with the token as the password: no hint, sent as pasted.
    const basic = `Basic ${Buffer.from(`x:${GUID}`).toString('base64')}`;
    expect(formatHints('splunk_hec', { ...base, authHeaderValue: basic }).filter((h) => h.field === 'auth_header_value')).toEqual([]);
  });
  it('flags a token that is not a GUID and the wrong header name', () => {
    find(formatHints('splunk_hec', { ...base, authHeaderValue: 'Splunk my-token-name' }), 'auth_header_value', /look like/);
    expect(find(formatHints('splunk_hec', { ...base, authHeaderName: 'X-Splunk-Token' }), 'auth_header_name', /Authorization/).fix?.value).toBe(
      'Authorization',
    );
  });
});
