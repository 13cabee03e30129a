import { describe, expect, it } from 'vitest';
import { formatHints } from '../catalog.js';
import { ES_ENCODED, correct, find } from '../formTestKit.js';

describe('Elastic format hints', () => {
  const base = correct.elastic;
  it('encodes a raw id:key', () => {
    const h = find(formatHints('elastic', { ...base, authHeaderValue: 'VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw' }), 'auth_header_value', /raw id:api_key/);
    expect(h.fix?.value).toBe(`ApiKey ${ES_ENCODED}`);
    const prefixed = find(
      formatHints('elastic', { ...base, authHeaderValue: 'ApiKey VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw' }),
      'auth_header_value',
      /raw/,
    );
    expect(prefixed.fix?.value).toBe(`ApiKey ${ES_ENCODED}`);
  });
  it('flags the word ApiKey encoded along with the key', () => {
    const h = find(
      formatHints('elastic', { ...base, authHeaderValue: `ApiKey ${btoa(`ApiKey ${ES_ENCODED}`)}` }),
      'auth_header_value',
      /ApiKey was base64-encoded/,
    );
    expect(h.fix?.value).toBe(`ApiKey ${ES_ENCODED}`);
    const h2 = find(
      formatHints('elastic', { ...base, authHeaderValue: btoa('ApiKey VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw') }),
      'auth_header_value',
      /ApiKey was base64-encoded/,
    );
    expect(h2.fix?.value).toBe(`ApiKey ${ES_ENCODED}`);
  });
  it('flags a value that does not decode to id:key, and the missing prefix', () => {
    find(
      formatHints('elastic', { ...base, authHeaderValue: `ApiKey ${btoa('ui2lp2axTNmsyakw9tvNnw')}` }),
      'auth_header_value',
      /does not decode to id:api_key/,
    );
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
