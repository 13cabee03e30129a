import { describe, expect, it } from 'vitest';
import { ProbeRateLimiter } from './probeRateLimiter.js';

describe('ProbeRateLimiter', () => {
  it('refuses past its limit per key within the window, names the scope, and frees up after it', () => {
    const org = new ProbeRateLimiter(30, 60_000, 'organization');
    const t0 = 1_000_000;
    // 30 tests spread over many destinations of one organization: the organization's own cap holds.
    for (let i = 0; i < 30; i++) org.take('org_a', t0 + i);
    expect(() => org.take('org_a', t0 + 100)).toThrow(/At most 30 test probes per minute per organization; try again in 60 s/);
    // Another organization is not affected; the first one may test again once the window has passed.
    expect(() => org.take('org_b', t0 + 100)).not.toThrow();
    expect(() => org.take('org_a', t0 + 60_001)).not.toThrow();
  });
});
