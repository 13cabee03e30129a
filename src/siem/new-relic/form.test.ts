import { describe, expect, it } from 'vitest';
import { formatHints } from '../catalog.js';
import { correct, find } from '../formTestKit.js';

describe('New Relic format hints', () => {
  const base = correct.new_relic;
  it('flags a non-log endpoint and a region mismatch', () => {
    const h = find(formatHints('new_relic', { ...base, url: 'https://insights-collector.newrelic.com/v1/accounts/1/events' }), 'url', /Log API endpoint/);
    expect(h.fix?.value).toBe('https://log-api.newrelic.com/log/v1');
    // Another host may be a proxy forwarding to New Relic (docs/dashboard.md): a warning, not an error.
    expect(find(formatHints('new_relic', { ...base, url: 'https://logs-proxy.example.com/log/v1' }), 'url', /not a New Relic.*proxy/).severity).toBe('warning');
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
