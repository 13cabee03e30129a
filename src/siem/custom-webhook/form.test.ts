import { describe, expect, it } from 'vitest';
import { formatHints } from '../catalog.js';
import { correct, find } from '../formTestKit.js';

describe('Custom webhook format hints', () => {
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
