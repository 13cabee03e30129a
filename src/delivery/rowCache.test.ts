import { describe, expect, it } from 'vitest';
import type { VersionedDestinationRow } from '../destinations/row.js';
import { DestinationRowCache } from './rowCache.js';

// Only the fields the cache reads matter here; the rest of a row is carried as is.
const row = (orgId: string, id: string, version: string, url = `https://siem.example.com/${id}`): VersionedDestinationRow =>
  ({ org_id: orgId, id, row_version: version, url }) as VersionedDestinationRow;

describe('DestinationRowCache', () => {
  it('hands a row out for its version only; a newer one replaces it', () => {
    const cache = new DestinationRowCache();
    const v1 = row('org_a', 'dst_1', '2026-01-02T03:04:05.000001');
    cache.set(v1);
    expect(cache.get('org_a', 'dst_1', '2026-01-02T03:04:05.000001')).toEqual(v1);
    // One microsecond apart is another version: the runner reads the row again.
    expect(cache.get('org_a', 'dst_1', '2026-01-02T03:04:05.000002')).toBeNull();
    const v2 = row('org_a', 'dst_1', '2026-01-02T03:04:05.000002', 'https://siem.example.com/moved');
    cache.set(v2);
    expect(cache.size).toBe(1);
    expect(cache.get('org_a', 'dst_1', '2026-01-02T03:04:05.000002')).toEqual(v2);
    expect(cache.get('org_a', 'dst_1', '2026-01-02T03:04:05.000001')).toBeNull();
  });

  it('keys by organization and id: a row is never handed out for another organization', () => {
    const cache = new DestinationRowCache();
    const version = '2026-01-02T03:04:05.000000';
    const ours = row('org_a', 'dst_1', version);
    cache.set(ours);
    expect(cache.get('org_b', 'dst_1', version)).toBeNull();
    // Ids that would run together in a naive joined key stay apart.
    expect(cache.get('org_a', 'dst_', version)).toBeNull();
    const theirs = row('org_b', 'dst_1', version);
    cache.set(theirs);
    expect(cache.get('org_a', 'dst_1', version)).toEqual(ours);
    expect(cache.get('org_b', 'dst_1', version)).toEqual(theirs);
  });

  it('is bounded, and lets the least recently used row go first', () => {
    const cache = new DestinationRowCache(3);
    const v = '2026-01-02T03:04:05.000000';
    for (const id of ['d1', 'd2', 'd3']) cache.set(row('o', id, v));
    expect(cache.get('o', 'd1', v)).not.toBeNull(); // d1 used: d2 is now the oldest
    cache.set(row('o', 'd4', v));
    expect(cache.size).toBe(3);
    expect(cache.get('o', 'd2', v)).toBeNull();
    for (const id of ['d1', 'd3', 'd4']) expect(cache.get('o', id, v), id).not.toBeNull();
    for (let i = 0; i < 100; i++) cache.set(row('o', `x${i}`, v));
    expect(cache.size).toBe(3);
  });

  it("holds no filter: a runner never reads it, and thousands of 16 KB filters would fill the worker's heap", () => {
    const cache = new DestinationRowCache();
    const v = '2026-01-02T03:04:05.000000';
    const filtered = { ...row('o', 'd1', v), filter: { 'event.action': { $in: Array.from({ length: 500 }, (_, i) => `action_${i}`) } } };
    const held = cache.set(filtered);
    expect(held).not.toHaveProperty('filter');
    expect(cache.get('o', 'd1', v)).not.toHaveProperty('filter');
    expect(cache.get('o', 'd1', v)).toMatchObject({ org_id: 'o', id: 'd1', url: filtered.url, row_version: v });
  });

  it('forgets a destination that is gone', () => {
    const cache = new DestinationRowCache();
    const v = '2026-01-02T03:04:05.000000';
    cache.set(row('o', 'd1', v));
    cache.forget('o', 'd1');
    expect(cache.get('o', 'd1', v)).toBeNull();
    expect(cache.size).toBe(0);
    expect(() => new DestinationRowCache(0)).toThrow();
  });
});
