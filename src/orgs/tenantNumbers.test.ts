import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NUMBER_LIMIT, readNumber, readNumbers, TenantNumbers } from './tenantNumbers.js';

const keyOf = (label: string) => createHash('sha256').update(label).digest();
const jobsA = new TenantNumbers(keyOf('org a'), 'job');
const jobsB = new TenantNumbers(keyOf('org b'), 'job');
const attemptsA = new TenantNumbers(keyOf('org a'), 'attempt');
const id = fc.integer({ min: 1, max: NUMBER_LIMIT - 1 });

describe('tenant numbers for server-wide row ids', () => {
  it('map every id to a number in [1, 2^52) that reads back to it', () => {
    fc.assert(
      fc.property(id, (n) => {
        const shown = jobsA.show(n);
        expect(Number.isSafeInteger(shown) && shown >= 1 && shown < NUMBER_LIMIT).toBe(true);
        expect(jobsA.read(shown)).toBe(n);
        expect(jobsA.show(jobsA.read(n)!)).toBe(n);
      }),
      { seed: 20261206, numRuns: 2000 },
    );
  });

  it('number a page at once as one by one', () => {
    fc.assert(
      fc.property(fc.array(id, { maxLength: 50 }), (ids) => {
        expect(jobsA.showAll(ids)).toEqual(ids.map((n) => jobsA.show(n)));
      }),
      { seed: 20261206, numRuns: 200 },
    );
    expect(() => jobsA.showAll([1, 0])).toThrow(/out of the numbered range/);
  });

  it('read many numbers at once as one by one, a number never given out read as none in its place', () => {
    const shown = fc.oneof(id, fc.constantFrom(0, -1, NUMBER_LIMIT, 1.5));
    fc.assert(
      fc.property(fc.array(shown, { maxLength: 50 }), (numbers) => {
        expect(jobsA.readAll(numbers)).toEqual(numbers.map((n) => jobsA.read(n)));
      }),
      { seed: 20261206, numRuns: 200 },
    );
    expect(() => readNumbers(jobsA, [jobsA.show(5), 0], 'job_ids')).toThrow(/^job_ids: /);
    expect(readNumbers(jobsA, [jobsA.show(5), jobsA.show(9)], 'job_ids')).toEqual([5, 9]);
  });

  it('show consecutive ids as unrelated numbers, so differences reveal no count', () => {
    const first = 1_000_000;
    const shown = Array.from({ length: 200 }, (_, i) => jobsA.show(first + i));
    expect(new Set(shown).size).toBe(shown.length);
    // Rows numbered one after another by the server: their numbers are neither ordered nor close.
    const ascending = shown.filter((n, i) => i > 0 && n > shown[i - 1]!).length;
    expect(ascending).toBeGreaterThan(60);
    expect(ascending).toBeLessThan(140);
    const closeSteps = shown.filter((n, i) => i > 0 && Math.abs(n - shown[i - 1]!) < 1_000_000).length;
    expect(closeSteps).toBeLessThan(5);
    // Small ids (a new deployment) are spread over the whole range too.
    expect(Math.max(...[1, 2, 3, 4, 5].map((n) => jobsA.show(n)))).toBeGreaterThan(2 ** 40);
  });

  it("differ between organizations and between kinds of row, so one's number opens nothing of another's", () => {
    const ids = Array.from({ length: 100 }, (_, i) => 42 + i * 7919);
    for (const n of ids) {
      expect(jobsB.show(n)).not.toBe(jobsA.show(n));
      expect(attemptsA.show(n)).not.toBe(jobsA.show(n));
      // A's number read by B stands for another row (B's queries are bounded to B anyway).
      expect(jobsB.read(jobsA.show(n))).not.toBe(n);
    }
  });

  it('are the same for the same key whenever asked (a client pages and replays with them later)', () => {
    const again = new TenantNumbers(Buffer.from(keyOf('org a')), 'job');
    for (const n of [1, 2, 3, 1234567, NUMBER_LIMIT - 1]) expect(again.show(n)).toBe(jobsA.show(n));
  });

  it('read no row for a number never given out, and refuse it by field name', () => {
    for (const n of [0, -1, NUMBER_LIMIT, Number.MAX_SAFE_INTEGER, 1.5, Number.NaN]) expect(jobsA.read(n)).toBeNull();
    expect(() => readNumber(jobsA, NUMBER_LIMIT, 'job_ids')).toThrow(/job_ids: is not a number this API gave out/);
    expect(readNumber(jobsA, jobsA.show(77), 'job_ids')).toBe(77);
  });

  it('refuse to number an id outside the range rather than wrap it onto another', () => {
    for (const n of [0, NUMBER_LIMIT, 2.5]) expect(() => jobsA.show(n)).toThrow(/out of the numbered range/);
  });
});
