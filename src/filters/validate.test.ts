import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFilter } from './validate.js';
import { compileFilter } from './compile.js';
import { FILTER_OPERATORS } from './fields.js';
import { MAX_REPORTED_VIOLATIONS } from '../events/violation.js';

describe('checkFilter: only the documented subset reaches sift', () => {
  it('accepts the documented example and every operator in its place', () => {
    expect(checkFilter({ 'aegis.decision': { $in: ['BLOCKED', 'ALLOWED_WITH_MASKING'] }, 'aegis.finding_counts_by_type.SSN': { $gte: 1 } })).toEqual([]);
    expect(
      checkFilter({
        $and: [{ 'aegis.input_size_bytes': { $gt: 10, $lte: 1000 } }, { 'aegis.actor_id': { $exists: true } }],
        $or: [{ 'event.outcome': { $ne: 'success' } }, { 'aegis.destination': { $nin: ['CHAT'] } }, { '@timestamp': { $lt: '2027-01-01' } }],
        'aegis.policy_id': { $eq: 'pol_default' },
        'aegis.decision': { $not: { $in: ['ALLOWED'] } },
        'event.dataset': 'aegis.preflight',
        'aegis.finding_counts_by_type.CUSTOM_TYPE': { $gte: 1 },
      }),
    ).toEqual([]);
    expect(checkFilter(null)).toEqual([]);
  });

  it('never echoes a key that looks like personal data or a secret', () => {
    const v = checkFilter({ 'jane.doe@example.com': 1, AKIAIOSFODNN7EXAMPLE: 2, 'aegis.input': 3 });
    expect(v.map((x) => x.path)).toEqual(['/filter/<redacted-property-name>', '/filter/<redacted-property-name>', '/filter/aegis.input']);
  });

  it('refuses what JSON cannot carry: functions, RegExps, null-prototype objects', () => {
    expect(checkFilter({ 'aegis.decision': () => true })[0]?.message).toBe('is not a JSON value');
    expect(checkFilter({ 'aegis.summary': /SSN/ })[0]?.path).toBe('/filter/aegis.summary');
    expect(checkFilter(Object.create(null) as Record<string, unknown>)).toHaveLength(1);
  });

  it('says a bound too large for a number (1e400, parsed as Infinity) is out of range, not of the wrong type', () => {
    expect(checkFilter(JSON.parse('{"aegis.input_size_bytes": {"$gte": 1e400}}') as Record<string, unknown>)).toEqual([
      { path: '/filter/aegis.input_size_bytes/$gte', message: 'is out of range: a number must be finite (at most about 1.8e308)' },
    ]);
  });

  it('refuses any other $ key at any depth, naming where (fixed seed)', () => {
    const allowed = new Set<string>(FILTER_OPERATORS);
    const op = fc.stringMatching(/^\$[a-zA-Z]{1,12}$/).filter((k) => !allowed.has(k));
    fc.assert(
      fc.property(op, fc.nat(3), (bad, depth) => {
        let f: Record<string, unknown> = { 'aegis.decision': { [bad]: 1 } };
        let path = `/filter/aegis.decision/${bad}`;
        for (let i = 0; i < depth; i++) {
          f = { $or: [{ 'aegis.policy_id': 'p' }, f] };
          path = path.replace('/filter', '/filter/$or/1');
        }
        const v = checkFilter(f);
        expect(v).toContainEqual({ path, message: expect.stringMatching(/not a supported operator/) });
      }),
      { seed: 12, numRuns: 200 },
    );
  });

  it('what it accepts, sift compiles with the allowed operations only (fixed seed)', () => {
    // Each field with the values it can hold (validateValues.test.ts covers the ones it cannot).
    const cond = (scalar: fc.Arbitrary<unknown>, bound: fc.Arbitrary<unknown>) =>
      fc.oneof(
        scalar,
        fc.record({ $in: fc.array(scalar, { maxLength: 3 }) }, { noNullPrototype: true }),
        fc.record({ $gte: bound }, { noNullPrototype: true }),
        fc.record({ $exists: fc.boolean() }, { noNullPrototype: true }),
        fc.record({ $not: fc.record({ $eq: scalar }, { noNullPrototype: true }) }, { noNullPrototype: true }),
      );
    const count = cond(fc.oneof(fc.integer(), fc.constant(null)), fc.integer());
    const query = fc.record(
      {
        'aegis.decision': cond(fc.constantFrom('ALLOWED', 'BLOCKED', null), fc.string({ maxLength: 10 })),
        'aegis.input_size_bytes': count,
        'aegis.finding_counts_by_type.SSN': count,
        'event.type': cond(fc.constantFrom('allowed', 'blocked', 'change'), fc.string({ maxLength: 10 })),
        'aegis.actor_id': cond(fc.oneof(fc.string({ maxLength: 10 }), fc.constant(null)), fc.string({ maxLength: 10 })),
        '@timestamp': cond(
          fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
          fc.constantFrom('2026-12-03T10:00:00-05:00', '2026-12-03t00:00:00z'),
        ),
      },
      { requiredKeys: [], noNullPrototype: true },
    );
    const event = {
      '@timestamp': '2026-12-03T11:00:00.000000+00:00',
      event: { type: ['blocked'] },
      aegis: { decision: 'BLOCKED', input_size_bytes: 10, finding_counts_by_type: { SSN: 1 } },
    };
    fc.assert(
      fc.property(query, (q) => {
        expect(checkFilter(q)).toEqual([]);
        expect(typeof compileFilter(q)(event)).toBe('boolean');
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('stops at the depth limit without walking further', () => {
    let f: Record<string, unknown> = { 'aegis.decision': 'BLOCKED' };
    for (let i = 0; i < 5000; i++) f = { $and: [f] };
    const v = checkFilter(f);
    expect(v).toHaveLength(1);
    expect(v[0]!.message).toBe('nests deeper than 8 levels');
  });
});

// A refusal lists MAX_REPORTED_VIOLATIONS problems and says more follow (errors.ts). Each unknown
// key refused costs a privacy check of its name: a filter of ten thousand of them (750 KB, within
// the body limits) held the API's event loop for a quarter of a second, four at a time for seconds.
describe('checkFilter over a filter of many faults', () => {
  it('stops walking one past what a refusal lists, wherever the faults are', () => {
    const unknownKeys = Object.fromEntries(Array.from({ length: 9990 }, (_, i) => [`k${i}_a1b2c3d4e5f60718293a4b5c6d7e8f90`, 1]));
    const first = checkFilter(unknownKeys);
    expect(first).toHaveLength(MAX_REPORTED_VIOLATIONS + 1);
    expect(first[0]).toEqual({ path: '/filter/k0_a1b2c3d4e5f60718293a4b5c6d7e8f90', message: expect.stringContaining('is not a field of the wire event') });
    const badValues = { 'aegis.decision': { $in: Array.from({ length: 100 }, () => 7) } };
    expect(checkFilter(badValues)).toHaveLength(MAX_REPORTED_VIOLATIONS + 1);
    const nested = { $or: Array.from({ length: 100 }, (_, i) => ({ [`unknown.k${i}`]: 1 })) };
    expect(checkFilter(nested)).toHaveLength(MAX_REPORTED_VIOLATIONS + 1);
    // Few faults: every one, as before.
    expect(checkFilter({ a: 1, b: 2, 'aegis.decision': 'MAYBE' })).toHaveLength(3);
  });
});
