import { describe, expect, it } from 'vitest';
import { secretScrubber } from './scrubSecrets.js';
import {
  cachedScrubberChars,
  cachedScrubbers,
  LISTS_PER_DESTINATION,
  REMEMBERED_MAX_LENGTH,
  REMEMBERED_TEXTS,
  scrubberFor,
  SCRUBBER_CACHE_CHARS,
  SCRUBBER_CACHE_SIZE,
  SCRUBBER_CHARS_PER_ORG,
} from './scrubberCache.js';

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

  // An OAuth2 review: a tenant's token endpoint chooses the token's length, and a scrubber holds
  // every spelling of its secrets (about 16 bytes a character): counted in lists alone, long tokens on
  // a tenant's destinations held hundreds of MiB of the worker's heap.
  it('stays within its characters of secrets however long the secrets; the newest list is kept, a list over the whole budget is used, not held', () => {
    const long = (i: number, n: number) => `${i}-`.padEnd(n, 'x');
    const list = (i: number) => ['client-secret-0123456789', long(i, 16 * 1024), long(i + 1_000_000, 16 * 1024)];
    const rounds = Math.ceil(SCRUBBER_CACHE_CHARS / (32 * 1024)) + 20;
    for (let i = 0; i < rounds; i++) {
      scrubberFor(`fwd_long_${i % 25}`, list(i));
      expect(cachedScrubberChars()).toBeLessThanOrEqual(SCRUBBER_CACHE_CHARS);
    }
    const newest = scrubberFor(`fwd_long_${(rounds - 1) % 25}`, list(rounds - 1));
    expect(scrubberFor(`fwd_long_${(rounds - 1) % 25}`, list(rounds - 1))).toBe(newest);
    const held = cachedScrubbers();
    const huge = ['x'.repeat(SCRUBBER_CHARS_PER_ORG + 1)];
    const once = scrubberFor('fwd_long_huge', huge);
    expect(once(`got ${huge[0]}`)).toBe('got [redacted]');
    expect(cachedScrubbers()).toBe(held);
    expect(cachedScrubberChars()).toBeLessThanOrEqual(SCRUBBER_CACHE_CHARS);
  });

  // A review of the budget above: shared least-recently-used alone, one tenant whose secrets passed it
  // pushed every other tenant's scrubbers out on each of its rounds, and their requests rebuilt them.
  it("an organization past its share evicts its own lists, never another's", () => {
    const victim = ['Bearer victim-0123456789-abcdef', 'whsec_dmljdGltLXNpZ25pbmc='];
    const kept = scrubberFor('fwd_share_victim', victim, 'org_victim');
    const list = (i: number) => [`${i}-`.padEnd(8000, 'h'), `${i}-`.padEnd(8192, 't'), `${i + 1}-`.padEnd(8192, 'o')];
    // A hostile tenant: 100 destinations, each list about 24,000 characters, three rounds.
    for (let round = 0; round < 3; round++) {
      for (let d = 0; d < 100; d++) scrubberFor(`fwd_share_hostile_${d}`, list(d), 'org_hostile');
      expect(scrubberFor('fwd_share_victim', victim, 'org_victim'), `round ${round}`).toBe(kept);
    }
    expect(cachedScrubberChars()).toBeLessThanOrEqual(SCRUBBER_CACHE_CHARS);
  });

  it('answers a text it has seen as a new scrub would: short values with a secret are redacted every time', () => {
    const secret = 'tok_9fK2mQ7xLp4sW8vB';
    const scrub = scrubberFor('fwd_memo_1', [`Bearer ${secret}`]);
    // Short enough to be remembered, seen many times over: a secret in any spelling, a piece of it, none.
    const echoed = [`Bearer ${secret}`, secret, secret.toUpperCase(), encodeURIComponent(`x ${secret}`), secret.slice(0, 14), 'application/json', 'keep-alive'];
    for (const text of echoed) expect(text.length).toBeLessThanOrEqual(REMEMBERED_MAX_LENGTH);
    const fresh = secretScrubber([`Bearer ${secret}`]);
    for (let round = 0; round < 3; round++) {
      for (const text of echoed) {
        expect(scrub(text)).toBe(fresh(text));
        expect(scrub(text)).not.toContain(secret.slice(0, 12));
      }
    }
  });

  it('a cut text is scrubbed as cut even when the same text was seen whole: its end may start a secret', () => {
    const secret = 'cutsecret-0123456789abcdef';
    const scrub = scrubberFor('fwd_memo_2', [secret]);
    const text = `error near ${secret.slice(0, 8)}`;
    expect(scrub(text)).toBe(text);
    expect(scrub(text, true)).toBe('error near [redacted]');
    expect(scrub(text)).toBe(text);
  });

  it('gives, for any run of answers, what a scrubber made anew for each text gives (seeded)', () => {
    const secrets = ['Bearer k3y-Zq7vWd-e3Kp9Lm-Xy0kEn', 'whsec_c2lnbmluZy1zZWNyZXQtMDEyMw=='];
    const scrub = scrubberFor('fwd_memo_3', secrets);
    const fresh = secretScrubber(secrets);
    const parts = [
      'k3y-Zq7vWd-e3Kp9Lm-Xy0kEn',
      'c2lnbmluZy1zZWNyZXQtMDEyMw',
      'Thu, 03 Dec 2026 10:00:00 GMT',
      'application/json',
      '{"ok":true}',
      '%6B%33%79',
      'Zq7vWd-e3Kp9',
      ' ',
      '\\n',
      '"',
      'abc',
    ];
    // A fixed linear congruential sequence: the same texts on every run.
    let seed = 17;
    const next = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    const pool = Array.from({ length: REMEMBERED_TEXTS * 3 }, () => Array.from({ length: 1 + next(3) }, () => parts[next(parts.length)]!).join(''));
    for (let i = 0; i < 2000; i++) {
      const text = pool[next(pool.length)]!;
      const cut = next(5) === 0;
      expect(scrub(text, cut)).toBe(fresh(text, cut));
    }
  });
});
