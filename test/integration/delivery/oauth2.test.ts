// Issue 13: Microsoft Sentinel (Logs Ingestion API) and custom webhooks with OAuth2 client
// credentials, against a real authorization server (oidc-provider, over HTTPS) and a receiver that
// accepts only tokens that server signed for the Logs Ingestion resource, as Azure Monitor does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { dumpDatabase } from '../../support/dbDump.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { DECISIONS_ONLY, startReceiver, type Receiver, type ReceiverHandler, type ReceiverResponse } from '../../support/httpsReceiver.js';
import { bearerOf, bearerOnly, INVALID_TOKEN, startOAuthServer, WEBHOOK_SCOPE, type OAuthServer, type TestClient } from '../../support/oauthServer.js';
import { leakedForm } from '../../support/secretForms.js';
import { assertValidOcsf } from '../../../src/events/ocsfSchema.js';
import { deliveryLog, eventIdsOf, jobRows, seedEvents, statusCounts } from './support.js';
import { loadConfig } from '../../../src/config/env.js';
import { generateKeyBase64, parseKeyRing } from '../../../src/crypto/keyring.js';
import { associatedData, open, sealedKeyId } from '../../../src/crypto/sealedBox.js';
import { rotateEncryptionKey } from '../../../src/cli/rotateKey.js';
import { REFUSAL_FETCH_EVERY_MS, REFUSAL_FETCHES } from '../../../src/delivery/oauth2/tokenCache.js';

const DCR = 'dcr-0123456789abcdef0123456789abcdef';
const STREAM = 'Custom-AegisAudit_CL';
const SECRET = 'Xy8Q~s3cr3t/Value+with.Special_chars-0123456789';
const WRONG_SECRET = 'Wr0ng~but/plausible+Secret.Value_9876543210';

