import { describe, expect, it } from 'vitest';
import { cachedScrubbers, scrubberFor, SCRUBBER_CACHE_SIZE } from './scrubberCache.js';

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

  it('stays bounded however many destinations and rotations it sees', () => {
    for (let i = 0; i < SCRUBBER_CACHE_SIZE + 500; i++) scrubberFor(`fwd_many_${i}`, [`Splunk token-${i}-0123456789`]);
    expect(cachedScrubbers()).toBe(SCRUBBER_CACHE_SIZE);
    // The most recently used survive.
    const last = scrubberFor(`fwd_many_${SCRUBBER_CACHE_SIZE + 499}`, [`Splunk token-${SCRUBBER_CACHE_SIZE + 499}-0123456789`]);
    expect(scrubberFor(`fwd_many_${SCRUBBER_CACHE_SIZE + 499}`, [`Splunk token-${SCRUBBER_CACHE_SIZE + 499}-0123456789`])).toBe(last);
  });
});
