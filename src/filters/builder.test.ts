import { describe, expect, it } from 'vitest';
import { builderToFilter, filterToBuilder, EMPTY_BUILDER } from './builder.js';
import { checkFilter } from './validate.js';
import { compileFilter, FILTER_CACHE_CHARS, FILTER_CHARS_PER_ORG, FilterCache } from './compile.js';

describe('the dashboard filter builder', () => {
  it('nothing ticked is no filter (every event)', () => {
    expect(builderToFilter(EMPTY_BUILDER)).toBeNull();
    expect(filterToBuilder(null)).toEqual(EMPTY_BUILDER);
  });

  it('writes a valid filter that matches what the ticks say, in a stable order', () => {
    const f = builderToFilter({ decisions: ['BLOCKED', 'ALLOWED_WITH_MASKING'], sourceTypes: [], findingTypes: ['EMAIL', 'SSN'] });
    expect(f).toEqual({
      'aegis.decision': { $in: ['ALLOWED_WITH_MASKING', 'BLOCKED'] },
      $or: [{ 'aegis.finding_counts_by_type.SSN': { $gte: 1 } }, { 'aegis.finding_counts_by_type.EMAIL': { $gte: 1 } }],
    });
    expect(checkFilter(f)).toEqual([]);
    const match = compileFilter(f);
    expect(match({ aegis: { decision: 'BLOCKED', finding_counts_by_type: { EMAIL: 3 } } })).toBe(true);
    expect(match({ aegis: { decision: 'BLOCKED', finding_counts_by_type: { AWS_ACCESS_KEY: 1 } } })).toBe(false);
    expect(match({ aegis: { decision: 'ALLOWED', finding_counts_by_type: { SSN: 1 } } })).toBe(false);
  });

  it('opens a filter it wrote in the builder, and anything else not at all', () => {
    const states = [
      { decisions: ['BLOCKED'], sourceTypes: [], findingTypes: [] },
      { decisions: [], sourceTypes: ['sdk', 'desktop_agent'], findingTypes: ['SSN'] },
      { decisions: ['ALLOWED'], sourceTypes: ['api'], findingTypes: ['SSN', 'JWT'] },
    ];
    for (const s of states) {
      const f = builderToFilter(s)!;
      expect(builderToFilter(filterToBuilder(f)!)).toEqual(f);
      // Read back from the database (jsonb keeps keys in an order of its own): the same filter, the
      // same ticks (a filters review: it opened as JSON after saving).
      const readBack = Object.fromEntries(Object.entries(f).reverse());
      expect(filterToBuilder(readBack), JSON.stringify(readBack)).toEqual(filterToBuilder(f));
    }
    expect(filterToBuilder({ 'aegis.decision': 'BLOCKED' })).toBeNull();
    expect(filterToBuilder({ 'aegis.decision': { $in: ['BLOCKED'] }, 'event.dataset': 'aegis.preflight' })).toBeNull();
    expect(filterToBuilder({ 'aegis.finding_counts_by_type.SSN': { $gte: 2 } })).toBeNull();
    expect(filterToBuilder({ 'aegis.decision': { $in: ['BLOCKED', 'MAYBE'] } })).toBeNull();
    // Same ticks in another order: the builder would rewrite it, so it is not shown there.
    expect(filterToBuilder({ 'aegis.decision': { $in: ['BLOCKED', 'ALLOWED'] } })).toBeNull();
  });
});

// A filters review: a compiled filter takes about sixty times its JSON, and a cache bounded in count
// alone let creating and deleting destinations with filters at their limits fill the API's heap.
describe('FilterCache', () => {
  it('stays within its characters of filter JSON, oldest first, and a forgotten filter is gone', () => {
    const cache = new FilterCache();
    const big = (i: number) => ({ 'aegis.input_size_bytes': { $nin: Array.from({ length: 400 }, (_, k) => k * 1000 + i) } });
    const chars = JSON.stringify(big(0)).length;
    const n = Math.ceil(FILTER_CACHE_CHARS / chars) + 50;
    for (let i = 0; i < n; i++) {
      const match = cache.get(`d${i}`, 'v1', big(i));
      expect(match({ aegis: { input_size_bytes: i } })).toBe(false);
      expect(cache.size.chars).toBeLessThanOrEqual(FILTER_CACHE_CHARS);
    }
    expect(cache.size.entries).toBeLessThan(n);
    const last = cache.get(`d${n - 1}`, 'v1', big(n - 1));
    expect(cache.get(`d${n - 1}`, 'v1', big(n - 1))).toBe(last);
    cache.forget(`d${n - 1}`);
    expect(cache.get(`d${n - 1}`, 'v1', big(n - 1))).not.toBe(last);
  });

  // A second look at the bound: shared oldest-first alone, five organizations with 25 filters at their
  // limits made every routing round recompile every filter, about 9 ms of the event loop a request.
  it("an organization past its share evicts its own filters, never another's; a filter in use stays", () => {
    const cache = new FilterCache();
    const big = (i: number) => ({ 'aegis.input_size_bytes': { $nin: Array.from({ length: 400 }, (_, k) => k * 1000 + i) } });
    const small = { 'aegis.decision': 'BLOCKED' };
    const kept = cache.get('victim', 'v1', small, 'org_victim');
    // Enough to pass the whole cache, not only a share.
    const perOrg = Math.ceil(FILTER_CACHE_CHARS / JSON.stringify(big(0)).length) + 20;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < perOrg; i++) cache.get(`hostile_${i}`, 'v1', big(i), 'org_hostile');
      expect(cache.get('victim', 'v1', small, 'org_victim'), `round ${round}`).toBe(kept);
    }
    expect(cache.size.chars).toBeLessThanOrEqual(FILTER_CHARS_PER_ORG + JSON.stringify(small).length);
  });
});
