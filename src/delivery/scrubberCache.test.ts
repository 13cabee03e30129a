import { describe, expect, it } from 'vitest';
import { cachedScrubbers, LISTS_PER_DESTINATION, scrubberFor, SCRUBBER_CACHE_SIZE } from './scrubberCache.js';

const AUTH = 'Bearer sk/Zq+7vWd/e3+Kp9Lm/Xy+T0kEn/4Aa+Bb==';

describe('scrubberFor: one scrubber per destination configuration', () => {
  it('is built once and reused for the same destination and secrets', () => {
    const a = scrubberFor('fwd_cache_1', [AUTH, null, null]);
    const b = scrubberFor('fwd_cache_1', [AUTH, null, null]);
    expect(b).toBe(a);
    expect(a(`echo: ${AUTH}`)).toBe('echo: [redacted]');
  });

  it('a rotated credential gets a new scrubber at once: the new secret is redacted, never a stale one used', () => {
    const before = scrubberFor('fwd_cache_2', [AUTH]);
    const rotated = 'Bearer rotated-0123456789-abcdef';
    const after = scrubberFor('fwd_cache_2', [rotated]);
    expect(after).not.toBe(before);
    expect(after(`got ${rotated}`)).toBe('got [redacted]');
    expect(before(`got ${rotated}`)).toContain('rotated-0123456789');
  });

  it('the key cannot be confused by where the secrets split, nor across destinations', () => {
    const one = scrubberFor('fwd_cache_3', ['abcdefgh', 'ijklmnop']);
    const other = scrubberFor('fwd_cache_3', ['abcdefghijklmnop']);
    expect(other).not.toBe(one);
    expect(scrubberFor('fwd_cache_4', ['abcdefgh', 'ijklmnop'])).not.toBe(one);
    expect(scrubberFor('fwd_cache_3', ['abcdefgh', null, 'ijklmnop'])).not.toBe(one);
  });

  it('a change to any one secret of the list, or one more secret, gets a new scrubber that redacts it', () => {
    const base = ['Bearer base-0123456789-abcdef', 'whsec_c2lnbmluZy1zZWNyZXQtMDEyMw==', null, 'client-secret-0123456789'];
    const first = scrubberFor('fwd_cache_5', base);
    for (let i = 0; i < base.length; i++) {
      const changed = [...base];
      changed[i] = `changed-secret-${i}-0123456789`;
      const scrub = scrubberFor('fwd_cache_5', changed);
      expect(scrub).not.toBe(first);
      expect(scrub(`echo changed-secret-${i}-0123456789`)).toBe('echo [redacted]');
      expect(first(`echo changed-secret-${i}-0123456789`)).toContain('changed-secret');
    }
    const token = 'eyJhbGciOiJIUzI1NiJ9.access-token-0123456789';
    const withToken = scrubberFor('fwd_cache_5', [...base, token]);
    expect(withToken).not.toBe(first);
    expect(withToken(`token ${token}`)).toBe('token [redacted]');
    expect(scrubberFor('fwd_cache_5', base)).toBe(first);
  });

  it('keeps its own copy of the list: a caller pushing to its list afterwards never changes what a cached scrubber is found by', () => {
    const list: Array<string | null> = ['Bearer copy-0123456789-abcdef', null];
    const before = scrubberFor('fwd_cache_6', list);
    list.push('Bearer pushed-token-0123456789');
    const after = scrubberFor('fwd_cache_6', list);
    expect(after).not.toBe(before);
    expect(after('got Bearer pushed-token-0123456789')).toBe('got [redacted]');
    expect(scrubberFor('fwd_cache_6', ['Bearer copy-0123456789-abcdef', null])).toBe(before);
  });

  it('keeps a few lists per destination: a token rotated on every request never grows it', () => {
    const held = cachedScrubbers();
    for (let i = 0; i < 50; i++) scrubberFor('fwd_cache_7', ['Bearer static-0123456789', `token-${i}-0123456789abcdef`]);
    expect(cachedScrubbers() - held).toBe(LISTS_PER_DESTINATION);
    // The most recent ones are still there.
    const last = scrubberFor('fwd_cache_7', ['Bearer static-0123456789', 'token-49-0123456789abcdef']);
    expect(scrubberFor('fwd_cache_7', ['Bearer static-0123456789', 'token-49-0123456789abcdef'])).toBe(last);
    expect(cachedScrubbers() - held).toBe(LISTS_PER_DESTINATION);
  });

  it('stays bounded however many destinations and rotations it sees', () => {
    for (let i = 0; i < SCRUBBER_CACHE_SIZE + 500; i++) scrubberFor(`fwd_many_${i}`, [`Splunk token-${i}-0123456789`]);
    expect(cachedScrubbers()).toBe(SCRUBBER_CACHE_SIZE);
    // The most recently used survive.
    const last = scrubberFor(`fwd_many_${SCRUBBER_CACHE_SIZE + 499}`, [`Splunk token-${SCRUBBER_CACHE_SIZE + 499}-0123456789`]);
    expect(scrubberFor(`fwd_many_${SCRUBBER_CACHE_SIZE + 499}`, [`Splunk token-${SCRUBBER_CACHE_SIZE + 499}-0123456789`])).toBe(last);
  });
});
