import { describe, expect, it } from 'vitest';
import { StoredJson, storedJsonText } from './storedJsonPage.js';

// storedJsonText writes an answer by hand so that stored texts are spliced in: everywhere else its text
// must be JSON.stringify's, or the errors and fields of the routes using it would change.
describe('storedJsonText', () => {
  it("is JSON.stringify's text for any answer without a stored text", () => {
    const sparse: unknown[] = [1];
    sparse[3] = 'x'; // holes, written null
    const values: unknown[] = [
      { error: { code: 'not_found', message: 'No destination "fwd_x".', details: undefined } },
      { events: [], total: 0, next_before_id: null },
      { a: [1, undefined, () => 1, Symbol('s')], b: undefined, c: new Date(0), d: { toJSON: () => 'j' } },
      sparse,
      Object.assign(Object.create(null) as Record<string, unknown>, { '10': 'n', z: 'é\u2028"\\' }),
      'text',
      42,
      null,
      [[[]]],
    ];
    for (const v of values) expect(storedJsonText(v)).toBe(JSON.stringify(v));
  });

  it('writes a stored text as it is, wherever it stands', () => {
    const stored = '{"n" : 1.50, "s": "caf\\u00e9"}';
    const page = { events: [new StoredJson(stored), new StoredJson('[]')], total: 2, next_before_id: null };
    expect(storedJsonText(page)).toBe(`{"events":[${stored},[]],"total":2,"next_before_id":null}`);
    expect(JSON.parse(storedJsonText(page))).toEqual({ events: [{ n: 1.5, s: 'café' }, []], total: 2, next_before_id: null });
  });
});
