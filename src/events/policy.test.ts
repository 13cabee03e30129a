import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, evaluatePolicy, summarize } from './policy.js';
import { FINDING_TYPES, PERSONAL_DATA_TYPES, SECRET_TYPES } from './findings.js';

describe('default policy', () => {
  it('is pol_default v1.0', () => {
    expect(DEFAULT_POLICY.id).toBe('pol_default');
    expect(DEFAULT_POLICY.version).toBe('v1.0');
  });

  it('allows when nothing is detected', () => {
    expect(evaluatePolicy({})).toEqual({ decision: 'ALLOWED', summary: 'No sensitive data detected.', policy_id: 'pol_default', policy_version: 'v1.0' });
    expect(evaluatePolicy({ SSN: 0 }).decision).toBe('ALLOWED');
  });

  it.each(PERSONAL_DATA_TYPES)('masks personal data: %s', (t) => {
    const r = evaluatePolicy({ [t]: 2 });
    expect(r.decision).toBe('ALLOWED_WITH_MASKING');
    expect(r.summary).toBe(`Detected ${t}; masked.`);
  });

  it.each(SECRET_TYPES)('blocks secrets: %s', (t) => {
    const r = evaluatePolicy({ [t]: 1 });
    expect(r.decision).toBe('BLOCKED');
    expect(r.summary).toBe(`Detected ${t}; blocked.`);
  });

  it('reads like the product page and lists types in a stable order', () => {
    expect(evaluatePolicy({ SSN: 1 }).summary).toBe('Detected SSN; masked.');
    expect(evaluatePolicy({ EMAIL: 2, SSN: 1 }).summary).toBe('Detected SSN, EMAIL; masked.');
    expect(evaluatePolicy({ AWS_ACCESS_KEY: 1 }).summary).toBe('Detected AWS_ACCESS_KEY; blocked.');
    const mixed = evaluatePolicy({ PRIVATE_KEY: 1, EMAIL: 3, AWS_ACCESS_KEY: 1 });
    expect(mixed.decision).toBe('BLOCKED');
    expect(mixed.summary).toBe('Detected EMAIL, AWS_ACCESS_KEY, PRIVATE_KEY; blocked.');
  });

  it('names types only, never counts or values', () => {
    const all = Object.fromEntries(FINDING_TYPES.map((t) => [t, 7]));
    expect(evaluatePolicy(all).summary).not.toMatch(/\d/);
    expect(summarize('ALLOWED', [])).toBe('No sensitive data detected.');
  });
});
