// The configuration trail names fields, never values: every kind of change is made with known secrets
// and values, and everything the SIEM received, the trail rows, the whole database and every log line
// are scanned for them (every spelling test/support/secretForms.ts knows for the secrets).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { dumpDatabase } from '../../support/dbDump.js';
import { leakScanner } from '../../support/secretForms.js';
import { validateTrailEvent } from '../../../src/events/validate.js';
import { trailOf } from './support.js';

const WAIT = { timeout: 60_000, interval: 100 };

describe.each(DB_KINDS)('configuration trail privacy (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let siem: Receiver;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
    siem = await startReceiver(undefined, { trail: 'handle' });
  });
  afterAll(async () => {
    await svc?.stop();
    await siem?.close();
    await tdb?.close();
  });

  it('no secret and no configured value reaches a trail event, the SIEM, the database or the logs', async () => {
    const { orgId, apiKey } = await svc.newOrg();
    const base = `/api/orgs/${orgId}/forwarding-destinations`;
    const tag = randomBytes(6).toString('hex');
    const credential1 = `Bearer trailcred1-${randomBytes(12).toString('hex')}`;
    const credential2 = `Splunk trailcred2-${randomBytes(12).toString('hex')}`;
    // Values that are not secrets but must stay out of the trail all the same.
    const urlToken = `urltoken${tag}`;
    const filterValue = `filtervalue${tag}`;
    const email = `oncall${tag}@example.com`;
    const hookToken = `hooktoken${tag}`;
    const clientId = `clientid${tag}`;
    const tokenPath = `tokenpath${tag}`;
    const clientSecret1 = `oauthsecret1-${randomBytes(12).toString('hex')}`;
    const clientSecret2 = `oauthsecret2-${randomBytes(12).toString('hex')}`;
    const returnedSecrets: string[] = [];
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await svc.request(method, path, { apiKey, ...(body !== undefined ? { body } : {}) });
      expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
      if (typeof res.body?.signing_secret === 'string') returnedSecrets.push(res.body.signing_secret);
      if (typeof res.body?.webhook_signing_secret === 'string') returnedSecrets.push(res.body.webhook_signing_secret);
      return res;
    };

    const watcher = (await call('POST', base, { siem: 'custom', url: `${siem.url}/watch` })).body.destination_id as string;
    const id = (
      await call('POST', base, {
        siem: 'custom',
        url: `${siem.url}/${urlToken}`,
        auth_header_name: 'Authorization',
        auth_header_value: credential1,
        signing: true,
        filter: { 'aegis.actor_id': { $ne: filterValue } },
      })
    ).body.destination_id as string;
    await call('PATCH', `${base}/${id}`, {
      url: `${siem.url}/${urlToken}/v2`,
      filter: { 'aegis.policy_id': { $ne: filterValue } },
    });
    // A preset option's value: set on a Datadog destination (a custom webhook takes none), disabled so
    // that the tag reaches no SIEM as the ddtags it is meant for.
    const dd = (await call('POST', base, { siem: 'datadog', url: `${siem.url}/dd`, enabled: false, options: { tags: `team:${tag}` } })).body
      .destination_id as string;
    await call('PATCH', `${base}/${dd}`, { options: { tags: `team:${tag}`, service: `svc${tag}` } });
    await call('PATCH', `${base}/${id}`, { auth_header_value: credential2 });
    await call('PATCH', `${base}/${id}`, { rotate_signing_secret: true });
    await call('PATCH', `${base}/${id}`, { auth_header_value: '' });
    await call('POST', `${base}/${id}/test`);
    await call('POST', `${base}/${id}/replay`, { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString() });
    await call('PUT', `/api/orgs/${orgId}/notification-settings`, { emails: [email], webhook_url: `${siem.url}/${hookToken}` });
    await call('PUT', `/api/orgs/${orgId}/notification-settings`, { emails: [email], webhook_url: `${siem.url}/${hookToken}`, rotate_webhook_secret: true });
    await call('PATCH', `${base}/${id}`, { enabled: false });
    await call('PATCH', `${base}/${id}`, { enabled: true });
    await call('DELETE', `${base}/${id}`);
    // OAuth2 client credentials (custom preset), disabled so no token is ever asked for: created,
    // its client secret rotated, auth removed, deleted.
    const oauth = { type: 'oauth2_client_credentials', token_url: `${siem.url}/${tokenPath}`, client_id: clientId };
    const oauthId = (await call('POST', base, { siem: 'custom', url: `${siem.url}/oauth`, enabled: false, auth: { ...oauth, client_secret: clientSecret1 } }))
      .body.destination_id as string;
    await call('PATCH', `${base}/${oauthId}`, { auth: { ...oauth, client_secret: clientSecret2 } });
    await call('PATCH', `${base}/${oauthId}`, { auth: null });
    await call('DELETE', `${base}/${oauthId}`);
    await expect.poll(() => trailOf(siem.requests).filter((e) => e.aegis.destination_id === oauthId).length, WAIT).toBe(4);
    const oauthTrail = trailOf(siem.requests).filter((e) => e.aegis.destination_id === oauthId);
    expect(oauthTrail.map((e) => [e.event.action, e.aegis.changed_fields])).toEqual([
      ['destination_created', ['url', 'format', 'auth.token_url', 'auth.client_id', 'auth.token_endpoint_auth_method', 'auth.client_secret', 'enabled']],
      ['credential_rotated', ['auth.client_secret']],
      ['credential_removed', ['auth']],
      ['destination_deleted', []],
    ]);

    // Every action reached the watching SIEM.
    const actions = () => new Set(trailOf(siem.requests).map((e) => e.event.action));
    await expect.poll(() => actions().size, WAIT).toBe(11);
    await expect.poll(async () => (await tdb.db.query('SELECT 1 FROM destinations WHERE id = $1', [id])).rowCount, WAIT).toBe(0);
    await svc.service.worker?.idle();
    expect(returnedSecrets.length).toBe(4); // created with signing, rotated, the webhook's first and rotated
    const secrets = [apiKey, credential1, credential2, clientSecret1, clientSecret2, ...returnedSecrets];
    const values = [urlToken, filterValue, email, hookToken, `team:${tag}`, clientId, tokenPath];

    const trail = trailOf(siem.requests);
    for (const e of trail) expect(validateTrailEvent(e)).toEqual([]);
    expect(trail.some((e) => e.aegis.destination_id === watcher)).toBe(true);
    const { rows } = await tdb.db.query<{ p: string }>(`SELECT payload::text AS p FROM audit_events WHERE org_id = $1 AND left(id, 4) = 'cfg_'`, [orgId]);
    expect(rows.length).toBeGreaterThanOrEqual(12);
    const trailText = [...rows.map((r) => r.p), ...trail.map((e) => JSON.stringify(e))].join('\n');
    // What the SIEM received: bodies and headers, but for the headers that carry the credential and signatures by design.
    const received = siem.requests
      .map((r) => {
        const { authorization: _a, 'webhook-signature': _s, ...headers } = r.headers;
        return `${r.body.toString('utf8')}\n${JSON.stringify(headers)}`;
      })
      .join('\n');
    const dump = await dumpDatabase(tdb);
    const logs = svc.logs.text();

    const [inTrail, inReceived, inDump, inLogs] = [trailText, received, dump, logs].map(leakScanner);
    for (const s of secrets) {
      expect(inTrail!(s), 'trail events').toBeNull();
      expect(inReceived!(s), 'received by the SIEM').toBeNull();
      expect(inDump!(s), 'database dump').toBeNull();
      expect(inLogs!(s), 'logs').toBeNull();
    }
    for (const v of values) {
      expect(trailText, 'trail events').not.toContain(v);
      expect(received.includes(v) ? v : null, 'received by the SIEM').toBeNull();
      expect(logs.includes(v) ? v : null, 'logs').toBeNull();
    }
  });
});
