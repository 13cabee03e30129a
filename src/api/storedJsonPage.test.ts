import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { StoredJson, storedJsonSerializerCompiler, storedJsonText } from './storedJsonPage.js';

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

  it('writes only the fields its response schema declares, as every other route answers', () => {
    // A field a query returns or a spread adds (an internal id, a cut flag) is no field of the answer.
    const Item = Type.Object({ job_id: Type.Integer(), event: Type.Unknown(), last_error: Type.Union([Type.String(), Type.Null()]) });
    const Page = Type.Object({ events: Type.Array(Item), total: Type.Integer(), next: Type.Union([Type.Integer(), Type.Null()]) });
    const serialize = storedJsonSerializerCompiler({ schema: Page });
    const stored = '{"id":"evt_1","secret_looking":"kept: the stored event is written as stored"}';
    const page = {
      events: [{ job_id: 1, event: new StoredJson(stored), last_error: null, org_id: 'org_a', payload_bytes: 99 }],
      total: 1,
      next: null,
      internal: { claim: 'c' },
    };
    expect(serialize(page)).toBe(`{"events":[{"job_id":1,"event":${stored},"last_error":null}],"total":1,"next":null}`);
    // A schema that declares no properties (a map, Type.Unknown) leaves the value whole.
    expect(storedJsonSerializerCompiler({ schema: Type.Record(Type.String(), Type.Integer()) })({ a: 1, b: 2 })).toBe('{"a":1,"b":2}');
    expect(storedJsonSerializerCompiler({ schema: Type.Unknown() })({ a: { b: 1 } })).toBe('{"a":{"b":1}}');
  });
});
