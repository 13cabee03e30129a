import { describe, expect, it } from 'vitest';
import { REFRESH_AT_FRACTION, REFUSAL_FETCH_EVERY_MS, REFUSAL_FETCHES, TokenCache } from './tokenCache.js';
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

  it('lists older tokens within 8 KiB: a token endpoint choosing huge tokens cannot make every scrubber huge', async () => {
    let now = 1_000_000;
    const cache = new TokenCache(() => now);
    let n = 0;
    const huge = async (): Promise<TokenResult> => ({ ok: true, token: `${++n}`.padEnd(3000, 'x'), expiresInS: 3600, durationMs: 1 });
    for (let i = 0; i < 6; i++) {
      const got = await cache.get('d1', cfg, huge);
      if (got.ok) cache.invalidate('d1', got.token);
      now += REFUSAL_FETCH_EVERY_MS;
    }
    // The newest always, and the two before it (6,000 characters); the third would pass 8,192.
    expect(cache.liveTokens('d1').map((t) => t.replace(/x+$/, ''))).toEqual(['4', '5', '6']);
  });

  it('keeps the newest eight tokens of a destination whose endpoint hands them out faster than they expire', async () => {
    let now = 1_000_000;
    const cache = new TokenCache(() => now);
    const t = issuer();
    for (let i = 0; i < 12; i++) {
      const got = await cache.get('d1', cfg, t.fetch);
      if (got.ok) cache.invalidate('d1', got.token);
      now += REFUSAL_FETCH_EVERY_MS;
    }
    expect(cache.liveTokens('d1')).toEqual(Array.from({ length: 8 }, (_, i) => `tok-${i + 5}`));
  });

  // An OAuth2 review: a receiver refusing every token it has seen, beside an endpoint minting a new
  // one each time, had every request fetch a token (and succeed on the resend), costing the shared
  // worker new scrubbers each time.
  it('after refusals, fetches a few tokens at once, then one every 30 s; other destinations and a new secret are not held back', async () => {
    let now = 1_000_000;
    const cache = new TokenCache(() => now);
    const t = issuer();
    const refuseNext = async (key = 'd1', c = cfg) => {
      const got = await cache.get(key, c, t.fetch);
      if (got.ok) cache.invalidate(key, got.token);
      return got;
    };
    await refuseNext(); // the first token: no refusal before it
    for (let i = 0; i < REFUSAL_FETCHES; i++) expect(await refuseNext()).toMatchObject({ ok: true });
    expect(t.count()).toBe(1 + REFUSAL_FETCHES);
    const held = await cache.get('d1', cfg, t.fetch);
    expect(held).toMatchObject({ ok: false, refusedRecently: true, durationMs: 0 });
    expect(held.ok ? '' : held.error).toMatch(/refused the last access tokens \(401\); a new one is fetched in 30 s/);
    expect(t.count()).toBe(1 + REFUSAL_FETCHES);
    // Another destination, and this one with a rotated secret, fetch at once.
    expect(await cache.get('d2', cfg, t.fetch)).toMatchObject({ ok: true });
    expect(await cache.get('d1', { ...cfg, clientSecret: 'secret-2' }, t.fetch)).toMatchObject({ ok: true });
    // One more every 30 s for a destination refused over and over.
    const fetched = t.count();
    for (let minute = 0; minute < 10; minute++) {
      for (let i = 0; i < 6; i++) {
        now += 10_000;
        await refuseNext('d1', { ...cfg, clientSecret: 'secret-2' });
      }
    }
    // Ten minutes: twenty refills, and the bucket's own three at most.
    expect(t.count() - fetched).toBeGreaterThanOrEqual(19);
    expect(t.count() - fetched).toBeLessThanOrEqual(REFUSAL_FETCHES + 20);
    // A token used a while, then refused, is replaced at once again once the bucket has refilled.
    now += REFUSAL_FETCHES * REFUSAL_FETCH_EVERY_MS;
    expect(await cache.get('d1', { ...cfg, clientSecret: 'secret-2' }, t.fetch)).toMatchObject({ ok: true });
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
