import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { DECISIONS_ONLY, ok, respondWith, startReceiver, type ReceivedRequest, type Receiver } from '../../support/httpsReceiver.js';
import { startSmtpReceiver, type ReceivedMail, type SmtpReceiver } from '../../support/smtpReceiver.js';
import { leakScanner } from '../../support/secretForms.js';
import { seedEvents } from '../delivery/support.js';
import { enqueueAlerts } from '../../../src/alerts/repository.js';
import { tenantNumbers } from '../../../src/orgs/tenantNumbers.js';
import { generateKeyBase64 } from '../../../src/crypto/keyring.js';

const SMTP_USER = 'aegis-alerts';
const SMTP_PASSWORD = 'smtp-Pa55word-never-in-a-mail';

interface WebhookAlert {
  kind: string;
  destination_id: string;
  hint: string | null;
  dashboard_url: string;
}

// Alerts end to end: the real service and worker, a real SMTP server receiving what nodemailer sends,
// a real HTTPS receiver for the signed operational webhook, on both databases. The digest window is
// 0 so each test waits on conditions, not on a timer.
describe.each(DB_KINDS)('alerts (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let smtp: SmtpReceiver;
  let hooks: Receiver;
  const receivers: Receiver[] = [];
  let smtpClosed = false;

  let env: Record<string, string>;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    smtp = await startSmtpReceiver(SMTP_USER, SMTP_PASSWORD);
    hooks = await startReceiver(ok('{}'));
    env = {
      // One key for the file: the restart test starts the service again and must read its secrets.
      AEGIS_ENCRYPTION_KEY: generateKeyBase64(),
      AEGIS_SMTP_URL: `smtp://${SMTP_USER}:${encodeURIComponent(SMTP_PASSWORD)}@127.0.0.1:${smtp.port}`,
      AEGIS_ALERT_FROM: 'Aegis <alerts@example.com>',
      AEGIS_ALERT_DIGEST_S: '0',
      AEGIS_RETRY_DELAYS_S: '0.2,0.2',
      AEGIS_PUBLIC_URL: 'https://aegis.example.com',
    };
    svc = await startTestService(tdb.db, env);
  });
  afterAll(async () => {
    await svc?.stop();
    for (const r of receivers) await r.close();
    await hooks?.close();
    if (!smtpClosed) await smtp?.close();
    await tdb?.close();
  });

  /** An org whose alerts go to its own address and to the webhook receiver; a failing custom destination. */
  async function setup(handler: Parameters<typeof startReceiver>[0], token: string) {
    const org = await svc.newOrg();
    const email = `oncall-${org.orgId.slice(-8).toLowerCase()}@example.com`;
    const put = await svc.request('PUT', `/api/orgs/${org.orgId}/notification-settings`, {
      apiKey: org.apiKey,
      body: { emails: [email], webhook_url: `${hooks.url}/ops` },
    });
    expect(put.status, put.text).toBe(200);
    const secret = put.body.webhook_signing_secret as string;
    expect(secret).toMatch(/^whsec_/);
    const r = await startReceiver(handler);
    receivers.push(r);
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      // Decisions only: its own trail event, delivered in a failing claim, clears last_error (the hint) and the breaker.
      body: {
        url: `${r.url}/in`,
        name: 'Primary SIEM',
        auth_header_name: 'Authorization',
        auth_header_value: token,
        filter: DECISIONS_ONLY,
      },
    });
    expect(res.status, res.text).toBe(201);
    const id = res.body.destination_id as string;
    const mails = (): ReceivedMail[] => smtp.mails.filter((m) => m.to.includes(email));
    const wh = new Webhook(secret);
    const webhookRequests = (): ReceivedRequest[] => hooks.requests.filter((q) => JSON.parse(q.body.toString('utf8')).org_id === org.orgId);
    /** Every alert the webhook received for this org, each request's signature verified. */
    const webhookAlerts = (): WebhookAlert[] =>
      webhookRequests().flatMap((q) => {
        const headers = Object.fromEntries(Object.entries(q.headers).map(([k, v]) => [k, String(v)]));
        return (wh.verify(q.body.toString('utf8'), headers) as { alerts: WebhookAlert[] }).alerts;
      });
    const kinds = () => webhookAlerts().map((a) => a.kind);
    /** Alert headlines in the mails ("Primary SIEM (Custom ...) is failing (time)"). */
    const mailCount = (headline: string) => mails().reduce((n, m) => n + m.decoded.split(`) ${headline} (`).length - 1, 0);
    return { org, id, r, email, secret, mails, webhookRequests, webhookAlerts, kinds, mailCount };
  }

  function scanForSecrets(texts: string[], secrets: string[]): void {
    for (const text of texts) {
      const leaked = leakScanner(text);
      for (const s of secrets) expect(leaked(s), `a form of a secret leaked: ${text.slice(0, 200)}`).toBeNull();
    }
  }

  it('the start warns once that alert mail may go to any address (no AEGIS_ALERT_EMAIL_DOMAINS)', () => {
    const warned = svc.logs.lines.filter((l) => l.includes('AEGIS_SMTP_URL is set and AEGIS_ALERT_EMAIL_DOMAINS is not'));
    expect(warned).toHaveLength(1);
    expect(JSON.parse(warned[0]!).level).toBe(40);
    expect(warned[0]).not.toContain(SMTP_PASSWORD);
  });

  it('settings: GET before any PUT, round trip, secret shown once, 400s naming the path, other tenants refused', async () => {
    const org = await svc.newOrg();
    const other = await svc.newOrg();
    const path = `/api/orgs/${org.orgId}/notification-settings`;
    const empty = await svc.request('GET', path, { apiKey: org.apiKey });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ emails: [], webhook_url: null, webhook_signing_secret_configured: false, email_available: true, updated_at: null });

    const put = await svc.request('PUT', path, { apiKey: org.apiKey, body: { emails: [' a@example.com ', 'b@example.org'], webhook_url: `${hooks.url}/x` } });
    expect(put.status, put.text).toBe(200);
    expect(put.body.emails).toEqual(['a@example.com', 'b@example.org']);
    expect(put.body.webhook_signing_secret).toMatch(/^whsec_/);
    const got = await svc.request('GET', path, { apiKey: org.apiKey });
    expect(got.body).toMatchObject({ emails: ['a@example.com', 'b@example.org'], webhook_url: `${hooks.url}/x`, webhook_signing_secret_configured: true });
    expect(got.text).not.toContain(put.body.webhook_signing_secret);
    // The same webhook keeps its secret; rotating makes a new one.
    const again = await svc.request('PUT', path, { apiKey: org.apiKey, body: { emails: [], webhook_url: `${hooks.url}/x` } });
    expect(again.body.webhook_signing_secret).toBeUndefined();
    const rotated = await svc.request('PUT', path, { apiKey: org.apiKey, body: { emails: [], webhook_url: `${hooks.url}/x`, rotate_webhook_secret: true } });
    expect(rotated.body.webhook_signing_secret).toMatch(/^whsec_/);
    expect(rotated.body.webhook_signing_secret).not.toBe(put.body.webhook_signing_secret);

    const bad = async (body: unknown) => {
      const res = await svc.request('PUT', path, { apiKey: org.apiKey, body });
      expect(res.status, res.text).toBe(400);
      return res.body.error as { code: string; message: string; details?: { path: string }[] };
    };
    expect((await bad({ emails: ['ok@example.com', 'not-an-address'], webhook_url: null })).message).toMatch(/^emails\[1\]/);
    expect((await bad({ emails: ['x@example.com\r\nBcc: evil@example.com'], webhook_url: null })).message).toMatch(/^emails\[0\]/);
    expect((await bad({ emails: ['a@example.com', 'A@example.com'], webhook_url: null })).message).toMatch(/^emails\[1\]: is listed twice/);
    expect((await bad({ emails: Array.from({ length: 11 }, (_, i) => `u${i}@example.com`), webhook_url: null })).message).toMatch(/emails/);
    expect((await bad({ emails: [], webhook_url: 'ftp://example.com/x' })).message).toMatch(/^webhook_url/);
    expect((await bad({ emails: [], webhook_url: 'https://user:pw@example.com/x' })).message).toMatch(/^webhook_url/);
    expect((await bad({ emails: [] })).message).toMatch(/webhook_url/);
    expect((await bad({ emails: [], webhook_url: null, extra: 1 })).message).toMatch(/extra/);
    expect((await bad({ emails: [], webhook_url: null, rotate_webhook_secret: true })).message).toMatch(/^rotate_webhook_secret/);
    const many = await bad({ emails: ['bad1', 'bad2'], webhook_url: 'nope' });
    expect(many.details?.map((d) => d.path)).toEqual(['/emails/0', '/emails/1', '/webhook_url']);

    // Tenant-scoped: another org's key, or none, gets nothing and changes nothing.
    expect((await svc.request('GET', path, { apiKey: other.apiKey })).status).toBe(404);
    expect((await svc.request('PUT', path, { apiKey: other.apiKey, body: { emails: [], webhook_url: null } })).status).toBe(404);
    expect((await svc.request('GET', path)).status).toBe(401);
    expect((await svc.request('GET', path, { apiKey: org.apiKey })).body.webhook_url).toBe(`${hooks.url}/x`);
  });

  it('failing -> exactly one alert after many failed requests; paused after 15 minutes; recovered -> one alert; signed, linked, no secret', async () => {
    const token = 'Bearer dest-token-9f8e7d6c5b4a39281706';
    // The SIEM refuses with 400 and echoes the credential: the hint quotes the answer, scrubbed.
    const echo = (q: ReceivedRequest) => ({ status: 400, body: `bad request, you sent ${String(q.headers.authorization)}` });
    const s = await setup(echo, token);
    await seedEvents(tdb.db, s.org.orgId, 8);
    await expect.poll(() => s.kinds().includes('failing') && s.mailCount('is failing') >= 1, { timeout: 60_000 }).toBe(true);
    // The breaker has opened: at least its threshold of requests failed, and more were in flight.
    await expect.poll(() => s.r.requests.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(5);
    const failing = s.webhookAlerts().find((a) => a.kind === 'failing')!;
    expect(failing.destination_id).toBe(s.id);
    expect(failing.dashboard_url).toBe(`https://aegis.example.com/settings/siem-forwarding/${s.id}/edit`);
    // The hint is the destination's own last_error, the sentence its card shows.
    const view = await svc.request('GET', `/api/orgs/${s.org.orgId}/forwarding-destinations/${s.id}`, { apiKey: s.org.apiKey });
    expect(failing.hint).toBe(view.body.last_error);
    expect(failing.hint).toMatch(/rejected the event format/);
    const mail = s.mails()[0]!;
    expect(mail.from).toBe('alerts@example.com');
    expect(mail.subject).toBe('[Aegis] Primary SIEM (Custom HTTPS webhook) is failing');
    expect(mail.decoded).toContain(view.body.last_error);
    expect(mail.decoded).toContain(`https://aegis.example.com/settings/siem-forwarding/${s.id}/edit`);

    // The breaker has held it for 15 minutes (moved back in time in the database): one "paused" alert.
    await tdb.db.query(`UPDATE destination_alert_state SET breaker_open_since = now() - interval '16 minutes' WHERE destination_id = $1`, [s.id]);
    await expect.poll(() => s.kinds().includes('paused') && s.mailCount('is paused by its circuit breaker') === 1, { timeout: 60_000 }).toBe(true);

    // Fixed, and re-enabled (which lifts the breaker's pause): the queued events flow, one "recovered".
    s.r.setHandler(ok());
    const patch = await svc.request('PATCH', `/api/orgs/${s.org.orgId}/forwarding-destinations/${s.id}`, { apiKey: s.org.apiKey, body: { enabled: true } });
    expect(patch.status).toBe(200);
    await expect.poll(() => s.kinds().includes('recovered') && s.mailCount('has recovered') === 1, { timeout: 60_000 }).toBe(true);
    const before = s.r.requests.length;
    await seedEvents(tdb.db, s.org.orgId, 3);
    await expect.poll(() => s.r.requests.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(before + 3);
    // Persisted state, not memory: one of each, however many requests failed.
    expect(s.kinds().filter((k) => k === 'failing')).toHaveLength(1);
    expect(s.kinds().filter((k) => k === 'recovered')).toHaveLength(1);
    expect(s.kinds().filter((k) => k === 'paused')).toHaveLength(1);
    expect(s.mailCount('is failing')).toBe(1);
    expect(s.mailCount('has recovered')).toBe(1);

    const texts = [...s.mails().map((m) => m.raw), ...s.mails().map((m) => m.decoded), ...s.webhookRequests().map((q) => q.body.toString('utf8'))];
    scanForSecrets(texts, [token, SMTP_PASSWORD, s.secret]);
    scanForSecrets([svc.logs.text()], [token, SMTP_PASSWORD, s.secret]);
    expect(smtp.authFailures).toBe(0);
  });

  it('dead letters -> one alert naming how many, with the failing alert in the same digest or before', async () => {
    const token = 'Bearer dl-token-0a1b2c3d4e5f60718293';
    const s = await setup(respondWith(503, 'maintenance'), token);
    // One event: three attempts (0.2 s apart), below the breaker's threshold, then dead-lettered.
    await seedEvents(tdb.db, s.org.orgId, 1);
    await expect.poll(() => s.kinds().includes('dead_letters') && s.mailCount('has dead-lettered events') === 1, { timeout: 60_000 }).toBe(true);
    const dl = s.webhookAlerts().find((a) => a.kind === 'dead_letters') as WebhookAlert & { failed_events: number };
    expect(dl.failed_events).toBe(1);
    expect(s.kinds().filter((k) => k === 'failing')).toHaveLength(1);
    expect(s.r.requests).toHaveLength(3);
    scanForSecrets([...s.mails().map((m) => m.raw), ...s.webhookRequests().map((q) => q.body.toString('utf8'))], [token, SMTP_PASSWORD]);
  });

  it('alerts of many destinations queued together go out as one digest: one mail, one signed webhook call', async () => {
    const s = await setup(ok(), 'Bearer digest-token-abcdef123456');
    const ids = ['fwd_digest_a', 'fwd_digest_b', 'fwd_digest_c'];
    // What the evaluations of a shared outage queue in one instant (the sender's side of the digest).
    const outboxIds = await tdb.db.transaction(async (tx) => {
      for (const id of ids)
        await enqueueAlerts(tx, s.org.orgId, id, [
          { kind: 'failing', details: { destination_name: null, siem: 'datadog', hint: 'Forbidden — the key was refused.' } },
        ]);
      return (await tx.query<{ id: string }>('SELECT id FROM alert_outbox WHERE org_id = $1 ORDER BY id', [s.org.orgId])).rows.map((r) => Number(r.id));
    });
    await expect.poll(() => s.webhookAlerts().filter((a) => ids.includes(a.destination_id)).length, { timeout: 60_000 }).toBe(3);
    await expect.poll(() => s.mails().filter((m) => m.subject === '[Aegis] 3 destination alerts for 3 destination(s)').length, { timeout: 60_000 }).toBe(1);
    const digestCalls = s.webhookRequests().filter((q) => ids.some((id) => q.body.toString('utf8').includes(id)));
    expect(digestCalls).toHaveLength(1);
    // Its id names the first alert by the organization's own number, not alert_outbox's server-wide
    // one (which would count every tenant's alerts).
    const shown = (await tenantNumbers(tdb.db, s.org.orgId, 'alert')).show(outboxIds[0]!);
    expect(digestCalls[0]!.headers['webhook-id']).toMatch(new RegExp(`^alert_${s.org.orgId}_${shown}_3_[0-9a-f]{12}$`));
    expect(shown).not.toBe(outboxIds[0]);
    const mail = s.mails().find((m) => m.subject.startsWith('[Aegis] 3 destination alerts'))!;
    for (const id of ids) expect(mail.decoded).toContain(`/settings/siem-forwarding/${id}/edit`);
    // Sent alerts leave the outbox.
    await expect
      .poll(async () => (await tdb.db.query('SELECT id FROM alert_outbox WHERE org_id = $1', [s.org.orgId])).rows.length, { timeout: 60_000 })
      .toBe(0);
  });

  it('a restart does not alert again: the last alerted state is a row, not memory', async () => {
    const s = await setup(respondWith(503, 'down'), 'Bearer restart-token-5566778899aa');
    await seedEvents(tdb.db, s.org.orgId, 1);
    await expect.poll(() => s.kinds().includes('dead_letters') && s.mailCount('has dead-lettered events') === 1, { timeout: 60_000 }).toBe(true);
    await svc.stop();
    svc = await startTestService(tdb.db, env);
    // Still failing after the restart: another failed request, judged by the new process.
    await seedEvents(tdb.db, s.org.orgId, 1);
    await expect.poll(() => s.r.requests.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(4);
    // Then fixed (re-enabling lifts the breaker, should the failures have opened it): the recovery is
    // judged after every earlier change of this destination, so once it arrives nothing else is pending.
    s.r.setHandler(ok());
    await svc.request('PATCH', `/api/orgs/${s.org.orgId}/forwarding-destinations/${s.id}`, { apiKey: s.org.apiKey, body: { enabled: true } });
    await seedEvents(tdb.db, s.org.orgId, 1);
    await expect.poll(() => s.kinds().includes('recovered') && s.mailCount('has recovered') === 1, { timeout: 60_000 }).toBe(true);
    expect(s.kinds().sort()).toEqual(['dead_letters', 'failing', 'recovered']);
    expect(s.mailCount('is failing')).toBe(1);
    expect(s.mailCount('has dead-lettered events')).toBe(1);
  });

  it('an unreachable SMTP server never holds deliveries; the webhook alert still goes out; the log has no password', async () => {
    await smtp.close();
    smtpClosed = true;
    const s = await setup(respondWith(503, 'down'), 'Bearer smtp-down-token-1234567890');
    await seedEvents(tdb.db, s.org.orgId, 1);
    await expect.poll(() => s.kinds().includes('failing'), { timeout: 60_000 }).toBe(true);
    await expect.poll(() => svc.logs.text().includes('alert e-mail failed; will retry'), { timeout: 60_000 }).toBe(true);
    // Deliveries go on while e-mail cannot: the SIEM is fixed and new events arrive at once.
    s.r.setHandler(ok());
    const before = s.r.requests.length;
    await seedEvents(tdb.db, s.org.orgId, 3);
    await expect.poll(() => s.r.requests.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(before + 3);
    await expect
      .poll(async () => (await svc.request('GET', `/api/orgs/${s.org.orgId}/forwarding-destinations/${s.id}`, { apiKey: s.org.apiKey })).body.status, {
        timeout: 60_000,
      })
      .toBe('active');
    await expect.poll(() => s.kinds().includes('recovered'), { timeout: 60_000 }).toBe(true);
    expect(svc.logs.text()).not.toContain(SMTP_PASSWORD);
    expect(svc.logs.text()).not.toContain(encodeURIComponent(SMTP_PASSWORD));
  });
});
