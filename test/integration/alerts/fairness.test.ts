import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { DECISIONS_ONLY, hang, ok, respondWith, startReceiver, TEST_CA_PEM, type Receiver } from '../../support/httpsReceiver.js';
import { seedEvents } from '../delivery/support.js';
import { enqueueAlerts } from '../../../src/alerts/repository.js';
import { Alerter, MAX_SEND_ATTEMPTS, sendLeaseMs } from '../../../src/alerts/alerter.js';
import * as net from 'node:net';
import { createDeliveryDeps } from '../../../src/service.js';
import { generateKeyBase64, parseKeyRing } from '../../../src/crypto/keyring.js';

// Alerts between tenants and under a flood: every organization is swept and served within a bounded
// number of rounds whatever the others do, and a flapping destination does not grow the outbox without
// bound. Real service and worker on both databases; waits are on conditions with generous ceilings.

const detail = { destination_name: 'x', siem: 'custom', hint: null };

function alertsOf(r: Receiver, destinationId: string): string[] {
  return r.requests.flatMap((q) =>
    (JSON.parse(q.body.toString('utf8')) as { alerts: Array<{ kind: string; destination_id: string }> }).alerts
      .filter((a) => a.destination_id === destinationId)
      .map((a) => a.kind),
  );
}

describe.each(DB_KINDS)('alerts across tenants (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let hooks: Receiver;
  let tarpit: Receiver;
  const receivers: Receiver[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    hooks = await startReceiver(ok('{}'));
    tarpit = await startReceiver(hang());
    env = {
      AEGIS_ENCRYPTION_KEY: generateKeyBase64(),
      AEGIS_ALERT_DIGEST_S: '0',
      AEGIS_RETRY_DELAYS_S: '0.2,0.2',
      // The tarpit's sends end at this timeout (four at a time, the victim after five rounds of them); so
      // would any delivery or alert a loaded machine keeps waiting this long (10 s seen), failing and
      // moving the next try 30 s or more away: 2 s was too short for that, and each second more costs
      // five in the tarpit test.
      AEGIS_HTTP_TIMEOUT_MS: '4000',
      AEGIS_PUBLIC_URL: 'https://aegis.example.com',
    };
    svc = await startTestService(tdb.db, env);
  });
  afterAll(async () => {
    await svc?.stop();
    tarpit?.releaseHeld();
    for (const r of receivers) await r.close();
    await tarpit?.close();
    await hooks?.close();
    await tdb?.close();
  });

  it('the sweep reaches every alerted destination: 600 failing ones of other tenants sorting first do not hide a recovery after a restart', async () => {
    const org = await svc.newOrg('victim', 'org_zzvictim');
    const put = await svc.request('PUT', `/api/orgs/${org.orgId}/notification-settings`, {
      apiKey: org.apiKey,
      body: { emails: [], webhook_url: `${hooks.url}/ops` },
    });
    expect(put.status, put.text).toBe(200);
    const siem = await startReceiver(respondWith(503, 'down'));
    receivers.push(siem);
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: {
        url: `${siem.url}/in`,
        name: 'Victim SIEM',
        auth_header_name: 'Authorization',
        auth_header_value: 'Bearer tok-1234567890abcdef',
        filter: DECISIONS_ONLY,
      },
    });
    expect(res.status, res.text).toBe(201);
    const id = res.body.destination_id as string;
    await seedEvents(tdb.db, org.orgId, 1);
    await expect.poll(() => alertsOf(hooks, id).includes('failing'), { timeout: 60_000 }).toBe(true);

    // Other tenants, sorting before the victim: 6 organizations x 100 destinations, failing and alerted.
    for (let o = 0; o < 6; o++) {
      const f = await svc.newOrg('filler', `org_0000filler${o}`);
      // One transaction: the running worker's sweep of unjudged destinations would otherwise create
      // their state rows between the two statements.
      await tdb.db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO destinations SELECT (jsonb_populate_record(null::destinations, to_jsonb(d) || jsonb_build_object('id', 'fwd_fill' || $2 || '_' || g, 'org_id', $3::text, 'name', null))).*
             FROM destinations d, generate_series(1, 100) g WHERE d.id = $1`,
          [id, o, f.orgId],
        );
        await tx.query(`INSERT INTO destination_alert_state (org_id, destination_id, state) SELECT org_id, id, 'failing' FROM destinations WHERE org_id = $1`, [
          f.orgId,
        ]);
      });
    }
    // A restart (a deploy): the alerter's memory of alerted destinations is empty; only the sweep refills it.
    await svc.stop();
    svc = await startTestService(tdb.db, env);
    siem.setHandler(ok());
    const before = siem.requests.length;
    await seedEvents(tdb.db, org.orgId, 1);
    await expect.poll(() => siem.requests.length, { timeout: 30_000 }).toBeGreaterThan(before);
    await expect.poll(() => alertsOf(hooks, id).includes('recovered'), { timeout: 60_000, interval: 250 }).toBe(true);
    await tdb.db.query(`DELETE FROM destination_alert_state WHERE org_id LIKE 'org_0000filler%'`);
  }, 240_000);

  it('20 organizations with a backlog and a webhook that never answers do not keep another organization out of the send rounds', async () => {
    for (let o = 0; o < 20; o++) {
      const h = await svc.newOrg('hostile', `org_h${String(o).padStart(2, '0')}`);
      const put = await svc.request('PUT', `/api/orgs/${h.orgId}/notification-settings`, {
        apiKey: h.apiKey,
        body: { emails: [], webhook_url: `${tarpit.url}/h` },
      });
      expect(put.status, put.text).toBe(200);
      // A backlog older than anything the victim has: 200 alerts about 200 destinations.
      await tdb.db.query(
        `INSERT INTO alert_outbox (org_id, destination_id, kind, details, email_pending, webhook_pending, created_at)
         SELECT $1, 'fwd_b' || g, CASE WHEN g % 2 = 0 THEN 'failing' ELSE 'recovered' END, $2::jsonb, false, true, now() - interval '1 hour'
           FROM generate_series(1, 200) g`,
        [h.orgId, JSON.stringify(detail)],
      );
    }
    // Sorting after every hostile one: served only once the rounds take organizations in turn.
    const v = await svc.newOrg('victim', 'org_zzbvictim');
    const put = await svc.request('PUT', `/api/orgs/${v.orgId}/notification-settings`, {
      apiKey: v.apiKey,
      body: { emails: [], webhook_url: `${hooks.url}/v` },
    });
    expect(put.status, put.text).toBe(200);
    await tdb.db.transaction((tx) => enqueueAlerts(tx, v.orgId, 'fwd_victim', [{ kind: 'failing', details: detail }]));
    // As a set: an answer slower than the block's timeout on a loaded machine is sent again.
    await expect.poll(() => [...new Set(alertsOf(hooks, 'fwd_victim'))], { timeout: 150_000, interval: 250 }).toEqual(['failing']);
    // A failed channel is not retried before its backoff: each hostile organization was tried about once.
    expect(tarpit.count).toBeLessThanOrEqual(40);
    await tdb.db.query(`DELETE FROM alert_outbox WHERE org_id LIKE 'org_h%'`);
  }, 240_000);
});

describe.each(DB_KINDS)('alert flood (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let hooks: Receiver;
  let siem: Receiver | undefined;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    hooks = await startReceiver(ok('{}'));
    svc = await startTestService(tdb.db, {
      AEGIS_ENCRYPTION_KEY: generateKeyBase64(),
      AEGIS_ALERT_DIGEST_S: '3600', // the alerts stay in the outbox, to be counted
      AEGIS_RETRY_DELAYS_S: '0.2,0.2',
      AEGIS_PUBLIC_URL: 'https://aegis.example.com',
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await siem?.close();
    await hooks?.close();
    await tdb?.close();
  });

  it('a flapping SIEM (every other request 503) leaves one unsent alert with its latest state and the number of changes', async () => {
    const org = await svc.newOrg();
    const put = await svc.request('PUT', `/api/orgs/${org.orgId}/notification-settings`, {
      apiKey: org.apiKey,
      body: { emails: [], webhook_url: `${hooks.url}/ops` },
    });
    expect(put.status, put.text).toBe(200);
    let n = 0;
    siem = await startReceiver(() => (n++ % 2 === 0 ? { status: 503, body: 'backend down' } : { status: 200, body: '{}' }));
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: {
        url: `${siem.url}/in`,
        name: 'LB SIEM',
        auth_header_name: 'Authorization',
        auth_header_value: 'Bearer tok-1234567890abcdef',
        filter: DECISIONS_ONLY,
      },
    });
    expect(res.status, res.text).toBe(201);
    const id = res.body.destination_id as string;
    const outbox = async () =>
      (
        await tdb.db.query<{ kind: string; details: { changes?: number } }>(
          'SELECT kind, details FROM alert_outbox WHERE org_id = $1 AND destination_id = $2 ORDER BY id',
          [org.orgId, id],
        )
      ).rows;
    const state = async () =>
      (await tdb.db.query<{ state: string }>('SELECT state FROM destination_alert_state WHERE destination_id = $1', [id])).rows[0]?.state;
    const EVENTS = 12;
    for (let i = 0; i < EVENTS; i++) {
      const before = siem.requests.length;
      await seedEvents(tdb.db, org.orgId, 1);
      await expect.poll(() => siem!.requests.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(before + 2);
      // Judged: the last change (a recovery) has been recorded before the next flap.
      await expect.poll(state, { timeout: 30_000 }).toBe('ok');
    }
    await expect.poll(async () => (await outbox()).map((r) => r.kind).at(-1), { timeout: 30_000 }).toBe('recovered');
    const rows = await outbox();
    // The latest state, standing for every change since the first.
    expect(rows.map((r) => r.kind)).toEqual(['recovered']);
    // Every flip judged counts (two settles judged together may be one evaluation that saw no change).
    expect(rows[0]!.details.changes).toBeGreaterThanOrEqual(2);
    expect(rows[0]!.details.changes).toBeLessThanOrEqual(2 * EVENTS);
  }, 240_000);

  it('a replacement leaves an alert being sent alone, so the newer one never arrives first', async () => {
    const org = await svc.newOrg();
    const put = await svc.request('PUT', `/api/orgs/${org.orgId}/notification-settings`, {
      apiKey: org.apiKey,
      body: { emails: [], webhook_url: `${hooks.url}/ops` },
    });
    expect(put.status, put.text).toBe(200);
    await tdb.db.transaction((tx) => enqueueAlerts(tx, org.orgId, 'fwd_leased', [{ kind: 'failing', details: detail }]));
    // Claimed by a sender: under its lease until it settles.
    await tdb.db.query(`UPDATE alert_outbox SET next_attempt_at = now() + interval '2 minutes' WHERE org_id = $1`, [org.orgId]);
    await tdb.db.transaction((tx) => enqueueAlerts(tx, org.orgId, 'fwd_leased', [{ kind: 'recovered', details: detail }]));
    const { rows } = await tdb.db.query<{ kind: string; changes: number | null }>(
      `SELECT kind, (details->>'changes')::int AS changes FROM alert_outbox WHERE org_id = $1 ORDER BY id`,
      [org.orgId],
    );
    expect(rows).toEqual([
      { kind: 'failing', changes: null },
      { kind: 'recovered', changes: null },
    ]);
  });
});

describe.each(DB_KINDS)('alert send attempts (%s)', (kind) => {
  let tdb: TestDb;
  let api: TestService;
  let failing: Receiver;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    failing = await startReceiver(respondWith(503, 'down'));
    // API only: no worker, no alerter of its own; the test runs the alerter's rounds itself.
    api = await startTestService(tdb.db, { AEGIS_ENCRYPTION_KEY: generateKeyBase64(), AEGIS_SMTP_URL: 'smtp://u:p@127.0.0.1:9' }, 'api');
  });
  afterAll(async () => {
    await api?.stop();
    await failing?.close();
    await tdb?.close();
  });

  /** An alerter of the test's own, its rounds run by the test (tick), over `smtpUrl` (null: no e-mail). */
  function alerterOf(smtpUrl: string | null): Alerter {
    const keyRing = parseKeyRing(api.config.encryptionKey!);
    const client = createDeliveryDeps(tdb.db, keyRing, api.config, TEST_CA_PEM).client;
    return new Alerter(
      { db: tdb.db, keyRing, client, logger: api.logs.logger },
      { publicUrl: 'https://aegis.example.com', smtpUrl, alertFrom: 'alerts@example.com', digestWindowMs: 0 },
    );
  }

  it('a round where both channels fail counts as one attempt: the alert is given up after the fifth round', async () => {
    const org = await api.newOrg();
    const put = await api.request('PUT', `/api/orgs/${org.orgId}/notification-settings`, {
      apiKey: org.apiKey,
      body: { emails: ['soc@example.com'], webhook_url: `${failing.url}/ops` },
    });
    expect(put.status, put.text).toBe(200);
    await tdb.db.transaction((tx) => enqueueAlerts(tx, org.orgId, 'fwd_d', [{ kind: 'failing', details: detail }]));
    const alerter = alerterOf(api.config.alerts.smtpUrl);
    const row = async () => (await tdb.db.query<{ attempts: number }>('SELECT attempts FROM alert_outbox WHERE org_id = $1', [org.orgId])).rows[0] ?? null;
    try {
      for (let round = 1; round <= MAX_SEND_ATTEMPTS; round++) {
        await alerter.tick();
        expect(failing.requests.length).toBe(round);
        if (round < MAX_SEND_ATTEMPTS) {
          expect((await row())?.attempts).toBe(round);
          await tdb.db.query('UPDATE alert_outbox SET next_attempt_at = now() WHERE org_id = $1', [org.orgId]);
        }
      }
      expect(await row()).toBeNull();
    } finally {
      await alerter.stop();
    }
  }, 120_000);

  // An alerts review: mail went first and the webhook only after it, so a mail server that accepts
  // connections and never answers held every organization's webhook alert for its timeouts.
  it('a mail server that never answers does not hold the webhook alert: both channels go at once', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    let mailOpenWhenHookArrived: boolean | null = null;
    const hooks = await startReceiver(() => {
      mailOpenWhenHookArrived ??= sockets.size > 0;
      return { status: 204 };
    });
    const org = await api.newOrg();
    const put = await api.request('PUT', `/api/orgs/${org.orgId}/notification-settings`, {
      apiKey: org.apiKey,
      body: { emails: ['soc@example.com'], webhook_url: `${hooks.url}/ops` },
    });
    expect(put.status, put.text).toBe(200);
    await tdb.db.transaction((tx) => enqueueAlerts(tx, org.orgId, 'fwd_silent', [{ kind: 'failing', details: detail }]));
    const port = (silent.address() as net.AddressInfo).port;
    const alerter = alerterOf(`smtp://u:p@127.0.0.1:${port}`);
    try {
      const round = alerter.tick();
      // The webhook went out while the mail server still held its connection, its greeting awaited.
      await expect.poll(() => mailOpenWhenHookArrived, { timeout: 60_000 }).toBe(true);
      await round;
      // The mail failed (its greeting never came) and is retried; the webhook's part is done.
      const { rows } = await tdb.db.query<{ email_pending: boolean; webhook_pending: boolean; attempts: number }>(
        'SELECT email_pending, webhook_pending, attempts FROM alert_outbox WHERE org_id = $1',
        [org.orgId],
      );
      expect(rows).toEqual([{ email_pending: true, webhook_pending: false, attempts: 1 }]);
    } finally {
      await alerter.stop();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      await hooks.close();
    }
  }, 120_000);

  // A review of this round's changes: with each alert given up on its own count, a message could lose
  // one alert and gain another, keeping its first alert and its count, and so its webhook-id: a
  // receiver deduplicating on the id would drop the new alert.
  it('a message that lost an alert and gained another has a webhook-id of its own', async () => {
    const org = await api.newOrg();
    const put = await api.request('PUT', `/api/orgs/${org.orgId}/notification-settings`, {
      apiKey: org.apiKey,
      body: { emails: [], webhook_url: `${failing.url}/ops` },
    });
    expect(put.status, put.text).toBe(200);
    await tdb.db.transaction((tx) => enqueueAlerts(tx, org.orgId, 'fwd_x', [{ kind: 'failing', details: detail }]));
    await tdb.db.transaction((tx) => enqueueAlerts(tx, org.orgId, 'fwd_y', [{ kind: 'failing', details: detail }]));
    await tdb.db.query("UPDATE alert_outbox SET attempts = $2 WHERE org_id = $1 AND destination_id = 'fwd_y'", [org.orgId, MAX_SEND_ATTEMPTS - 1]);
    const alerter = alerterOf(null);
    const ids = () => failing.requests.filter((q) => q.body.toString('utf8').includes(org.orgId)).map((q) => String(q.headers['webhook-id']));
    try {
      await alerter.tick();
      // The kept alert's retry waits by its own count (30 s after its first try), not the given-up one's.
      const { rows } = await tdb.db.query<{ wait: number }>(
        "SELECT extract(epoch FROM next_attempt_at - now())::float8 AS wait FROM alert_outbox WHERE org_id = $1 AND destination_id = 'fwd_x'",
        [org.orgId],
      );
      expect(rows[0]!.wait).toBeLessThan(300);
      await tdb.db.transaction((tx) => enqueueAlerts(tx, org.orgId, 'fwd_z', [{ kind: 'failing', details: detail }]));
      await tdb.db.query('UPDATE alert_outbox SET next_attempt_at = now() WHERE org_id = $1', [org.orgId]);
      await alerter.tick();
      const sent = ids();
      expect(sent).toHaveLength(2);
      expect(sent[1]).not.toBe(sent[0]);
      // The same alerts tried again keep their id.
      await tdb.db.query('UPDATE alert_outbox SET next_attempt_at = now() WHERE org_id = $1', [org.orgId]);
      await alerter.tick();
      expect(ids()[2]).toBe(sent[1]);
    } finally {
      await alerter.stop();
    }
  }, 120_000);

  it("a send's lease outlasts both channels at the longest HTTP timeout allowed", () => {
    expect(sendLeaseMs(10_000)).toBe(120_000);
    // AEGIS_HTTP_TIMEOUT_MS at its maximum: a webhook call may take three times it.
    expect(sendLeaseMs(120_000)).toBeGreaterThan(3 * 120_000);
  });

  // An alerts review: a failed channel lines the organization's other due alerts up with the failed
  // ones, so an alert queued during an outage went out in the same message as one on its fifth try,
  // and was given up with it after one try of its own.
  it("an alert sent beside one on its last try is given up on its own count, not the other's", async () => {
    const org = await api.newOrg();
    const put = await api.request('PUT', `/api/orgs/${org.orgId}/notification-settings`, {
      apiKey: org.apiKey,
      body: { emails: ['soc@example.com'], webhook_url: `${failing.url}/ops` },
    });
    expect(put.status, put.text).toBe(200);
    await tdb.db.transaction((tx) => enqueueAlerts(tx, org.orgId, 'fwd_old', [{ kind: 'failing', details: detail }]));
    await tdb.db.query('UPDATE alert_outbox SET attempts = $2 WHERE org_id = $1', [org.orgId, MAX_SEND_ATTEMPTS - 1]);
    await tdb.db.transaction((tx) => enqueueAlerts(tx, org.orgId, 'fwd_new', [{ kind: 'failing', details: detail }]));
    const alerter = alerterOf(api.config.alerts.smtpUrl);
    const rows = async () =>
      (
        await tdb.db.query<{ destination_id: string; attempts: number; email_pending: boolean; webhook_pending: boolean }>(
          'SELECT destination_id, attempts, email_pending, webhook_pending FROM alert_outbox WHERE org_id = $1 ORDER BY id',
          [org.orgId],
        )
      ).rows;
    try {
      const before = failing.requests.length;
      await alerter.tick();
      // One message carried both (both channels failed); the old alert is given up, the new one kept
      // with its first attempt counted, still due on both channels.
      expect(failing.requests.length).toBe(before + 1);
      const sent = JSON.parse(failing.requests.at(-1)!.body.toString('utf8')) as { alerts: Array<{ destination_id: string }> };
      expect(sent.alerts.map((a) => a.destination_id).sort()).toEqual(['fwd_new', 'fwd_old']);
      expect(await rows()).toEqual([{ destination_id: 'fwd_new', attempts: 1, email_pending: true, webhook_pending: true }]);
      // It gets its own five.
      for (let round = 2; round <= MAX_SEND_ATTEMPTS; round++) {
        await tdb.db.query('UPDATE alert_outbox SET next_attempt_at = now() WHERE org_id = $1', [org.orgId]);
        await alerter.tick();
        expect(await rows(), `round ${round}`).toEqual(round < MAX_SEND_ATTEMPTS ? [expect.objectContaining({ attempts: round })] : []);
      }
    } finally {
      await alerter.stop();
    }
  }, 120_000);
});