const clients: Record<'sentinel' | 'cache' | 'revoke' | 'wrong' | 'refused' | 'webhook' | 'quoted' | 'churn', TestClient> = {
  sentinel: { client_id: '11111111-1111-4111-8111-111111111111', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_post' },
  cache: { client_id: '22222222-2222-4222-8222-222222222222', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_post' },
  revoke: { client_id: '33333333-3333-4333-8333-333333333333', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_post' },
  wrong: { client_id: '44444444-4444-4444-8444-444444444444', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_post' },
  refused: { client_id: '55555555-5555-4555-8555-555555555555', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_post' },
  webhook: { client_id: 'aegis-webhook-client', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic' },
  quoted: { client_id: '66666666-6666-4666-8666-666666666666', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic' },
  churn: { client_id: '77777777-7777-4777-8777-777777777777', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic' },
};

describe.each(DB_KINDS)('OAuth2 client credentials: Microsoft Sentinel and custom webhooks (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let op: OAuthServer;
  let org: { orgId: string; apiKey: string };
  const receivers: Receiver[] = [];
  const closers: Array<() => Promise<void>> = [];
  /** Tokens the receivers must refuse from now on (revoked at the resource server). */
  const revoked = new Set<string>();
  const accepted: string[] = [];

  /** Azure Monitor's side: 401 without a valid token for the Logs Ingestion resource, else 204. */
  const validating = (audience?: string): ReceiverHandler => bearerOnly(op, { audience, revoked, accepted });

  async function receiver(handler: ReceiverHandler): Promise<Receiver> {
    const r = await startReceiver(handler);
    receivers.push(r);
    return r;
  }

  const base = () => `/api/orgs/${org.orgId}/forwarding-destinations`;
  const call = (method: string, path: string, body?: unknown) => svc.request(method, path, { apiKey: org.apiKey, ...(body !== undefined ? { body } : {}) });

  /** Creates a destination (the only enabled one) and returns its id. */
  async function create(body: Record<string, unknown>): Promise<{ id: string; text: string }> {
    const list = await call('GET', base());
    for (const d of list.body.destinations ?? list.body) {
      if (d.enabled) await call('PATCH', `${base()}/${d.destination_id}`, { enabled: false });
    }
    const res = await call('POST', base(), body);
    expect(res.status, res.text).toBe(201);
    return { id: res.body.destination_id as string, text: res.text };
  }

  function sentinelBody(r: Receiver, client: TestClient, secret = client.client_secret) {
    return {
      siem: 'microsoft_sentinel',
      url: `${r.url}/dataCollectionRules/${DCR}/streams/${STREAM}`,
      auth: { type: 'oauth2_client_credentials', token_url: op.tokenUrl, client_id: client.client_id, client_secret: secret },
    };
  }

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    op = await startOAuthServer(Object.values(clients));
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,1,1' });
    org = await svc.newOrg();
  });
  afterAll(async () => {
    await svc?.stop();
    for (const r of receivers) await r.close();
    for (const close of closers) await close();
    await op?.close();
    await tdb?.close();
  });

  it('Sentinel: gzip JSON array to the DCR stream with a token the receiver verifies; the secret is never shown', async () => {
    const r = await receiver(validating());
    // Decisions only: every record below must be a seeded event, and its own trail event may share their batch.
    const { id, text } = await create({ ...sentinelBody(r, clients.sentinel), filter: DECISIONS_ONLY });
    expect(text).not.toContain(SECRET);
    const view = (await call('GET', `${base()}/${id}`)).body;
    expect(view).toMatchObject({
      siem: 'microsoft_sentinel',
      url: `${r.url}/dataCollectionRules/${DCR}/streams/${STREAM}?api-version=2023-01-01`,
      auth_header_configured: false,
      auth: {
        type: 'oauth2_client_credentials',
        token_url: op.tokenUrl,
        client_id: clients.sentinel.client_id,
        scope: 'https://monitor.azure.com//.default',
        token_endpoint_auth_method: 'client_secret_post',
        client_secret_configured: true,
      },
    });
    expect(JSON.stringify(view)).not.toContain(SECRET);

    const ids = await seedEvents(tdb.db, org.orgId, 5);
    await r.waitFor((reqs) => new Set(reqs.filter((q) => q.headers.authorization).flatMap(eventIdsOf)).size >= 5, 60_000);
    const req = r.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/dataCollectionRules/${DCR}/streams/${STREAM}?api-version=2023-01-01`);
    expect(req.headers['content-encoding']).toBe('gzip');
    expect(req.headers['content-type']).toBe('application/json');
    expect(String(req.headers['x-ms-client-request-id'])).toMatch(/^[0-9a-f-]{36}$/);
    const payload = await op.verify(String(req.headers.authorization).slice('Bearer '.length));
    expect(payload).toMatchObject({ client_id: clients.sentinel.client_id, scope: 'https://monitor.azure.com//.default' });
    const records = r.requests.flatMap((q) => JSON.parse(q.body.toString('utf8')) as Array<Record<string, any>>);
    for (const rec of records) {
      expect(Object.keys(rec).sort()).toEqual(['TimeGenerated', 'aegis', 'event', 'organization']);
      expect(ids).toContain(rec.event.id);
      expect(rec.TimeGenerated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00$/);
      expect(rec.organization.id).toBe(org.orgId);
    }
    await expect.poll(async () => (await call('GET', `${base()}/${id}`)).body.status, { timeout: 30_000 }).toBe('active');
    expect(op.grants.get(clients.sentinel.client_id)).toBe(1);
  });

  it('caches the token across batches and for the test probe: one token request', async () => {
    const r = await receiver(validating());
    const { id } = await create(sentinelBody(r, clients.cache));
    for (let round = 1; round <= 3; round++) {
      await seedEvents(tdb.db, org.orgId, 2);
      await r.waitFor((reqs) => reqs.flatMap(eventIdsOf).length >= round * 2, 60_000);
    }
    const probe = await call('POST', `${base()}/${id}/test`);
    expect(probe.body, probe.text).toMatchObject({ ok: true, status_code: 204, error: null });
    expect(r.requests.length).toBeGreaterThanOrEqual(4);
    expect(op.grants.get(clients.cache.client_id)).toBe(1);
  });

  it('a revoked token answered 401 is refreshed once and the same request succeeds', async () => {
    const r = await receiver(validating());
    const { id } = await create(sentinelBody(r, clients.revoke));
    const [firstEvent] = await seedEvents(tdb.db, org.orgId, 1);
    // Answered and settled (a request is recorded before the receiver has checked its token): its job,
    // queued with the event, is gone, as a delivered job is (a refused one would stay, pending or failed).
    await expect.poll(async () => (await jobRows(tdb.db, id)).some((j) => j.event_id === firstEvent), { timeout: 60_000 }).toBe(false);
    expect(r.requests).toHaveLength(1);
    expect(eventIdsOf(r.requests[0]!)).toContain(firstEvent);
    expect(op.grants.get(clients.revoke.client_id)).toBe(1);
    const first = String(r.requests[0]!.headers.authorization);
    revoked.add(first.slice('Bearer '.length));

    const [eventId] = await seedEvents(tdb.db, org.orgId, 1);
    await r.waitFor((reqs) => reqs.length >= 3, 60_000);
    // The stale token once, then a fresh one, for the same body.
    expect(r.requests[1]!.headers.authorization).toBe(first);
    expect(r.requests[2]!.headers.authorization).not.toBe(first);
    expect(eventIdsOf(r.requests[2]!)).toEqual([eventId]);
    expect(op.grants.get(clients.revoke.client_id)).toBe(2);
    // Delivered: its job is gone (a delivered job is deleted when settled)...
    await expect.poll(async () => (await jobRows(tdb.db, id)).some((j) => j.event_id === eventId), { timeout: 30_000 }).toBe(false);
    // ...by that one request: no retry was spent (a retry would be a fourth request, sent before the
    // job could go), and the delivery log holds no failed event.
    expect(r.requests).toHaveLength(3);
    expect(r.requests.flatMap(eventIdsOf).filter((e) => e === eventId)).toHaveLength(2);
    expect((await deliveryLog(tdb.db, id)).failed).toBe(0);
    expect((await call('GET', `${base()}/${id}`)).body.last_error).toBeNull();
  });

  it('a SIEM refusing every token costs one token request per attempt, not a fetch and a resend per request', async () => {
    const r = await receiver(() => ({ status: 401, body: '{"error":{"code":"InvalidToken"}}' }));
    // Decisions only: the destination's own trail event would take (and cache) a token of its own.
    const { id } = await create({ ...sentinelBody(r, clients.refused), filter: DECISIONS_ONLY });
    const [eventId] = await seedEvents(tdb.db, org.orgId, 1);
    // Four attempts (AEGIS_RETRY_DELAYS_S 1,1,1), then dead-lettered.
    await expect.poll(async () => (await jobRows(tdb.db, id)).find((j) => j.event_id === eventId)?.status, { timeout: 90_000 }).toBe('failed');
    // Each attempt: a token fetched for it (the refused one was dropped), one request, no second
    // fetch and resend of the same body within the attempt.
    expect(r.requests).toHaveLength(4);
    expect(op.grants.get(clients.refused.client_id)).toBe(4);
  });

  // An OAuth2 review: a receiver that takes each token once, beside an endpoint minting a new one per
  // grant, made the worker fetch a token for every request (each succeeding on the resend, so nothing
  // slowed it), and each new token cost the shared worker new scrubbers.
  it('a receiver refusing every token it has seen gets a few new tokens at once, then one every 30 s, not one per request', async () => {
    const seen = new Set<string>();
    const r = await receiver((req) => {
      const token = bearerOf(req);
      if (!token || seen.has(token)) return INVALID_TOKEN;
      seen.add(token);
      return { status: 204 };
    });
    const { id } = await create({
      siem: 'custom',
      url: `${r.url}/hook`,
      filter: DECISIONS_ONLY,
      // One request at a time, as the review ran it: each refusal is its own, none shares a fetch.
      options: { max_concurrent_requests: 1 },
      auth: { type: 'oauth2_client_credentials', token_url: op.tokenUrl, client_id: clients.churn.client_id, client_secret: SECRET, scope: WEBHOOK_SCOPE },
    });
    const started = Date.now();
    const ids = await seedEvents(tdb.db, org.orgId, 12);
    // Every event tried at least once: delivered (its job gone), or its attempt counted.
    const untried = async () => (await jobRows(tdb.db, id)).filter((j) => ids.includes(j.event_id) && j.attempts === 0).length;
    await expect.poll(untried, { timeout: 90_000 }).toBe(0);
    const grants = op.grants.get(clients.churn.client_id) ?? 0;
    // The first token, three after refusals, then one per 30 s of the run: not one per request.
    expect(grants).toBeLessThanOrEqual(1 + REFUSAL_FETCHES + Math.ceil((Date.now() - started) / REFUSAL_FETCH_EVERY_MS));
    // Each token was sent at most twice (accepted, then refused).
    expect(new Set(r.requests.map((q) => bearerOf(q))).size).toBeLessThanOrEqual(grants);
    expect(r.requests.length).toBeLessThanOrEqual(2 * grants);
    // The events not delivered are retried: a token the SIEM refused, or none fetched yet, says so.
    expect((await call('GET', `${base()}/${id}`)).body.last_error).toMatch(/401|refused the last access tokens/);
  });

  // An OAuth2 review: a token endpoint's 429 was an ordinary failure, an attempt spent per try with
  // its Retry-After ignored, so a throttled endpoint dead-lettered events a healthy SIEM would take.
  it("a token endpoint's 429 paces the destination as a SIEM's would: no attempt spent, its Retry-After kept", async () => {
    let refusals = 0;
    const tokens = await receiver((): ReceiverResponse => {
      // Five refusals: with AEGIS_RETRY_DELAYS_S 1,1,1 an event has four attempts.
      if (refusals < 5) {
        refusals++;
        return { status: 429, headers: { 'retry-after': '1', 'content-type': 'application/json' }, body: '{"error":"slow_down"}' };
      }
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"access_token":"tok-paced-0123456789","token_type":"Bearer","expires_in":3600}',
      };
    });
    const r = await receiver((req) => (bearerOf(req) === 'tok-paced-0123456789' ? { status: 204 } : INVALID_TOKEN));
    const { id } = await create({
      siem: 'custom',
      url: `${r.url}/hook`,
      filter: DECISIONS_ONLY,
      auth: { type: 'oauth2_client_credentials', token_url: `${tokens.url}/token`, client_id: 'aegis-paced-client', client_secret: SECRET },
    });
    const [eventId] = await seedEvents(tdb.db, org.orgId, 1);
    await r.waitFor((reqs) => reqs.some((q) => eventIdsOf(q).includes(eventId!)), 90_000);
    await expect.poll(async () => (await jobRows(tdb.db, id)).some((j) => j.event_id === eventId), { timeout: 30_000 }).toBe(false);
    expect(tokens.requests.length).toBe(6);
    // Each refusal's Retry-After (1 s) was waited out before the next token request (a loose lower bound).
    const at = tokens.requests.map((q) => q.receivedAt);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!, `gap ${i}`).toBeGreaterThanOrEqual(900);
  });

  it('Sentinel with format ocsf: TimeGenerated and the OCSF object per record; a new client secret is a trail event naming it only', async () => {
    const r = await receiver(validating());
    const { id } = await create({ ...sentinelBody(r, clients.sentinel), format: 'ocsf' });
    const ids = await seedEvents(tdb.db, org.orgId, 3);
    const records = () => r.requests.flatMap((q) => JSON.parse(q.body.toString('utf8')) as Array<Record<string, any>>);
    await r.waitFor(() => ids.every((pid) => records().some((rec) => rec.ocsf?.finding_info?.uid === pid)), 60_000);
    for (const q of r.requests) expect(q.headers['content-encoding']).toBe('gzip');
    for (const rec of records()) {
      expect(Object.keys(rec)).toEqual(['TimeGenerated', 'ocsf']);
      assertValidOcsf(rec.ocsf);
      expect(Date.parse(rec.TimeGenerated)).toBe(rec.ocsf.time);
    }

    const rotated = await call('PATCH', `${base()}/${id}`, {
      auth: { type: 'oauth2_client_credentials', token_url: op.tokenUrl, client_id: clients.sentinel.client_id, client_secret: SECRET },
    });
    expect(rotated.status, rotated.text).toBe(200);
    const { rows } = await tdb.db.query<{ p: string }>(`SELECT payload::text AS p FROM audit_events WHERE org_id = $1 AND left(id, 4) = 'cfg_'`, [org.orgId]);
    const trail = rows.map((row) => JSON.parse(row.p) as { event: { action: string }; aegis: { destination_id?: string; changed_fields: string[] } });
    const mine = trail.filter((e) => e.aegis.destination_id === id);
    expect(mine.find((e) => e.event.action === 'destination_created')?.aegis.changed_fields).toEqual([
      'url',
      'format',
      'auth.token_url',
      'auth.client_id',
      'auth.scope',
      'auth.token_endpoint_auth_method',
      'auth.client_secret',
      'enabled',
    ]);
    expect(mine.filter((e) => e.event.action === 'credential_rotated').map((e) => e.aegis.changed_fields)).toEqual([['auth.client_secret']]);
    expect(leakedForm(rows.map((row) => row.p).join('\n'), SECRET)).toBeNull();
  });

  it('a wrong client secret fails with a clear hint, and the secret is in no answer, row or log line', async () => {
    const r = await receiver(validating());
    // Preflight events only: the configuration trail's events (its own destination_created, the
    // probe's test_sent) would fail in requests of their own and open the circuit breaker (5 failed
    // requests in a row) before the seeded event has used up its 4 attempts.
    const { id } = await create({ ...sentinelBody(r, clients.wrong, WRONG_SECRET), filter: { 'event.dataset': 'aegis.preflight' } });
    const refusedBefore = op.refused;
    const probe = await call('POST', `${base()}/${id}/test`);
    expect(probe.body.ok).toBe(false);
    expect(probe.body.status_code).toBeNull();
    expect(probe.body.error).toMatch(/OAuth2 token request to 127\.0\.0\.1:\d+ failed: .*check the client id and the client secret/);
    expect(op.refused).toBeGreaterThan(refusedBefore);

    await seedEvents(tdb.db, org.orgId, 1);
    await expect.poll(async () => (await call('GET', `${base()}/${id}`)).body.status, { timeout: 60_000 }).toBe('failing');
    const view = await call('GET', `${base()}/${id}`);
    expect(view.body.last_error).toMatch(/check the client id and the client secret/);
    expect(r.requests).toHaveLength(0);
    const attempts = await call('GET', `${base()}/${id}/attempts`);
    expect(attempts.status).toBe(200);
    await expect.poll(async () => (await statusCounts(tdb.db, id)).failed ?? 0, { timeout: 60_000 }).toBe(1);
    const failed = await call('GET', `${base()}/${id}/failed-events`);

    const everything = [probe.text, view.text, attempts.text, failed.text, (await call('GET', base())).text, await dumpDatabase(tdb), svc.logs.text()].join(
      '\n',
    );
    for (const secret of [WRONG_SECRET, SECRET]) expect(leakedForm(everything, secret)).toBeNull();
    for (const token of accepted) expect(everything).not.toContain(token);
  });

  it('refuses what would send a stored secret or token to a new host, and Sentinel without auth', async () => {
    const r = await receiver(validating());
    const { id } = await create(sentinelBody(r, clients.sentinel));
    const other = `https://localhost:${r.port}/dataCollectionRules/${DCR}/streams/${STREAM}`;
    const moved = await call('PATCH', `${base()}/${id}`, { url: other });
    expect(moved.status).toBe(400);
    expect(moved.body.error.message).toMatch(/^url: .*client_secret/);
    const tokenMoved = await call('PATCH', `${base()}/${id}`, {
      auth: { type: 'oauth2_client_credentials', token_url: op.tokenUrl.replace('127.0.0.1', 'localhost'), client_id: clients.sentinel.client_id },
    });
    expect(tokenMoved.status).toBe(400);
    expect(tokenMoved.body.error.message).toMatch(/^auth\.client_secret: .*new host/);
    // Same host, no secret: the stored one is kept.
    const kept = await call('PATCH', `${base()}/${id}`, {
      auth: { type: 'oauth2_client_credentials', token_url: op.tokenUrl, client_id: clients.sentinel.client_id },
    });
    expect(kept.status, kept.text).toBe(200);
    expect(kept.body.auth.client_secret_configured).toBe(true);
    const removed = await call('PATCH', `${base()}/${id}`, { auth: null });
    expect(removed.status).toBe(400);
    const noAuth = await call('POST', base(), { siem: 'microsoft_sentinel', url: `${r.url}/dataCollectionRules/${DCR}/streams/${STREAM}` });
    expect(noAuth.status).toBe(400);
    expect(noAuth.body.error.message).toMatch(/^auth: is required/);
    const badUrl = await call('POST', base(), { ...sentinelBody(r, clients.sentinel), url: r.url });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.error.message).toMatch(/^url: must be the Logs Ingestion URL/);
    const header = await call('POST', base(), { ...sentinelBody(r, clients.sentinel), auth_header_value: 'Bearer x' });
    expect(header.status).toBe(400);
    const elastic = await call('POST', base(), { siem: 'elastic', url: `${r.url}/_bulk`, auth: sentinelBody(r, clients.sentinel).auth });
    expect(elastic.status).toBe(400);
    expect(elastic.body.error.message).toMatch(/^auth: /);
    // A tenant and an Entra ID token URL of another tenant: one of them would be shown, the other used.
    const otherTenant = 'contoso.onmicrosoft.com';
    const contradiction = await call('POST', base(), {
      ...sentinelBody(r, clients.sentinel),
      auth: {
        ...sentinelBody(r, clients.sentinel).auth,
        tenant_id: '72f988bf-86f1-41af-91ab-2d7cd011db47',
        token_url: `https://login.microsoftonline.com/${otherTenant}/oauth2/v2.0/token`,
      },
    });
    expect(contradiction.status, contradiction.text).toBe(400);
    expect(contradiction.body.error.message).toMatch(/^auth\.tenant_id: .*token_url asks tenant contoso\.onmicrosoft\.com/);
  });

  it('custom webhook with auth oauth2_client_credentials (client_secret_basic, a scope): one event per POST with the token', async () => {
    const r = await receiver(validating());
    const { id } = await create({
      siem: 'custom',
      url: `${r.url}/hook`,
      auth: { type: 'oauth2_client_credentials', token_url: op.tokenUrl, client_id: clients.webhook.client_id, client_secret: SECRET, scope: WEBHOOK_SCOPE },
    });
    const view = (await call('GET', `${base()}/${id}`)).body;
    expect(view.auth).toMatchObject({ scope: WEBHOOK_SCOPE, token_endpoint_auth_method: 'client_secret_basic', client_secret_configured: true });
    const ids = await seedEvents(tdb.db, org.orgId, 3);
    await r.waitFor((reqs) => new Set(reqs.flatMap(eventIdsOf)).size >= 3, 60_000);
    for (const q of r.requests) {
      expect(eventIdsOf(q)).toHaveLength(1);
      expect(ids).toContain(eventIdsOf(q)[0]);
      const payload = await op.verify(String(q.headers.authorization).slice('Bearer '.length));
      expect(payload).toMatchObject({ client_id: clients.webhook.client_id, scope: WEBHOOK_SCOPE });
    }
    expect(op.grants.get(clients.webhook.client_id)).toBe(1);
    // OAuth2 can be switched off again on a custom webhook.
    const off = await call('PATCH', `${base()}/${id}`, { auth: null });
    expect(off.status, off.text).toBe(200);
    expect(off.body.auth).toBeNull();
  });
  it("a token URL's own secret (a token proxy's ?code=) quoted back by its endpoint is in no error, log row or log line", async () => {
    const code = 'Zx9Qw2LmPp1Ab9Cd3Ef';
    // A hostile token endpoint: refuses every request, quoting the request line it was sent.
    const tokens = await receiver((req) => ({
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: 'invalid_request', error_description: `${req.method} ${req.path} not allowed` }),
    }));
    const r = await receiver(validating());
    // Preflight events only, as above: the trail's own events would open the circuit breaker first.
    const { id } = await create({
      siem: 'custom',
      url: `${r.url}/hook`,
      auth: { type: 'oauth2_client_credentials', token_url: `${tokens.url}/token?code=${code}`, client_id: 'aegis-proxy-client', client_secret: SECRET },
      filter: { 'event.dataset': 'aegis.preflight' },
    });
    const probe = await call('POST', `${base()}/${id}/test`);
    expect(probe.body.ok).toBe(false);
    expect(probe.body.error).toMatch(/OAuth2 token request to 127\.0\.0\.1:\d+ failed: .*invalid_request: POST \/token\?code=\[redacted\] not allowed/);
    // The endpoint did quote it: what is kept was scrubbed, not spared.
    expect(tokens.requests.some((q) => q.path.includes(code))).toBe(true);

    await seedEvents(tdb.db, org.orgId, 1);
    await expect.poll(async () => (await call('GET', `${base()}/${id}`)).body.last_error ?? null, { timeout: 60_000 }).toMatch(/\?code=\[redacted\]/);
    expect(r.requests).toHaveLength(0);
    const { rows } = await tdb.db.query<{ error: string | null; response_snippet: string | null }>(
      'SELECT error, response_snippet FROM delivery_attempts WHERE destination_id = $1',
      [id],
    );
    expect(rows.some((row) => row.error?.includes('?code=[redacted]'))).toBe(true);
    const jobs = await tdb.db.query('SELECT * FROM forwarding_jobs WHERE destination_id = $1', [id]);
    // The view shows the token URL as it shows a destination's url: its credential masked (an OAuth2
    // review found it in clear there, while every answer quoting it was scrubbed).
    const view = await call('GET', `${base()}/${id}`);
    expect(view.body.auth.token_url).toBe(`${tokens.url}/token?code=[redacted]`);
    // Sent back as shown (a form saving every field), it stands for the stored URL.
    const shown = { type: 'oauth2_client_credentials', token_url: view.body.auth.token_url, client_id: 'aegis-proxy-client' };
    const renamed = await call('PATCH', `${base()}/${id}`, { name: 'Proxy', auth: shown });
    expect(renamed.status, renamed.text).toBe(200);
    const { rows: stored } = await tdb.db.query<{ auth: { token_url: string } }>('SELECT auth FROM destinations WHERE id = $1', [id]);
    expect(stored[0]!.auth.token_url).toBe(`${tokens.url}/token?code=${code}`);
    // The mask elsewhere is refused: the credential would be lost.
    const masked = await call('PATCH', `${base()}/${id}`, { auth: { ...shown, token_url: `${tokens.url}/other?code=[redacted]` } });
    expect(masked.status).toBe(400);
    expect(masked.body.error.message).toMatch(/^auth\.token_url: holds \[redacted\]/);
    const kept = [
      probe.text,
      view.text,
      (await call('GET', `${base()}/${id}`)).text,
      (await call('GET', base())).text,
      (await call('GET', `${base()}/${id}`)).body.last_error,
      (await call('GET', `${base()}/${id}/attempts`)).text,
      (await call('GET', `${base()}/${id}/failed-events`)).text,
      JSON.stringify(rows),
      JSON.stringify(jobs.rows),
      svc.logs.text(),
    ].join('\n');
    expect(leakedForm(kept, code)).toBeNull();
  });

  /**
   * A custom webhook to `r` (preflight events only) whose tokens come from an authorization server of
   * its own issuing opaque tokens: two JWTs of one issuer share most of their text, and scrubbing one
   * cut most of the other, hiding its leak.
   */
  async function opaqueTokenWebhook(r: Receiver): Promise<{ id: string; issuer: OAuthServer }> {
    const issuer = await startOAuthServer([clients.quoted], { opaque: true });
    closers.push(() => issuer.close());
    const { id } = await create({
      siem: 'custom',
      url: `${r.url}/hook`,
      auth: { type: 'oauth2_client_credentials', token_url: issuer.tokenUrl, client_id: clients.quoted.client_id, client_secret: SECRET, scope: WEBHOOK_SCOPE },
      filter: { 'event.dataset': 'aegis.preflight' },
    });
    return { id, issuer };
  }

  // A hostile-SIEM review: each request was scrubbed of the token it carried only. A token it replaced
  // is still valid until it expires, and was kept in clear when a SIEM answering the new token quoted
  // the old one, or when the token endpoint refusing a refresh quoted the token still in use.
  it('an access token still valid is scrubbed from every answer, also from those to requests that no longer carry it', async () => {
    const seen: string[] = [];
    /** The tokens the SIEM refuses (revoked there): 401. Any other it quotes the first token back to. */
    const refused = new Set<string>();
    const r = await receiver((q) => {
      const token = bearerOf(q) ?? '';
      if (!seen.includes(token)) seen.push(token);
      if (refused.has(token)) return INVALID_TOKEN;
      if (token === seen[0]) return { status: 204 };
      return { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: `session bound to ${seen[0]}` }) };
    });
    const { id, issuer } = await opaqueTokenWebhook(r);
    const probe = async () => (await call('POST', `${base()}/${id}/test`)).text;
    const kept: string[] = [];
    kept.push(await probe()); // the first token, accepted
    expect(seen).toHaveLength(1);
    refused.add(seen[0]!);
    // Refused: a second token is fetched and the request sent again; its answer quotes the first.
    kept.push(await probe());
    expect(seen).toHaveLength(2);
    // The second token, cached: its answer quotes the first, which this request did not carry.
    kept.push(await probe());
    // The second is refused too, and the token endpoint, asked for a third, quotes both.
    refused.add(seen[1]!);
    issuer.refuseWith(`${seen[0]} and ${seen[1]} are still valid; refresh refused`);
    kept.push(await probe());
    kept.push(await probe()); // no token cached now: the endpoint's refusal is the whole answer
    expect(kept.at(-1)).toMatch(/invalid_grant/);
    expect(kept.slice(1, 3).join('\n')).toMatch(/session bound to \[redacted\]/);
    const { rows } = await tdb.db.query('SELECT error, response_snippet FROM delivery_attempts WHERE destination_id = $1', [id]);
    kept.push((await call('GET', `${base()}/${id}`)).text, (await call('GET', `${base()}/${id}/attempts`)).text, JSON.stringify(rows), svc.logs.text());
    for (const token of seen) expect(leakedForm(kept.join('\n'), token)).toBeNull();
  });

  // The attacker review of the fix above: a request in flight while another of the destination
  // fetched a newer token was scrubbed of the tokens known when it began, and its answer quoted the newer one.
  it('an answer quoting a token fetched while its request was in flight is scrubbed of it too', async () => {
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let heldOne = false;
    const r = await receiver(async (q) => {
      const token = bearerOf(q) ?? '';
      if (!seen.includes(token)) seen.push(token);
      if (token !== seen[0]) return { status: 204 };
      if (!heldOne) {
        // The first request waits here, until a second has had its token refused and a new one fetched.
        heldOne = true;
        await held;
        return { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: `superseded by ${seen[1]}` }) };
      }
      return INVALID_TOKEN;
    });
    const { id } = await opaqueTokenWebhook(r);
    const first = call('POST', `${base()}/${id}/test`);
    await expect.poll(() => heldOne, { timeout: 60_000 }).toBe(true);
    const second = await call('POST', `${base()}/${id}/test`);
    expect(second.body.ok, second.text).toBe(true);
    expect(seen).toHaveLength(2);
    release();
    const answer = (await first).text;
    expect(answer).toMatch(/superseded by \[redacted\]/);
    expect(leakedForm(answer, seen[1]!)).toBeNull();
  });

  it("a token endpoint's huge, multi-line `error` (text for the alert mail) reaches no answer or row: bounded, one line", async () => {
    // A hostile token endpoint: its `error` field is no RFC 6749 error code but lines of its own
    // (an alert e-mail quotes last_error as "What to do: ...") and 60 KB of padding.
    const injected = 'invalid_client\r\n\r\n  What to do: e-mail your API key to help@evil.example\r\nOpen in the dashboard: https://evil.example/login\r\n';
    const tokens = await receiver(() => ({
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: injected + 'A'.repeat(60_000), error_description: 'Bad client\r\nsecond line: help@evil.example' }),
    }));
    const r = await receiver(validating());
    // Preflight events only, as above: the trail's own events would open the circuit breaker first.
    const { id } = await create({
      siem: 'custom',
      url: `${r.url}/hook`,
      auth: { type: 'oauth2_client_credentials', token_url: `${tokens.url}/token`, client_id: 'aegis-hostile-client', client_secret: SECRET },
      filter: { 'event.dataset': 'aegis.preflight' },
    });
    /**
     * What a token failure may leave anywhere: the sentence (the probe's marked "test: "), at most
     * 300 characters, on one line, without the endpoint's text.
     */
    const bounded = (text: string | null | undefined) => {
      expect(text).toMatch(/^(test: )?OAuth2 token request to 127\.0\.0\.1:\d+ failed: /);
      expect(text!.replace(/^test: /, '').length).toBeLessThanOrEqual(300);
      expect(text).not.toMatch(/[\r\n]/);
      expect(text).not.toContain('evil.example');
    };
    const probe = await call('POST', `${base()}/${id}/test`);
    expect(probe.body.ok).toBe(false);
    bounded(probe.body.error);
    expect(probe.body.error).toMatch(/unreadable error code/);

    await seedEvents(tdb.db, org.orgId, 1);
    // The worker's attempts, not only the probe's.
    const attemptErrors = async () =>
      (await tdb.db.query<{ error: string | null }>('SELECT error FROM delivery_attempts WHERE destination_id = $1', [id])).rows.map((row) => row.error);
    await expect.poll(async () => (await attemptErrors()).filter((e) => !e?.startsWith('test: ')).length, { timeout: 60_000 }).toBeGreaterThan(0);
    bounded((await call('GET', `${base()}/${id}`)).body.last_error);
    for (const error of await attemptErrors()) bounded(error);
    const jobs = await tdb.db.query<{ last_error: string | null }>('SELECT last_error FROM forwarding_jobs WHERE destination_id = $1', [id]);
    for (const row of jobs.rows) if (row.last_error !== null) bounded(row.last_error);
    expect(r.requests).toHaveLength(0);
    // Only this test's service logs carry the endpoint's text if any line quoted it.
    expect(svc.logs.text()).not.toContain('evil.example');
  });

  // Last: afterwards the running service no longer holds the key of the rows re-encrypted here.
  it('rotate-encryption-key re-encrypts the client secret, which stays under its own purpose', async () => {
    const r = await receiver(validating());
    const { id } = await create(sentinelBody(r, clients.sentinel));
    const oldKey = svc.config.encryptionKey!;
    const newKey = `rot:${generateKeyBase64()}`;
    await rotateEncryptionKey(tdb.db, loadConfig({ AEGIS_ENCRYPTION_KEY: `${newKey},${oldKey}`, ...(tdb.url ? { DATABASE_URL: tdb.url } : {}) }), true);
    const { rows } = await tdb.db.query<{ auth_client_secret_sealed: Buffer }>('SELECT auth_client_secret_sealed FROM destinations WHERE id = $1', [id]);
    const box = Buffer.from(rows[0]!.auth_client_secret_sealed);
    expect(sealedKeyId(box)).toBe('rot');
    expect(open(parseKeyRing(newKey), box, associatedData(org.orgId, id, 'oauth_client_secret'))).toBe(SECRET);
    expect(() => open(parseKeyRing(newKey), box, associatedData(org.orgId, id, 'auth_header'))).toThrow();
  });
});
