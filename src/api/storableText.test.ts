import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { startTestService, type TestService } from '../../test/support/harness.js';
import { findBodyProblem, MAX_BODY_DEPTH } from './storableText.js';
import { fieldPointer } from '../errors.js';

const REDACTED = '<redacted-property-name>';
const UNSTORABLE = 'contains a NUL character (\\u0000) or an unpaired surrogate, which cannot be stored as text';
const fieldOf = (body: unknown) => findBodyProblem(body)?.field ?? null;

/** `levels` arrays inside one another, the innermost holding `inner`. */
function nested(levels: number, inner: unknown = 1): unknown {
  let v = inner;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

describe('findBodyProblem', () => {
  it('names the first string or key holding NUL or an unpaired surrogate', () => {
    expect(findBodyProblem({ url: 'x', options: { index: 'a\u0000b' } })).toEqual({ field: 'options.index', pointer: '/options/index', message: UNSTORABLE });
    // The pointer from the segments: a key holding "." or "[" is one segment (an attacker's review).
    expect(findBodyProblem({ filter: { 'aegis.actor_id': 'a\u0000b' } })?.pointer).toBe('/filter/aegis.actor_id');
    expect(findBodyProblem({ body: '\u0000' })?.pointer).toBe('/body');
    expect(findBodyProblem(['a', '\u0000'])?.pointer).toBe('/1');
    expect(fieldOf({ events: [{ summary: 'ok' }, { summary: 'bad \ud800' }] })).toBe('events[1].summary');
    expect(fieldOf('\udc00x')).toBe('body');
    expect(fieldOf(['a', '\u0000'])).toBe('body[1]');
    expect(fieldOf([['a'], ['b', ['c', '\u0000']]])).toBe('body[1][1][1]');
    // The first in document order, also when an earlier sibling's subtree is the deeper one.
    expect(fieldOf({ a: { b: { c: '\u0000' } }, d: '\u0000' })).toBe('a.b.c');
  });

  it('never names a key as written: one holding the bad character is itself a value smuggled in', () => {
    expect(fieldOf({ options: { ['k\udc00']: 'v' } })).toBe(`options.${REDACTED}`);
    expect(fieldOf({ options: { ['a\u0000b\ud800']: 'v' } })).toBe(`options.${REDACTED}`);
    expect(fieldOf({ input: 'x', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc\u0000': 1 })).toBe(REDACTED);
  });

  it('passes every key on the path through the privacy rule for property names', () => {
    expect(fieldOf({ input: 'x', 'SSN 123-45-6789': { y: '\ud800' } })).toBe(`${REDACTED}.y`);
    expect(fieldOf({ events: [{ 'john.doe@example.com\ud800': 1 }] })).toBe(`events[0].${REDACTED}`);
    expect(fieldOf({ url: 'https://example.com/a', options: { 'jane.doe@example.com': '\u0000' } })).toBe(`options.${REDACTED}`);
    expect(fieldOf({ AKIAIOSFODNN7EXAMPLE: [{ note_4111111111111111: '\u0000' }] })).toBe(`${REDACTED}[0].${REDACTED}`);
    // Plain names stay readable.
    expect(fieldOf({ aegis: { finding_counts_by_type: { email: '\u0000' } } })).toBe('aegis.finding_counts_by_type.email');
  });

  it('accepts ordinary text, including characters outside the BMP written as surrogate pairs', () => {
    expect(findBodyProblem({ name: 'Tökén 🔐 ✓', n: 1, ok: true, none: null, list: ['a', '😀'], empty: {}, none2: [] })).toBeNull();
    expect(findBodyProblem(undefined)).toBeNull();
    expect(findBodyProblem(nested(MAX_BODY_DEPTH))).toBeNull();
  });

  it(`refuses a body nested more than ${MAX_BODY_DEPTH} levels deep, however deep, without recursing`, () => {
    const refusal = { field: 'body', pointer: '', message: `nests deeper than ${MAX_BODY_DEPTH} levels of objects and arrays` };
    expect(findBodyProblem(nested(MAX_BODY_DEPTH + 1))).toEqual(refusal);
    expect(findBodyProblem({ a: nested(MAX_BODY_DEPTH) })).toEqual(refusal);
    // Far deeper than any call stack: JSON.parse builds it iteratively, the check must not recurse.
    const levels = 1_000_000;
    expect(findBodyProblem(JSON.parse('{"a":' + '['.repeat(levels) + ']'.repeat(levels) + '}'))).toEqual(refusal);
    // A bad string before the depth is passed is named first (document order).
    expect(findBodyProblem({ a: '\u0000', b: nested(MAX_BODY_DEPTH + 1) })?.field).toBe('a');
  });
});

// Through the real service: the hook runs on every JSON body, before authentication-dependent
// validation, on routes an unauthenticated client can reach (POST /auth/login).
describe('request bodies with unstorable text or deep nesting', () => {
  let tdb: TestDb;
  let svc: TestService;
  let org: { orgId: string; apiKey: string };
  beforeAll(async () => {
    tdb = await openTestDb('pglite');
    svc = await startTestService(tdb.db);
    org = await svc.newOrg();
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  const errorLines = () => svc.logs.lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);

  it.each([
    [
      'preflight, a secret key holding NUL',
      'preflight',
      '{"input":"x","sk_live_4eC39HqLyjWDarjtT1zdp7dc\\u0000":1}',
      'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
      REDACTED,
    ],
    ['preflight, an SSN key above a bad value', 'preflight', '{"input":"x","SSN 123-45-6789":{"y":"\\ud800"}}', '123-45-6789', `${REDACTED}.y`],
    ['audit-events, an email key holding a surrogate', 'audit-events', '{"events":[{"john.doe@example.com\\ud800":1}]}', 'john.doe', `events[0].${REDACTED}`],
    [
      'destination create, an email key above NUL',
      'forwarding-destinations',
      '{"url":"https://example.com/a","options":{"jane.doe@example.com":"\\u0000"}}',
      'jane.doe',
      `options.${REDACTED}`,
    ],
  ])('%s: the refusal names the field without the key', async (_what, route, rawBody, secret, field) => {
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/${route}`, { apiKey: org.apiKey, rawBody });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      code: 'validation_failed',
      message: `${field}: ${UNSTORABLE}`,
      details: [{ path: fieldPointer(field), message: UNSTORABLE }],
    });
    expect(res.text).not.toContain(secret);
    expect(svc.logs.text()).not.toContain(secret);
  });

  const deep = (levels: number) => '{"a":' + '['.repeat(levels) + ']'.repeat(levels) + '}';

  it.each([
    ['POST /auth/login, no credentials', () => '/auth/login', undefined],
    ['preflight', () => `/api/orgs/${org.orgId}/preflight`, () => org.apiKey],
    ['audit-events', () => `/api/orgs/${org.orgId}/audit-events`, () => org.apiKey],
    ['destination create', () => `/api/orgs/${org.orgId}/forwarding-destinations`, () => org.apiKey],
  ])('%s: a 6000-deep body is refused, and nothing is logged as an error', async (what, path, key) => {
    const before = errorLines().length;
    // 6,000 levels: a 400 naming the nesting, but where the route's body limit (sign-in: 4 KiB) comes
    // first; 200,000: more values than a body may hold, a 413 before it is parsed (api/jsonBody.ts).
    for (const levels of [6000, 200_000]) {
      const res = await svc.request('POST', path(), { apiKey: key?.(), rawBody: deep(levels) });
      if (levels === 6000 && !what.startsWith('POST /auth/login')) {
        expect(res.status).toBe(400);
        const message = `nests deeper than ${MAX_BODY_DEPTH} levels of objects and arrays`;
        expect(res.body.error).toEqual({ code: 'validation_failed', message: `body: ${message}`, details: [{ path: '', message }] });
      } else {
        expect(res.status).toBe(413);
        expect(res.body.error.code).toBe('payload_too_large');
      }
    }
    expect(errorLines().slice(before)).toEqual([]);
  });

  it('a body nested up to the limit still reaches the route', async () => {
    // The body itself is the first level: `a` may hold MAX_BODY_DEPTH - 1 more.
    const res = await svc.request('POST', '/auth/login', { rawBody: JSON.stringify({ token: 'x', a: nested(MAX_BODY_DEPTH - 1) }) });
    // 410: the route ran and found no such sign-in link.
    expect(res.status).toBe(410);
  });
});
