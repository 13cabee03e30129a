import { describe, expect, it } from 'vitest';
import { newEventId, newId, randomString } from './ids.js';

/** A source that hands out 0, 1, ..., 255, 0, 1, ...: every byte value equally often. */
function counting(): (n: number) => Uint8Array {
  let next = 0;
  return (n) => Uint8Array.from({ length: n }, () => next++ % 256);
}

describe('randomString', () => {
  it('draws every character of the alphabet equally often from evenly spread bytes', () => {
    for (const alphabet of ['abcdefghijklmnopqrstuvwxyz0123456789', 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789']) {
      // 256 - 256 % length bytes are kept per 256 drawn: each character comes length / kept times per round.
      const kept = 256 - (256 % alphabet.length);
      const text = randomString(kept * 10, alphabet, counting());
      const counts = new Map<string, number>();
      for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
      expect(counts.size).toBe(alphabet.length);
      expect(new Set(counts.values())).toEqual(new Set([(kept / alphabet.length) * 10]));
    }
  });

  it('draws again past the last whole multiple of the alphabet', () => {
    // 255 is past 252 (7 x 36) and so dropped; 3 then maps to "d", not to "d" twice as often.
    const bytes = [255, 254, 253, 252, 3];
    let next = 0;
    const source = (n: number) => Uint8Array.from({ length: n }, () => bytes[next++ % bytes.length]!);
    expect(randomString(2, 'abcdefghijklmnopqrstuvwxyz0123456789', source)).toBe('dd');
  });
});

describe('ids', () => {
  it('makes resource ids of lower-case letters and digits and event ids of lower-case letters', () => {
    const ids = Array.from({ length: 500 }, () => [newId('org'), newId('fwd'), newId('rpl'), newEventId('pflt_'), newEventId('cfg_')]);
    for (const [org, fwd, rpl, pflt, cfg] of ids) {
      expect(org).toMatch(/^org_[a-z0-9]{20}$/);
      expect(fwd).toMatch(/^fwd_[a-z0-9]{20}$/);
      expect(rpl).toMatch(/^rpl_[a-z0-9]{20}$/);
      expect(pflt).toMatch(/^pflt_[a-z]{28}$/);
      expect(cfg).toMatch(/^cfg_[a-z]{24}$/);
    }
    expect(new Set(ids.flat()).size).toBe(2500);
  });

  it('spells event ids with lower-case letters only: no separator, digit or capital a detector could start at', () => {
    const source = counting();
    const seen = new Set(Array.from({ length: 100 }, () => newEventId('pflt_', source).slice(5)).join(''));
    expect([...seen].sort().join('')).toBe('abcdefghijklmnopqrstuvwxyz');
  });
});
