// Issue 9: the dashboard's hint and the API refuse the same header names, with the same sentence,
// for every reserved name and its odd spellings (case, surrounding spaces). One rule
// (src/destinations/headerRules.ts) serves both; this checks it over real HTTP on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { formatHints } from '../../../src/siem/catalog.js';
import { RESERVED_HEADER_NAMES, RESERVED_HEADER_PREFIXES } from '../../../src/destinations/headerRules.js';

/** Title-Case as people type header names: user-agent -> User-Agent. */
const titleCase = (name: string) => name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`);
const alternating = (name: string) => [...name].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c.toLowerCase())).join('');

function spellings(name: string): string[] {
  const cased = [name, name.toUpperCase(), titleCase(name), alternating(name)];
  return [...new Set([...cased, ...cased.map((n) => ` ${n}`), ...cased.map((n) => `${n} `), ...cased.map((n) => `\t${n}  `)])];
}

const RESERVED = [...RESERVED_HEADER_NAMES, ...RESERVED_HEADER_PREFIXES.flatMap((p) => [`${p}authorization`, `${p}for`, `${p}anything`])];
// Names that merely look like reserved ones are the user's to choose.
const ALLOWED = ['Authorization', 'DD-API-KEY', 'X-Api-Key', 'x-sumo-token', 'Api-Key', 'X-Forwarded', 'Cookie-Token', 'Hostname', 'X-User-Agent', 'Proxy'];

describe.each(DB_KINDS)('auth header names: the dashboard hint and the API agree (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let orgId: string;
  let apiKey: string;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, {}, 'api');
    ({ orgId, apiKey } = await svc.newOrg());
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  const url = 'https://siem.example.com/ingest';
  /** The hint the dashboard shows for the name as typed, or null. */
  const hintFor = (typed: string) =>
    formatHints('custom', { url, authHeaderName: typed, authHeaderValue: 'Bearer abcdefgh' }).find(
      (h) => h.field === 'auth_header_name' && h.severity === 'error',
    )?.message ?? null;
  /** What the API answers for the name the dashboard sends: it trims what was typed (effectiveHeaderName). */
  const create = (name: string) =>
    svc.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, {
      apiKey,
      body: { url, auth_header_name: name, auth_header_value: 'Bearer abcdefgh', enabled: false },
    });

  it('lists every reserved name the rule knows, User-Agent included', () => {
    expect(RESERVED_HEADER_NAMES).toEqual(expect.arrayContaining(['user-agent', 'host', 'content-type', 'cookie', 'idempotency-key', 'webhook-signature']));
  });

  it.each(RESERVED)('refuses %s in every spelling, in the hint and the API, with one sentence', async (name) => {
    for (const typed of spellings(name)) {
      const hint = hintFor(typed);
      expect(hint, JSON.stringify(typed)).not.toBeNull();
      const res = await create(typed.trim());
      expect(res.status, JSON.stringify(typed)).toBe(400);
      expect(res.body.error.message).toBe(`auth_header_name: ${hint}`);
      // An API client that sends the spaces too is refused as well: a header name has no spaces.
      if (typed !== typed.trim()) expect((await create(typed)).status, JSON.stringify(typed)).toBe(400);
    }
  });

  it.each(ALLOWED)('accepts %s in every spelling, in the hint and the API', async (name) => {
    for (const typed of spellings(name)) expect(hintFor(typed), JSON.stringify(typed)).toBeNull();
    // What the dashboard sends: each distinct trimmed spelling once.
    for (const sent of new Set(spellings(name).map((typed) => typed.trim()))) {
      const res = await create(sent);
      expect(res.status, `${JSON.stringify(sent)}: ${res.text}`).toBe(201);
      expect(res.body.auth_header_name).toBe(sent);
    }
  });
});
