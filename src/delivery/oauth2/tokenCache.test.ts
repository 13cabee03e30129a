import { describe, expect, it } from 'vitest';
import { REFRESH_AT_FRACTION, TokenCache } from './tokenCache.js';
import type { OAuth2ClientCredentials, TokenResult } from './tokenRequest.js';

const cfg: OAuth2ClientCredentials = {
  tokenUrl: 'https://login.example.com/t/oauth2/v2.0/token',
  clientId: 'client',
  clientSecret: 'secret-1',
  scope: 'https://monitor.azure.com//.default',
  authMethod: 'client_secret_post',
};

/** A token endpoint stand-in that numbers its tokens (the cache is what is under test here). */
function issuer(expiresInS = 3600) {
  let n = 0;
  const fetch = async (): Promise<TokenResult> => {
    n++;
    await Promise.resolve();
    return { ok: true, token: `tok-${n}`, expiresInS, durationMs: 1 };
  };
  return { fetch, count: () => n };
}

describe('TokenCache', () => {
  it('reuses a token until 80% of its lifetime, then fetches a new one before it expires', async () => {
    let now = 1_000_000;
    const cache = new TokenCache(() => now);
    const t = issuer(3600);
    expect(await cache.get('d1', cfg, t.fetch)).toMatchObject({ ok: true, token: 'tok-1' });
    now += 3600 * 1000 * REFRESH_AT_FRACTION - 1;
    expect(await cache.get('d1', cfg, t.fetch)).toMatchObject({ token: 'tok-1', cached: true });
    now += 1;
    expect(await cache.get('d1', cfg, t.fetch)).toMatchObject({ token: 'tok-2' });
    expect(t.count()).toBe(2);
  });

  it('shares one fetch between concurrent callers of a destination', async () => {
    const cache = new TokenCache();
    const t = issuer();
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.get('d1', cfg, t.fetch)));
    expect(new Set(results.map((r) => (r.ok ? r.token : r.error)))).toEqual(new Set(['tok-1']));
    expect(t.count()).toBe(1);
    expect(cache.fetches).toBe(1);
  });

  it('keeps destinations apart, and a changed secret makes the cached token stale', async () => {
    const cache = new TokenCache();
    const t = issuer();
    await cache.get('d1', cfg, t.fetch);
    expect(await cache.get('d2', cfg, t.fetch)).toMatchObject({ token: 'tok-2' });
    expect(await cache.get('d1', { ...cfg, clientSecret: 'secret-2' }, t.fetch)).toMatchObject({ token: 'tok-3' });
  });

  it('invalidate drops only the token that was refused', async () => {
    const cache = new TokenCache();
    const t = issuer();
    await cache.get('d1', cfg, t.fetch);
    cache.invalidate('d1', 'some-older-token');
    expect(await cache.get('d1', cfg, t.fetch)).toMatchObject({ token: 'tok-1', cached: true });
    cache.invalidate('d1', 'tok-1');
    expect(await cache.get('d1', cfg, t.fetch)).toMatchObject({ token: 'tok-2' });
  });

  it('lists every token handed out until it expires, an hour at least: refreshed, refused or bought with a rotated secret', async () => {
    let now = 1_000_000;
    const cache = new TokenCache(() => now);
    const t = issuer(7200);
    await cache.get('d1', cfg, t.fetch);
    now += 7200 * 1000 * REFRESH_AT_FRACTION; // refreshed: tok-1 has 24 minutes left
    await cache.get('d1', cfg, t.fetch);
    cache.invalidate('d1', 'tok-2');
    await cache.get('d1', { ...cfg, clientSecret: 'secret-2' }, t.fetch);
    expect(cache.liveTokens('d1')).toEqual(['tok-1', 'tok-2', 'tok-3']);
    expect(cache.liveTokens('d2')).toEqual([]);
    now += 24 * 60_000; // tok-1 expires now
    expect(cache.liveTokens('d1')).toEqual(['tok-2', 'tok-3']);
    now += 7200 * 1000;
    expect(cache.liveTokens('d1')).toEqual([]);
    // A token said to last a minute (or given no lifetime: five, tokenRequest.ts) is kept an hour:
    // the provider may accept it longer than the cache uses it.
    const short = issuer(60);
    await cache.get('d3', cfg, short.fetch);
    now += 59 * 60_000;
    expect(cache.liveTokens('d3')).toEqual(['tok-1']);
    now += 60_000;
    expect(cache.liveTokens('d3')).toEqual([]);
  });

  it('lists older tokens within 16 KiB: a token endpoint choosing huge tokens cannot make every scrubber huge', async () => {
    const cache = new TokenCache();
    let n = 0;
    const huge = async (): Promise<TokenResult> => ({ ok: true, token: `${++n}`.padEnd(6000, 'x'), expiresInS: 3600, durationMs: 1 });
    for (let i = 0; i < 6; i++) {
      const got = await cache.get('d1', cfg, huge);
      if (got.ok) cache.invalidate('d1', got.token);
    }
    // The newest always, and the two before it (12,000 characters); the third would pass 16,384.
    expect(cache.liveTokens('d1').map((t) => t.replace(/x+$/, ''))).toEqual(['4', '5', '6']);
  });

  it('keeps the newest eight tokens of a destination whose endpoint hands them out faster than they expire', async () => {
    const cache = new TokenCache();
    const t = issuer();
    for (let i = 0; i < 12; i++) {
      const got = await cache.get('d1', cfg, t.fetch);
      if (got.ok) cache.invalidate('d1', got.token);
    }
    expect(cache.liveTokens('d1')).toEqual(Array.from({ length: 8 }, (_, i) => `tok-${i + 5}`));
  });

  it('does not cache a failure', async () => {
    const cache = new TokenCache();
    let calls = 0;
    const failing = async (): Promise<TokenResult> => {
      calls++;
      await Promise.resolve();
      return { ok: false, error: 'refused', durationMs: 1 };
    };
    expect(await cache.get('d1', cfg, failing)).toMatchObject({ ok: false });
    expect(await cache.get('d1', cfg, failing)).toMatchObject({ ok: false });
    expect(calls).toBe(2);
  });
});
