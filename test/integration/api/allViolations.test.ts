// Regression: a refused body used to name only its first problem, so a record missing three fields
// took three requests to fix. Every refusal from validation now lists each problem with its path (up
// to MAX_REPORTED_VIOLATIONS) in error.details, and the message still names the first one.
// Validation runs before any database work, so one database kind is enough here.
import { describe, expect, it } from 'vitest';
import { serviceWithOrg } from '../../support/serviceWithOrg.js';
import { validateBody } from '../../../src/events/validate.js';
import { MAX_REPORTED_VIOLATIONS } from '../../../src/events/violation.js';
import { agentRecord, countRows } from '../events/support.js';

describe('validation answers every problem at once', () => {
  const t = serviceWithOrg();

  const post = (path: string, body: unknown) => t.svc.request('POST', `/api/orgs/${t.org.orgId}${path}`, { apiKey: t.org.apiKey, body });
  const paths = (res: { body: { error: { details?: { path: string }[] } } }) => (res.body.error.details ?? []).map((d) => d.path);

  it('POST /audit-events: a record missing three fields gets all three, with the record named', async () => {
    const broken = agentRecord();
    delete broken.summary;
    delete broken.policy_id;
    delete broken.decision;
    const res = await post('/audit-events', { events: [agentRecord(), broken, agentRecord({ destination: 'MARS' })] });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(paths(res).sort()).toEqual(['/events/1/decision', '/events/1/policy_id', '/events/1/summary', '/events/2/destination']);
    expect(res.body.error.message).toMatch(/^events\[1\]\.\w+: is required \(3 more problems listed in error\.details\)$/);
    for (const d of res.body.error.details) expect(typeof d.message).toBe('string');
    expect(res.text).not.toContain('MARS');
    expect(validateBody('ErrorResponse', res.body)).toEqual([]);
    expect(await countRows(t.tdb.db, 'audit_events', t.org.orgId)).toBe(0);
  });

  it('POST /audit-events: a duplicate preflight_id and a bad date are listed with the schema problems', async () => {
    const res = await post('/audit-events', {
      events: [
        agentRecord({ preflight_id: 'pflt_dup_000001' }),
        agentRecord({ preflight_id: 'pflt_dup_000001' }),
        agentRecord({ occurred_at: '2026-02-30T10:00:00Z', summary: 7 }),
      ],
    });
    expect(res.status, res.text).toBe(400);
    expect(paths(res)).toContain('/events/1/preflight_id');
    expect(paths(res)).toContain('/events/2/summary');
  });

  it(`caps the list at ${MAX_REPORTED_VIOLATIONS} and says there are more`, async () => {
    const events = Array.from({ length: 50 }, () => agentRecord({ summary: undefined, policy_id: undefined }));
    const res = await post('/audit-events', { events });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.details).toHaveLength(MAX_REPORTED_VIOLATIONS);
    expect(paths(res)[0]).toBe('/events/0/summary');
    expect(res.body.error.message).toContain(`the first ${MAX_REPORTED_VIOLATIONS} are listed in error.details`);
    expect(validateBody('ErrorResponse', res.body)).toEqual([]);
  });

  it('POST /preflight: every problem, and never a submitted value or a sensitive property name', async () => {
    const gate = await post('/preflight', { input: 5, colour: 'red', 'bob@example.com': 1 });
    expect(gate.status, gate.text).toBe(400);
    expect(paths(gate).sort()).toEqual(['/<redacted-property-name>', '/colour', '/input']);
    expect(gate.text).not.toContain('bob@example.com');

    const options = await post('/preflight', { input: 'hello', destination: 'MARS', source_type: 'carrier_pigeon', actor_id: 'AKIAIOSFODNN7EXAMPLE' });
    expect(options.status, options.text).toBe(400);
    expect(paths(options).sort()).toEqual(['/actor_id', '/destination', '/source_type']);
    expect(options.text).not.toMatch(/MARS|carrier_pigeon|AKIAIOSFODNN7EXAMPLE/);
    expect(validateBody('ErrorResponse', options.body)).toEqual([]);
  });

  it('destination bodies: every problem of a create body', async () => {
    const res = await post('/forwarding-destinations', { url: 5, auth_header_name: 7, colour: 'red' });
    expect(res.status, res.text).toBe(400);
    expect(paths(res).sort()).toEqual(['/auth_header_name', '/colour', '/url']);
    expect(res.body.error.message).toMatch(/\(2 more problems listed in error\.details\)$/);
  });

  it('an id or a page cursor of the wrong shape is told the shape it takes', async () => {
    const base = `/api/orgs/${t.org.orgId}/forwarding-destinations`;
    const get = (path: string) => t.svc.request('GET', path, { apiKey: t.org.apiKey });
    const badId = await get(`${base}/fwd_a;b`);
    expect(badId.status).toBe(400);
    expect(badId.body.error.details).toEqual([
      { path: '/destination_id', message: 'must be a destination id: "fwd_" then up to 60 letters, digits, "_" or "-"' },
    ]);
    const created = await post('/forwarding-destinations', { url: 'https://siem.example/x' });
    const badPage = await get(`${base}/${created.body.destination_id}/failed-events?before_id=abc`);
    expect(badPage.status).toBe(400);
    expect(badPage.body.error.details).toEqual([
      { path: '/before_id', message: 'must be the next_before_id of the previous page: a whole number of up to 18 digits' },
    ]);
  });

  // A field that takes a value or null: ajv's "must be null" and "must match a schema in anyOf" for
  // each were noise around the one problem (a review counted three problems for an empty name).
  it('a nullable field is told what is wrong with its value, once', async () => {
    const url = 'https://siem.example/x';
    const empty = await post('/forwarding-destinations', { url, name: '' });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details).toEqual([{ path: '/name', message: 'must NOT have fewer than 1 characters' }]);
    const number = await post('/forwarding-destinations', { url, name: 5 });
    expect(number.body.error.details).toEqual([{ path: '/name', message: 'must be string or null' }]);
    const list = await post('/forwarding-destinations', { url, filter: [] });
    expect(list.body.error.details).toEqual([{ path: '/filter', message: 'must be object or null' }]);
  });

  it('a large body made of faults is answered with its first problem (no error object per fault)', async () => {
    const body: Record<string, unknown> = { url: 'https://siem.example/x' };
    // Under the 10,000 JSON values a body may hold (api/jsonBody.ts): more is a 413 before parsing.
    for (let i = 0; i < 9_000; i++) body[`k${i}`] = 0;
    const res = await post('/forwarding-destinations', body);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.details).toHaveLength(1);
    expect(res.body.error.message).toBe('k0: unknown field (not part of the schema)');
  });

  it('a single problem is answered as before, with a one-entry details list', async () => {
    const res = await post('/forwarding-destinations', { url: 'https://siem.example/x', colour: 'red' });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      code: 'validation_failed',
      message: 'colour: unknown field (not part of the schema)',
      details: [{ path: '/colour', message: 'unknown field (not part of the schema)' }],
    });
  });

  // A parameter given twice reaches the schema as a list: "must be string" told the user nothing of
  // what they had done.
  it('a query parameter given twice is named as such, every one of them', async () => {
    const get = (query: string) => t.svc.request('GET', `/api/orgs/${t.org.orgId}/audit-events?${query}`, { apiKey: t.org.apiKey });
    const res = await get('since=2026-01-01T00:00:00Z&since=2026-02-01T00:00:00Z&limit=5&limit=6');
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.details).toEqual([
      { path: '/limit', message: 'is given more than once; give it once' },
      { path: '/since', message: 'is given more than once; give it once' },
    ]);
    expect(validateBody('ErrorResponse', res.body)).toEqual([]);
    // Once each, the same values are fine.
    expect((await get('since=2026-01-01T00:00:00Z&limit=5')).status).toBe(200);
    // An offset's "+" typed into the URL arrives as a space.
    const plus = await get('since=2026-05-15T10:00:00+01:00');
    expect(plus.status).toBe(400);
    expect(plus.body.error.details).toEqual([
      {
        path: '/since',
        message:
          'must be a date-time: a "+" in a URL reads as a space, so write the offset as %2B (2026-05-15T10:00:00%2B01:00) or give the time in UTC with Z',
      },
    ]);
    expect((await get('since=2026-05-15T10:00:00%2B01:00')).status).toBe(200);
    // Only for a date-time parameter, and only for a value that would then be one.
    expect((await get('cursor=2026-05-15T10:00:00+01:00')).body.error.details[0].message).not.toContain('%2B');
    expect((await get('since=2026-05-15T10:00+01:00')).body.error.details[0].message).not.toContain('%2B');
    // A parameter the route does not have is unknown however often it is given.
    for (const query of ['colour=a&colour=b', '__proto__=1&__proto__=2', 'constructor=a&constructor=b']) {
      const unknown = await get(query);
      expect(unknown.status, query).toBe(400);
      expect(unknown.body.error.details, query).toEqual([{ path: `/${query.split('=')[0]}`, message: 'unknown field (not part of the schema)' }]);
    }
  });

  // An API client's review: a refusal by a rule outside the schema (the URL's scheme, a cursor the API
  // did not give out, an empty batch, an option the preset does not take) came without `details`,
  // though docs/errors.md promises it with every validation_failed.
  it('a refusal by a rule lists its field in details, as a schema refusal does', async () => {
    const cases: [string, Promise<{ status: number; body: any; text: string }>, string, string][] = [
      ['scheme', post('/forwarding-destinations', { siem: 'custom', url: 'ftp://siem.example/in' }), '/url', 'url: '],
      ['empty batch', post('/audit-events', { events: [] }), '/events', 'events: '],
      [
        'stray option',
        post('/forwarding-destinations', {
          siem: 'splunk_hec',
          url: 'https://siem.example/services/collector',
          auth_header_value: 'Splunk 0f3c',
          options: { dataset: 'x' },
        }),
        '/options/dataset',
        'options.dataset: ',
      ],
      ['forged cursor', t.svc.request('GET', `/api/orgs/${t.org.orgId}/forwarding-destinations?cursor=zzzz`, { apiKey: t.org.apiKey }), '/cursor', 'cursor: '],
    ];
    // A key holding "." (every filter key) is one segment of the pointer, not two (an attacker's review).
    cases.push([
      'dotted key',
      t.svc.request('POST', `/api/orgs/${t.org.orgId}/forwarding-destinations`, {
        apiKey: t.org.apiKey,
        rawBody: '{"url":"https://siem.example/hook","filter":{"aegis.actor_id":"a\\u0000b"}}',
      }),
      '/filter/aegis.actor_id',
      'filter.aegis.actor_id: ',
    ]);
    for (const [name, pending, path, prefix] of cases) {
      const res = await pending;
      expect(res.status, `${name}: ${res.text}`).toBe(400);
      expect(res.body.error.code, name).toBe('validation_failed');
      expect(res.body.error.message.startsWith(prefix), name).toBe(true);
      // The detail's message is the message's without the field's name.
      expect(res.body.error.details, name).toEqual([{ path, message: res.body.error.message.slice(prefix.length) }]);
      expect(validateBody('ErrorResponse', res.body), name).toEqual([]);
    }
  });
});
