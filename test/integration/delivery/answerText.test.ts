import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { DECISIONS_ONLY, respondWith, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { jobRows, seedEvents } from './support.js';

/** The service and an HTTPS receiver answering every request 400 with `body`, for one describe block. */
function answering(kind: (typeof DB_KINDS)[number], body: string) {
  let tdb: TestDb;
  let svc: TestService;
  let r: Receiver;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,1,1' });
    r = await startReceiver(respondWith(400, body));
  });
  afterAll(async () => {
    await svc?.stop();
    await r?.close();
    await tdb?.close();
  });
  /** A custom webhook destination at the receiver, for decisions only, with `credential`; its id. */
  const destination = async (org: { orgId: string; apiKey: string }, credential: string): Promise<string> => {
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: `${r.url}/hook`, auth_header_name: 'Authorization', auth_header_value: credential, filter: DECISIONS_ONLY },
    });
    expect(res.status, res.text).toBe(201);
    return res.body.destination_id as string;
  };
  return { tdb: () => tdb, svc: () => svc, destination };
}

// A SIEM's answer is stored (the delivery log's snippet, the job's and the destination's last error),
// and PostgreSQL refuses NUL in text: an answer holding one (a broken proxy, a body in UTF-16) made
// the claim's settle fail, so nothing was recorded and the jobs went round again when their lease
// ran out, for ever. The answer is stored as text instead, its NULs dropped.
describe.each(DB_KINDS)('a SIEM answering with NULs and unpaired surrogates (%s)', (kind) => {
  const t = answering(kind, 'bad request\0\0 from proxy \ud800');

  it('records the attempt and retries on the schedule, the answer stored as text', async () => {
    const [tdb, svc] = [t.tdb(), t.svc()];
    const org = await svc.newOrg();
    const id = await t.destination(org, 'Bearer t0ken-nul');
    await seedEvents(tdb.db, org.orgId, 2);

    // Settled: each attempt counted (the schedule runs towards dead letters, as for any 400).
    await expect.poll(async () => Math.min(...(await jobRows(tdb.db, id)).map((j) => j.attempts)), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
    for (const j of await jobRows(tdb.db, id)) expect(j.last_error).toContain('bad request from proxy \uFFFD');
    const log = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${id}/attempts`, { apiKey: org.apiKey });
    expect(log.status).toBe(200);
    const snippets = (log.body.attempts as Array<{ response_snippet: string | null }>).map((a) => a.response_snippet);
    expect(snippets).toContain('bad request from proxy \uFFFD');
    const dest = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${id}`, { apiKey: org.apiKey });
    expect(dest.body.last_error).toContain('bad request from proxy');
  });
});

// What a SIEM answers is shown on the card, in the delivery log and in alerts: a hostile one must not
// be able to reorder that text (bidi overrides) or write terminal escapes into it.
describe.each(DB_KINDS)('a SIEM answering with escape codes and bidi overrides (%s)', (kind) => {
  const t = answering(kind, '\u001b[31mERROR\u001b[0m \u202eevil txt\u202c \u0007bell');

  it('stores and shows the answer without them', async () => {
    const [tdb, svc] = [t.tdb(), t.svc()];
    const org = await svc.newOrg();
    const id = await t.destination(org, 'Bearer t0ken-esc');
    const test = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations/${id}/test`, { apiKey: org.apiKey });
    expect(test.body.error).toContain('ERROR evil txt bell');
    await seedEvents(tdb.db, org.orgId, 1);
    await expect.poll(async () => Math.min(...(await jobRows(tdb.db, id)).map((j) => j.attempts)), { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
    // Control characters (but tab and line breaks) and bidi formatting, by code point.
    const garbling = new RegExp(`[${['\u0000-\u0008', '\u000b-\u001f', '\u007f-\u009f', '\u061c\u200e\u200f', '\u202a-\u202e', '\u2066-\u2069'].join('')}]`);
    for (const j of await jobRows(tdb.db, id)) expect(j.last_error).not.toMatch(garbling);
    const log = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${id}/attempts`, { apiKey: org.apiKey });
    const snippets = (log.body.attempts as Array<{ response_snippet: string | null }>).map((a) => a.response_snippet ?? '');
    expect(snippets.length).toBeGreaterThan(0);
    for (const s of snippets) expect(s).not.toMatch(garbling);
    expect(snippets).toContain('ERROR evil txt bell');
    const dest = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${id}`, { apiKey: org.apiKey });
    expect(dest.body.last_error).toContain('ERROR evil txt bell');
    expect(dest.body.last_error).not.toMatch(garbling);
  });
});
