import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { pageLimit, pageSize } from './common.js';

describe('pageLimit: a page size from 1 to max, as digits', () => {
  it.each([100, 500, 1000])('accepts exactly 1 to %i', (max) => {
    // The schema as the OpenAPI document and the validator read it.
    const schema = JSON.parse(JSON.stringify(pageLimit(max, 10, 'Things per page'))) as { pattern: string; description: string };
    const pattern = new RegExp(schema.pattern);
    const accepted: number[] = [];
    for (let n = 0; n <= max * 10 + 1; n++) if (pattern.test(String(n))) accepted.push(n);
    expect(accepted).toEqual(Array.from({ length: max }, (_, i) => i + 1));
    for (const text of ['', '01', '-1', '+1', '1.0', ' 1', '1e2', `${max}0`]) expect(pattern.test(text)).toBe(false);
    expect(schema.description).toBe(`Things per page, 1 to ${max} (default 10).`);
  });

  it('states the default once: in the schema, where OpenAPI shows it and pageSize reads it', () => {
    const schema = pageLimit(500, 50, 'Entries per page');
    expect(JSON.parse(JSON.stringify(schema))).toMatchObject({ default: '50' });
    expect(pageSize(undefined, schema)).toBe(50);
    expect(pageSize('7', schema)).toBe(7);
    expect(() => pageSize(undefined, Type.Optional(Type.String()))).toThrow(/not a pageLimit/);
  });

  it('refuses a maximum its pattern cannot state', () => {
    expect(() => pageLimit(250, 10, 'Things')).toThrow(/digit followed by zeros/);
    expect(() => pageLimit(9, 1, 'Things')).toThrow(/digit followed by zeros/);
  });
});
