// Issue 2: the synchronous test probe's answer for every failure class, and its per-destination rate limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import {
  closedPort,
  hang,
  redirect,
  respondWith,
  startReceiver,
  startUntrustedReceiver,
  type Receiver,
  type ReceiverHandler,
} from '../../support/httpsReceiver.js';

describe.each(DB_KINDS)('test probe failure classes and rate limit (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let orgId: string;
  let apiKey: string;
  const receivers: Receiver[] = [];
  const base = () => `/api/orgs/${orgId}/forwarding-destinations`;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    // The harness's generous timeout: a TLS or DNS failure must be reported as itself, never as a
    // timeout because a loaded machine was slow. The hanging receiver has its own short-timeout service.
    svc = await startTestService(tdb.db);
    ({ orgId, apiKey } = await svc.newOrg());
  });
  afterAll(async () => {
    await svc?.stop();
    for (const r of receivers) await r.close();
    await tdb?.close();
  });

  async function receiver(handler: ReceiverHandler, untrusted = false): Promise<Receiver> {
    const r = untrusted ? await startUntrustedReceiver(handler) : await startReceiver(handler);
    receivers.push(r);
    return r;
  }
  async function probeUrl(url: string): Promise<{ status: number; body: { ok: boolean; status_code: number | null; error: string | null } }> {
    const created = await svc.request('POST', base(), { apiKey, body: { url, auth_header_name: 'Authorization', auth_header_value: 'Bearer probe' } });
    expect(created.status).toBe(201);
    const res = await svc.request('POST', `${base()}/${created.body.destination_id}/test`, { apiKey });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['error', 'ok', 'status_code']);
    return res;
  }

  // Each class: the status code, and an action-oriented sentence that tells the user what to check.
  const httpCases: Array<[number, RegExp]> = [
    [401, /authentication failed.*(token|key|credential)/i],
    [403, /forbidden.*(key|permission|token)/i],
    [404, /not found.*check the (path|url)/i],
    [413, /too large/i],
    // A probe is not retried, so these must say what the user can do (not "Aegis will retry").
    [429, /rate limited.*(try again|wait|later|Retry-After)/i],
    [500, /server error.*(try again|check|status|later)/i],
    [503, /server error.*(try again|check|status|later)/i],
  ];
  it.each(httpCases)('HTTP %i answers ok:false with the status and an action-oriented error', async (status, pattern) => {
    const r = await receiver(respondWith(status, 'refused'));
    const res = await probeUrl(`${r.url}/ingest`);
    expect(res.body.ok).toBe(false);
    expect(res.body.status_code).toBe(status);
    expect(res.body.error).toMatch(pattern);
    expect(r.requests).toHaveLength(1);
  });

  it('a receiver that hangs: timeout error, no status code', async () => {
    const r = await receiver(hang());
    // A receiver that never answers times out whatever the machine's load, so a short timeout is safe.
    const quick = await startTestService(tdb.db, { AEGIS_HTTP_TIMEOUT_MS: '2000' });
    let res: { status: number; body: { ok: boolean; status_code: number | null; error: string | null } };
    try {
      const created = await quick.request('POST', base(), {
        apiKey,
        body: { url: `${r.url}/ingest`, auth_header_name: 'Authorization', auth_header_value: 'Bearer probe' },
      });
      expect(created.status).toBe(201);
      res = await quick.request('POST', `${base()}/${created.body.destination_id}/test`, { apiKey });
      expect(res.status).toBe(200);
    } finally {
      await quick.stop();
    }
    expect(res.body).toMatchObject({ ok: false, status_code: null });
    expect(res.body.error).toMatch(/time(d)? ?out/i);
    expect(res.body.error).toMatch(/check/i);
  });

  it('an untrusted certificate: TLS failure with a hint about the certificate', async () => {
    const r = await receiver(respondWith(200, 'ok'), true);
    const res = await probeUrl(`${r.url}/ingest`);
    expect(res.body).toMatchObject({ ok: false, status_code: null });
    expect(res.body.error).toMatch(/TLS/);
    expect(res.body.error).toMatch(/certificate/i);
    expect(r.requests).toHaveLength(0);
  });

  it('a hostname that does not resolve: DNS failure naming the host', async () => {
    const res = await probeUrl('https://no-such-siem.invalid/ingest');
    expect(res.body).toMatchObject({ ok: false, status_code: null });
    expect(res.body.error).toMatch(/DNS/);
    expect(res.body.error).toMatch(/check the hostname/i);
  });

  it('nothing listening: connection refused with a hint about the port', async () => {
    const port = await closedPort();
    const res = await probeUrl(`https://127.0.0.1:${port}/ingest`);
    expect(res.body).toMatchObject({ ok: false, status_code: null });
    expect(res.body.error).toMatch(/connection refused/i);
    expect(res.body.error).toMatch(/port/i);
  });

  it('a redirect is a failure and is never followed (the target gets nothing)', async () => {
    const target = await receiver(respondWith(200, 'ok'));
    const r = await receiver(redirect(`${target.url}/elsewhere`, 302));
    const res = await probeUrl(`${r.url}/ingest`);
    expect(res.body.ok).toBe(false);
    expect(res.body.status_code).toBe(302);
    expect(res.body.error).toMatch(/redirect/i);
    expect(res.body.error).toMatch(/final URL/i);
    expect(r.requests).toHaveLength(1);
    expect(target.requests).toHaveLength(0);
    expect(target.connections).toBe(0);
  });

  it('is rate limited per destination: the 6th probe in a minute answers 429 with Retry-After; others are unaffected', async () => {
    const r = await receiver(respondWith(202, ''));
    const a = await svc.request('POST', base(), { apiKey, body: { url: `${r.url}/a` } });
    const b = await svc.request('POST', base(), { apiKey, body: { url: `${r.url}/b` } });
    for (let i = 0; i < 5; i++) {
      const res = await svc.request('POST', `${base()}/${a.body.destination_id}/test`, { apiKey });
      expect(res.status).toBe(200);
      expect(res.body.ok).toBe(true);
    }
    const limited = await svc.request('POST', `${base()}/${a.body.destination_id}/test`, { apiKey });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(limited.body.error.message).toMatch(/per minute/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The limited call sent nothing.
    expect(r.requests.filter((q) => q.path === '/a')).toHaveLength(5);
    const other = await svc.request('POST', `${base()}/${b.body.destination_id}/test`, { apiKey });
    expect(other.status).toBe(200);
  });

  it('the limit holds under concurrent probes: of 8 at once, exactly 5 are sent', async () => {
    const r = await receiver(respondWith(200, ''));
    const d = await svc.request('POST', base(), { apiKey, body: { url: `${r.url}/burst` } });
    const all = await Promise.all(Array.from({ length: 8 }, () => svc.request('POST', `${base()}/${d.body.destination_id}/test`, { apiKey })));
    expect(all.filter((x) => x.status === 200)).toHaveLength(5);
    expect(all.filter((x) => x.status === 429)).toHaveLength(3);
    expect(r.requests.length).toBeLessThanOrEqual(5);
  });

  it('an unknown destination answers 404 (and does not spend anything)', async () => {
    const res = await svc.request('POST', `${base()}/fwd_doesnotexist/test`, { apiKey });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});
