// A JSON body is parsed on the main thread, before any route looks at it: 9 MB of `{}` under the
// audit-events route's 12 MiB limit took about 2 s to parse and walk, and one connection sending them
// back to back held every other organization's requests that long (p50 1.6 s instead of 6 ms). The
// route's own limit (1,000 records) was checked only after. And with no credentials at all, 2 MiB of
// `{}` went to the sign-in and sign-out routes, parsed before anything refused them. A body is now
// counted before it is parsed, and refused past what its route can take.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';

describe.each(DB_KINDS)('bodies refused before they are parsed (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let orgId: string;
  let apiKey: string;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
    ({ orgId, apiKey } = await svc.newOrg());
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  /** A raw JSON body through the harness's request, with the org's key unless `anonymous`. */
  const post = (path: string, rawBody: string, anonymous = false) =>
    svc.request('POST', path, { rawBody, ...(anonymous ? {} : { apiKey }) }) as Promise<{
      status: number;
      body: { error?: { code: string; message: string }; accepted?: number };
    }>;

  const empties = (n: number) => `[${new Array<string>(n).fill('{}').join(',')}]`;

  it('refuses a batch of 200,000 empty records by counting, not by parsing it', async () => {
    const res = await post(`/api/orgs/${orgId}/audit-events`, `{"events":${empties(200_000)}}`);
    expect(res.status).toBe(413);
    expect(res.body.error?.code).toBe('payload_too_large');
    expect(res.body.error?.message).toMatch(/JSON values/);
  });

  it('still takes a full batch at the schema maxima: 1,000 records of 64 finding types each', async () => {
    const counts = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`TYPE_${i}`, 1]));
    const records = Array.from({ length: 1000 }, (_, i) => ({
      preflight_id: `pflt_${String(i).padStart(20, '0')}`,
      decision: 'ALLOWED_WITH_MASKING',
      destination: 'AI_TOOL',
      summary: 'Detected SSN; masked.',
      policy_version: 'v1.0',
      policy_id: 'pol_default',
      source_type: 'api',
      input_type: 'text',
      input_size_bytes: 100,
      finding_counts_by_type: counts,
      actor_id: 'user@example.com',
      occurred_at: new Date().toISOString(),
    }));
    const res = await post(`/api/orgs/${orgId}/audit-events`, JSON.stringify({ events: records }));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.accepted).toBe(1000);
  });

  it('counts no comma, bracket or brace inside a string', async () => {
    const res = await post(`/api/orgs/${orgId}/preflight`, JSON.stringify({ input: `a,[{"\\",}]`.repeat(20_000) }));
    expect(res.status).toBe(200);
  });

  it('refuses a padded sign-in body without credentials before reading the token', async () => {
    const res = await post('/auth/login', `{"token":"x","pad":${empties(100_000)}}`, true);
    expect(res.status).toBe(413);
  });

  it("names the route's size limit when a body is over it", async () => {
    const big = JSON.stringify({ name: 'x'.repeat(3 * 1024 * 1024) });
    const res = await post(`/api/orgs/${orgId}/forwarding-destinations`, big);
    expect(res.status).toBe(413);
    expect(res.body.error).toEqual({ code: 'payload_too_large', message: 'The request body is larger than this endpoint accepts (2 MiB).' });
    const login = await post('/auth/login', JSON.stringify({ token: 'x'.repeat(5000) }), true);
    expect(login.body.error?.message).toBe('The request body is larger than this endpoint accepts (4 KiB).');
  });

  it('answers 404 for a path that is no route, whatever its body holds', async () => {
    expect((await post('/api/nope', empties(20_000), true)).status).toBe(404);
    expect((await post('/api/nope', `${'['.repeat(9_999)}${']'.repeat(9_999)}`, true)).status).toBe(404);
  });

  it('refuses a padded sign-out body before authenticating it', async () => {
    const res = await post('/api/session/logout', `{"pad":${empties(100_000)}}`, true);
    expect(res.status).toBe(413);
  });
});
