import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, respondWith, startReceiver, type ReceivedRequest, type Receiver } from '../../support/httpsReceiver.js';
import { startSmtpReceiver, type ReceivedMail, type SmtpReceiver } from '../../support/smtpReceiver.js';
import { leakedForm } from '../../support/secretForms.js';
import { seedEvents } from '../delivery/support.js';

const SMTP_USER = 'aegis-hold';
const SMTP_PASSWORD = 'smtp-hold-Pa55word-never-mailed';

interface WebhookAlert {
  kind: string;
  destination_id: string;
  hint: string | null;
  failed_events: number | null;
  failing_since: string | null;
  hold_limit_at: string | null;
}

// The hold limit end to end: the real service and worker, a real SMTP server and a signed webhook
// receiver, a real HTTPS SIEM that fails and is then fixed, on both databases. No test waits hours:
// the start of the failing streak (destinations.failing_since) is moved back in the database, which
// is exactly what time passing does to it; the worker's hold round runs every AEGIS_WORKER_INTERVAL_MS.
describe.each(DB_KINDS)('hold limit (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let smtp: SmtpReceiver;
  let hooks: Receiver;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    smtp = await startSmtpReceiver(SMTP_USER, SMTP_PASSWORD);
    hooks = await startReceiver(ok('{}'));
    svc = await startTestService(tdb.db, {
      AEGIS_SMTP_URL: `smtp://${SMTP_USER}:${encodeURIComponent(SMTP_PASSWORD)}@127.0.0.1:${smtp.port}`,
      AEGIS_ALERT_FROM: 'alerts@example.com',
      AEGIS_ALERT_DIGEST_S: '0',
      // Long retries: the failed events stay queued (pending), as they would during a long outage.
      AEGIS_RETRY_DELAYS_S: '600,600,600',
      AEGIS_WORKER_INTERVAL_MS: '500',
      AEGIS_PUBLIC_URL: 'https://aegis.example.com',
    });
  });
  afterAll(async () => {
    await svc?.stop();
    for (const r of receivers) await r.close();
    await hooks?.close();
    await smtp?.close();
    await tdb?.close();
  });

  async function setup(token: string) {
    const org = await svc.newOrg();
    const email = `hold-${org.orgId.slice(-8).toLowerCase()}@example.com`;
    const put = await svc.request('PUT', `/api/orgs/${org.orgId}/notification-settings`, {
      apiKey: org.apiKey,
      body: { emails: [email], webhook_url: `${hooks.url}/ops` },
    });
    expect(put.status, put.text).toBe(200);
    const wh = new Webhook(put.body.webhook_signing_secret as string);
    const r = await startReceiver(respondWith(401, 'invalid token'));
    receivers.push(r);
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: `${r.url}/in`, name: 'Held SIEM', auth_header_name: 'Authorization', auth_header_value: token },
    });
    expect(res.status, res.text).toBe(201);
    const id = res.body.destination_id as string;
    // Its own destination_created trail event is delivered first: in a claim with a failing event it
    // would clear last_error and end the streak. Not filtered out: a test below relies on test_sent.
    const sql = `SELECT count(*)::int AS n FROM forwarding_jobs WHERE destination_id = $1 AND status <> 'done'`;
    await expect.poll(async () => (await tdb.db.query<{ n: number }>(sql, [id])).rows[0]!.n, { timeout: 60_000 }).toBe(0);
    const mails = (): ReceivedMail[] => smtp.mails.filter((m) => m.to.includes(email));
    const webhookRequests = (): ReceivedRequest[] => hooks.requests.filter((q) => JSON.parse(q.body.toString('utf8')).org_id === org.orgId);
    const alerts = (): WebhookAlert[] =>
      webhookRequests().flatMap((q) => {
        const headers = Object.fromEntries(Object.entries(q.headers).map(([k, v]) => [k, String(v)]));
        return (wh.verify(q.body.toString('utf8'), headers) as { alerts: WebhookAlert[] }).alerts;
      });
    const kinds = () => alerts().map((a) => a.kind);
    const mailCount = (headline: string) => mails().reduce((n, m) => n + m.decoded.split(`) ${headline} (`).length - 1, 0);
    const view = async () => (await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${id}`, { apiKey: org.apiKey })).body;
    /**
     * Moves the start of the failing streak back: what `hours` of failing do to it. The alert state
     * remembers which streak it warned about by its start, so it moves along (time passing moves
     * neither; it only makes both older).
     */
    const failFor = async (hours: number) => {
      await tdb.db.transaction(async (tx) => {
        const { rows } = await tx.query<{ before: string }>(`SELECT failing_since::text AS before FROM destinations WHERE id = $1 FOR UPDATE`, [id]);
        // Whole milliseconds: the alert state keeps the streak's start as a JavaScript Date does.
        await tx.query(`UPDATE destinations SET failing_since = date_trunc('milliseconds', now() - make_interval(secs => $2::float8)) WHERE id = $1`, [
          id,
          hours * 3600 + 60,
        ]);
        await tx.query(
          `UPDATE destination_alert_state SET streak_since = (SELECT failing_since FROM destinations WHERE id = $1) WHERE destination_id = $1 AND date_trunc('milliseconds', streak_since) = date_trunc('milliseconds', $2::timestamptz)`,
          [id, rows[0]!.before],
        );
      });
    };
    return { org, id, r, email, mails, webhookRequests, alerts, kinds, mailCount, view, failFor };
  }

  it('warns at 1 h, 24 h and 24 h before the limit, pauses at the limit dead-lettering the queue; replay resumes', async () => {
    const token = 'Bearer hold-token-77aa88bb99cc00dd';
    const s = await setup(token);
    await seedEvents(tdb.db, s.org.orgId, 3);
    await expect.poll(() => s.kinds().includes('failing') && s.mailCount('is failing') === 1, { timeout: 60_000 }).toBe(true);
    const failing = await s.view();
    expect(failing.status).toBe('failing');
    expect(failing.failing_since).not.toBeNull();
    // The limit is AEGIS_MAX_HOLD_HOURS (default 168 h) after the first failure.
    expect(Date.parse(failing.hold_limit_at) - Date.parse(failing.failing_since)).toBe(168 * 3_600_000);
    expect(failing.paused_reason).toBeNull();
    expect(failing.pending_events).toBe(3);

    await s.failFor(1);
    await expect.poll(() => s.mailCount('has been failing for 1 hour'), { timeout: 60_000 }).toBe(1);
    await s.failFor(24);
    await expect.poll(() => s.mailCount('has been failing for 24 hours'), { timeout: 60_000 }).toBe(1);
    await s.failFor(144);
    await expect.poll(() => s.mailCount('is approaching the hold limit') === 1 && s.kinds().includes('hold_limit_approaching'), { timeout: 60_000 }).toBe(true);
    const approaching = s.alerts().find((a) => a.kind === 'hold_limit_approaching')!;
    expect(Date.parse(approaching.hold_limit_at!) - Date.parse(approaching.failing_since!)).toBe(168 * 3_600_000);
    expect(approaching.hint).toMatch(/Authentication failed/);
    const mail = s.mails().find((m) => m.subject.endsWith('is approaching the hold limit'))!;
    expect(mail.subject).toBe('[Aegis] Held SIEM (Custom HTTPS webhook) is approaching the hold limit');
    expect(mail.decoded).toMatch(/\(in 2[34] h\) the hold limit \(168 h\) pauses this destination/);

    // The whole limit: the worker's hold round pauses it and dead-letters the queued events.
    await s.failFor(168);
    await expect.poll(async () => (await s.view()).paused_reason, { timeout: 60_000 }).toBe('hold_limit');
    const held = await s.view();
    expect(held.status).toBe('failing');
    expect(held.enabled).toBe(true);
    expect(held.hold_limit_at).toBeNull();
    expect(held.last_error).toMatch(
      /^Paused by the hold limit: failing without a break since .* \(168 h, the service's hold limit\); its queued events were dead-lettered\. Last error: HTTP 401: Authentication failed/,
    );
    expect(held.last_error).toMatch(/replay its dead-lettered events to resume\.$/);
    await expect.poll(async () => (await s.view()).failed_events, { timeout: 60_000 }).toBe(3);
    expect((await s.view()).pending_events).toBe(0);
    const dead = await svc.request('GET', `/api/orgs/${s.org.orgId}/forwarding-destinations/${s.id}/failed-events`, { apiKey: s.org.apiKey });
    expect(dead.body.events).toHaveLength(3);
    for (const e of dead.body.events)
      expect(e.last_error).toMatch(
        /^Dead-lettered by the hold limit: .* Replay this event once the destination is fixed\. Its last error: HTTP 401: Authentication failed/,
      );
    await expect.poll(() => s.mailCount('is paused by the hold limit') === 1 && s.kinds().includes('hold_limit_paused'), { timeout: 60_000 }).toBe(true);
    const pausedAlert = s.alerts().find((a) => a.kind === 'hold_limit_paused')!;
    expect(pausedAlert.failed_events).toBe(3);
    expect(pausedAlert.hint).toBe(held.last_error);

    // Paused: new events are dead-lettered too, nothing is sent to the SIEM.
    const sent = s.r.requests.length;
    await seedEvents(tdb.db, s.org.orgId, 2);
    await expect.poll(async () => (await s.view()).failed_events, { timeout: 60_000 }).toBe(5);
    expect(s.r.requests.length).toBe(sent);

    // Fixed, then replayed: the pause lifts, every event is delivered, one recovered alert.
    s.r.setHandler(ok());
    const replay = await svc.request('POST', `/api/orgs/${s.org.orgId}/forwarding-destinations/${s.id}/replay`, { apiKey: s.org.apiKey });
    expect(replay.status, replay.text).toBe(200);
    expect(replay.body.replayed).toBe(5);
    await expect.poll(async () => (await s.view()).status, { timeout: 60_000 }).toBe('active');
    const resumed = await s.view();
    expect(resumed).toMatchObject({ paused_reason: null, failing_since: null, hold_limit_at: null, failed_events: 0, pending_events: 0, last_error: null });
    await expect.poll(() => s.mailCount('has recovered') === 1 && s.kinds().includes('recovered'), { timeout: 60_000 }).toBe(true);

    // One alert per state, however many rounds judged it; the hold's dead letters are not alerted twice.
    expect(s.kinds().sort()).toEqual(['failing', 'failing_1h', 'failing_24h', 'hold_limit_approaching', 'hold_limit_paused', 'recovered']);
    const texts = [...s.mails().map((m) => m.raw), ...s.webhookRequests().map((q) => q.body.toString('utf8')), svc.logs.text()];
    for (const t of texts) for (const secret of [token, SMTP_PASSWORD]) expect(leakedForm(t, secret)).toBeNull();
  });

  it('PATCH enabled true also resumes a paused destination and starts a new streak; a successful test ends a streak', async () => {
    const s = await setup('Bearer hold-token-second-1234567890');
    await seedEvents(tdb.db, s.org.orgId, 1);
    await expect.poll(async () => (await s.view()).failing_since, { timeout: 60_000 }).not.toBeNull();
    await s.failFor(170);
    await expect.poll(async () => (await s.view()).paused_reason, { timeout: 60_000 }).toBe('hold_limit');
    await expect.poll(async () => (await s.view()).failed_events, { timeout: 60_000 }).toBe(1);
    // A test while paused does not resume it, and the card keeps saying since when it failed.
    const before = (await s.view()).failing_since;
    s.r.setHandler(ok());
    const test = await svc.request('POST', `/api/orgs/${s.org.orgId}/forwarding-destinations/${s.id}/test`, { apiKey: s.org.apiKey });
    expect(test.body.ok).toBe(true);
    expect(await s.view()).toMatchObject({ paused_reason: 'hold_limit', failing_since: before });
    // The test recorded a test_sent trail event, queued to this (enabled, paused) destination: the
    // hold round dead-letters it like any event arriving while paused.
    await expect.poll(async () => (await s.view()).failed_events, { timeout: 60_000 }).toBe(2);

    const patch = await svc.request('PATCH', `/api/orgs/${s.org.orgId}/forwarding-destinations/${s.id}`, { apiKey: s.org.apiKey, body: { enabled: true } });
    expect(patch.status).toBe(200);
    expect(patch.body).toMatchObject({ paused_reason: null, failing_since: null, failed_events: 2 });
    // New events flow at once; the dead letters wait for a replay.
    const sent = s.r.requests.length;
    await seedEvents(tdb.db, s.org.orgId, 1);
    await expect.poll(() => s.r.requests.length, { timeout: 60_000 }).toBeGreaterThan(sent);
    await expect.poll(async () => (await s.view()).status, { timeout: 60_000 }).toBe('active');

    // A new failing streak ends with a test event that got through.
    s.r.setHandler(respondWith(503, 'down'));
    await seedEvents(tdb.db, s.org.orgId, 1);
    await expect.poll(async () => (await s.view()).failing_since, { timeout: 60_000 }).not.toBeNull();
    s.r.setHandler(ok());
    expect((await svc.request('POST', `/api/orgs/${s.org.orgId}/forwarding-destinations/${s.id}/test`, { apiKey: s.org.apiKey })).body.ok).toBe(true);
    expect((await s.view()).failing_since).toBeNull();
  });
});
