import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecencyMap } from './recencyMap.js';

/** The order a Map keeps when every use deletes the key and sets it again: what RecencyMap replaces. */
class ReferenceOrder {
  readonly map = new Map<string, number>();
  use(k: string): number | undefined {
    const v = this.map.get(k);
    if (v === undefined) return undefined;
    this.map.delete(k);
    this.map.set(k, v);
    return v;
  }
  set(k: string, v: number): void {
    this.map.delete(k);
    this.map.set(k, v);
  }
}

type Op = { op: 'use' | 'peek' | 'delete'; key: string } | { op: 'set'; key: string; value: number };

describe('RecencyMap', () => {
  it('deleteOldest forgets the least recently used entry, and nothing when empty', () => {
    const m = new RecencyMap<string, number>();
    m.deleteOldest();
    expect(m.size).toBe(0);
    m.set('a', 1);
    m.set('b', 2);
    m.use('a');
    m.deleteOldest();
    expect([...m.entries()]).toEqual([['a', 1]]);
    m.deleteOldest();
    expect(m.size).toBe(0);
    expect(m.oldestEntry()).toBeUndefined();
  });

  it('orders entries by their last use or set, least recent first; peek does not count as a use', () => {
    const m = new RecencyMap<string, number>();
    m.set('a', 1);
    m.set('b', 2);
    m.set('c', 3);
    expect(m.use('a')).toBe(1);
    expect(m.peek('b')).toBe(2);
    expect([...m.entries()]).toEqual([
      ['b', 2],
      ['c', 3],
      ['a', 1],
    ]);
    m.set('c', 30);
    expect(m.oldestEntry()).toEqual(['b', 2]);
    expect(m.values()).toEqual([2, 1, 30]);
    expect(m.use('missing')).toBeUndefined();
    expect(m.delete('missing')).toBe(false);
    expect(m.size).toBe(3);
  });

  it('lets a sweep delete the entry it was just handed', () => {
    const m = new RecencyMap<string, number>();
    for (const [i, k] of ['a', 'b', 'c', 'd', 'e'].entries()) m.set(k, i);
    const seen: string[] = [];
    for (const [k, v] of m.entries()) {
      seen.push(k);
      if (v % 2 === 0) m.delete(k);
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect([...m.entries()].map(([k]) => k)).toEqual(['b', 'd']);
    m.clear();
    expect(m.size).toBe(0);
    expect(m.oldestEntry()).toBeUndefined();
    expect([...m.entries()]).toEqual([]);
  });

  it('keeps the same order and values as a Map whose uses delete and set again, for any sequence', () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constantFrom('use' as const, 'peek' as const, 'delete' as const), key }),
      fc.record({ op: fc.constant('set' as const), key, value: fc.integer() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const m = new RecencyMap<string, number>();
        const ref = new ReferenceOrder();
        for (const o of ops) {
          if (o.op === 'set') {
            m.set(o.key, o.value);
            ref.set(o.key, o.value);
          } else if (o.op === 'use') expect(m.use(o.key)).toBe(ref.use(o.key));
          else if (o.op === 'peek') expect(m.peek(o.key)).toBe(ref.map.get(o.key));
          else expect(m.delete(o.key)).toBe(ref.map.delete(o.key));
          expect([...m.entries()]).toEqual([...ref.map.entries()]);
          expect(m.size).toBe(ref.map.size);
          expect(m.oldestEntry()).toEqual(ref.map.entries().next().value);
        }
      }),
    );
  });
});
