import { describe, expect, it } from 'vitest';
import { scrubSecrets } from './deliverBatch.js';

describe('scrubSecrets (a SIEM that echoes request headers)', () => {
  it('removes the whole header value and the bare token from a response body', () => {
    const target = { authHeaderValue: 'Splunk 0f6c1a2e-1234-4b5c-9d8e-aabbccddeeff', signingSecret: null };
    const body = 'bad request; got Authorization: Splunk 0f6c1a2e-1234-4b5c-9d8e-aabbccddeeff and token=0f6c1a2e-1234-4b5c-9d8e-aabbccddeeff';
    const out = scrubSecrets(body, target);
    expect(out).not.toContain('0f6c1a2e-1234-4b5c-9d8e-aabbccddeeff');
    expect(out).toContain('[redacted]');
  });
  it('removes a signing secret and leaves ordinary bodies alone', () => {
    const target = { authHeaderValue: null, signingSecret: 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw==' };
    expect(scrubSecrets('echo whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw==', target)).toBe('echo [redacted]');
    expect(scrubSecrets('{"text":"Success","code":0}', { authHeaderValue: 'Bearer abcdefghijkl', signingSecret: null })).toBe('{"text":"Success","code":0}');
  });
});
