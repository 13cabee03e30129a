import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { unjudgedDestinations } from '../../../src/alerts/repository.js';
import { evaluateAlerts, type StoredAlertState } from '../../../src/alerts/evaluate.js';
import { generateKeyBase64 } from '../../../src/crypto/keyring.js';

// A settle commits the destination's delivery state and only then is it judged for alerts (in memory,
// after the commit). When the process dies in between (kill -9, OOM, a deploy) or the judging fails on
// a database blip, the sweep must still find the change: no further settle may ever come for a single
// dead-lettered event or a paused destination with nothing queued. Real service on both databases;
// the settles are written as the worker commits them, with no evaluation.

function alertsOf(r: Receiver, destinationId: string): string[] {
  return r.requests.flatMap((q) =>
    (JSON.parse(q.body.toString('utf8')) as { alerts: Array<{ kind: string; destination_id: string }> }).alerts
      .filter((a) => a.destination_id === destinationId)
      .map((a) => a.kind),
  );
}

describe.each(DB_KINDS)('a settle whose evaluation never ran (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let hooks: Receiver;
  let siem: Receiver;
  let stopped = false;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    hooks = await startReceiver(ok('{}'));
    siem = await startReceiver(ok());
    svc = await startTestService(tdb.db, {
      AEGIS_ENCRYPTION_KEY: generateKeyBase64(),
      AEGIS_ALERT_DIGEST_S: '0',
      AEGIS_PUBLIC_URL: 'https://aegis.example.com',
    });
  });
  afterAll(async () => {
    if (!stopped) await svc?.stop();
    await siem?.close();
    await hooks?.close();
    await tdb?.close();
  });

  async function destination(orgId: string, apiKey: string, name: string): Promise<string> {
    const res = await svc.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, {
      apiKey,
      body: { url: `${siem.url}/in`, name, auth_header_name: 'Authorization', auth_header_value: 'Bearer tok-1234567890abcdef' },
    });
    expect(res.status, res.text).toBe(201);
    return res.body.destination_id as string;
  }

  it('the sweep alerts a failure and a dead letter whose evaluation was lost, and nothing for a healthy destination', async () => {
    const org = await svc.newOrg('crash');
    const put = await svc.request('PUT', `/api/orgs/${org.orgId}/notification-settings`, {
      apiKey: org.apiKey,
      body: { emails: [], webhook_url: `${hooks.url}/ops` },
    });
    expect(put.status, put.text).toBe(200);
    const failing = await destination(org.orgId, org.apiKey, 'Failing SIEM');
    const deadLettered = await destination(org.orgId, org.apiKey, 'Dead-lettered SIEM');
    const poison = await destination(org.orgId, org.apiKey, 'Poison event SIEM');
    const healthy = await destination(org.orgId, org.apiKey, 'Healthy SIEM');

    // The configuration trail's events (a destination created) are delivered to every destination:
    // once they all are, no settle comes any more to overwrite what follows.
    const settled = async () =>
      (
        await tdb.db.query<{ n: number; pending: number }>(
          `SELECT count(*) FILTER (WHERE last_attempt_at IS NOT NULL)::int AS n,
                  (SELECT count(*)::int FROM forwarding_jobs WHERE org_id = $1 AND status = 'pending') AS pending
             FROM destinations WHERE org_id = $1`,
          [org.orgId],
        )
      ).rows[0];
    await expect.poll(settled, { timeout: 60_000, interval: 100 }).toEqual({ n: 4, pending: 0 });

    // What settleClaim commits (queue/deliveryState.ts), with no evaluation after it:
    // failed requests up to the circuit breaker, which paused the destination; nothing more queued.
    await tdb.db.query(
      `UPDATE destinations SET last_attempt_at = now(), last_attempt_ok = false, last_error = 'HTTP 503: down', last_error_at = now(),
              failing_since = now(), consecutive_failures = 5, paused_until = now() + interval '30 seconds'
        WHERE org_id = $1 AND id = $2`,
      [org.orgId, failing],
    );
    // The one queued event ran out of retries and was dead-lettered.
    await tdb.db.query(
      `UPDATE destinations SET last_attempt_at = now(), last_attempt_ok = false, last_error = 'HTTP 503: down', last_error_at = now(),
              failing_since = now(), last_dead_letter_at = now(), consecutive_failures = 1,
              outcome_seq = outcome_seq + 1, last_dead_letter_seq = outcome_seq + 1
        WHERE org_id = $1 AND id = $2`,
      [org.orgId, deadLettered],
    );
    // One event the SIEM refused for good, beside delivered ones: dead-lettered, yet no failing streak.
    await tdb.db.query(
      `UPDATE destinations SET last_attempt_at = now(), last_attempt_ok = true, last_delivery_at = now(), last_dead_letter_at = now(),
              outcome_seq = outcome_seq + 1, last_delivery_seq = outcome_seq + 1, last_dead_letter_seq = outcome_seq + 1
        WHERE org_id = $1 AND id = $2`,
      [org.orgId, poison],
    );
    await tdb.db.query(
      `UPDATE destinations SET last_attempt_at = now(), last_attempt_ok = true, last_delivery_at = now(),
              outcome_seq = outcome_seq + 1, last_delivery_seq = outcome_seq + 1
        WHERE org_id = $1 AND id = $2`,
      [org.orgId, healthy],
    );

    await expect.poll(() => alertsOf(hooks, failing), { timeout: 60_000, interval: 250 }).toEqual(['failing']);
    await expect.poll(() => alertsOf(hooks, deadLettered).sort(), { timeout: 60_000, interval: 250 }).toEqual(['dead_letters', 'failing']);
    await expect.poll(() => alertsOf(hooks, poison), { timeout: 60_000, interval: 250 }).toEqual(['dead_letters']);
    // Judged once: the sweep does not find them again, so nothing more is queued for them.
    await expect
      .poll(async () => (await unjudgedDestinations(tdb.db, 500, 5000)).due.filter((d) => d.org_id === org.orgId), { timeout: 30_000, interval: 250 })
      .toEqual([]);
    // Polled: the receiver records a request before it answers, and the alerter empties the outbox
    // only once it has the answer.
    const outbox = async () => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM alert_outbox WHERE org_id = $1', [org.orgId])).rows[0]!.n;
    await expect.poll(outbox, { timeout: 30_000, interval: 250 }).toBe(0);
    // The healthy destination is neither alerted nor even judged by the sweep.
    expect(alertsOf(hooks, healthy)).toEqual([]);
    const state = await tdb.db.query('SELECT state FROM destination_alert_state WHERE org_id = $1 AND destination_id = $2', [org.orgId, healthy]);
    expect(state.rows).toEqual([]);
  }, 120_000);

  it('finds exactly the destinations the evaluation would act on, a window at a time with a cursor', async () => {
    const org = await svc.newOrg('matrix', 'org_zzmatrix');
    const template = await destination(org.orgId, org.apiKey, 'Template');
    await tdb.db.query('UPDATE destinations SET enabled = false WHERE org_id = $1 AND id = $2', [org.orgId, template]);
    // No worker judging the rows below meanwhile.
    await svc.stop();
    stopped = true;
    const t = (s: number | null) => (s === null ? null : new Date(Date.UTC(2026, 0, 1, 0, 0, s)));
    const times = [null, 10, 20, 30];
    type Case = {
      id: string;
      enabled: boolean;
      last_attempt_ok: boolean | null;
      last_delivery_at: Date | null;
      last_dead_letter_at: Date | null;
      // Numbered in the order of the times (the second each happened at).
      last_delivery_seq: number | null;
      last_dead_letter_seq: number | null;
      stored: StoredAlertState | null;
    };
    const cases: Case[] = [];
    let n = 0;
    for (const enabled of [true, false])
      for (const lastOk of [null, true, false])
        for (const delivered of times)
          for (const dead of times)
            for (const row of ['none', 'ok', 'ok-alerted-15', 'ok-alerted-25', 'failing'] as const) {
              const alertedSeq = row === 'ok-alerted-15' ? 15 : row === 'ok-alerted-25' ? 25 : null;
              cases.push({
                id: `fwd_m${String(n++).padStart(4, '0')}`,
                enabled,
                last_attempt_ok: lastOk,
                last_delivery_at: t(delivered),
                last_dead_letter_at: t(dead),
                last_delivery_seq: delivered,
                last_dead_letter_seq: dead,
                stored:
                  row === 'none'
                    ? null
                    : {
                        state: row === 'failing' ? 'failing' : 'ok',
                        breaker_open_since: null,
                        dead_letter_alerted_at: t(alertedSeq),
                        dead_letter_alerted_seq: alertedSeq,
                        streak_since: null,
                        streak_alerted_s: 0,
                      },
              });
            }
    for (const c of cases) {
      await tdb.db.query(
        `INSERT INTO destinations SELECT (jsonb_populate_record(null::destinations, to_jsonb(d) || jsonb_build_object('id', $3::text, 'name', null))).*
           FROM destinations d WHERE d.org_id = $1 AND d.id = $2`,
        [org.orgId, template, c.id],
      );
      await tdb.db.query(
        `UPDATE destinations SET enabled = $3, last_attempt_ok = $4, last_delivery_at = $5, last_dead_letter_at = $6,
                last_delivery_seq = $7, last_dead_letter_seq = $8, outcome_seq = 30 WHERE org_id = $1 AND id = $2`,
        [org.orgId, c.id, c.enabled, c.last_attempt_ok, c.last_delivery_at, c.last_dead_letter_at, c.last_delivery_seq, c.last_dead_letter_seq],
      );
      if (c.stored)
        await tdb.db.query(
          'INSERT INTO destination_alert_state (org_id, destination_id, state, dead_letter_alerted_at, dead_letter_alerted_seq) VALUES ($1, $2, $3, $4, $5)',
          [org.orgId, c.id, c.stored.state, c.stored.dead_letter_alerted_at, c.stored.dead_letter_alerted_seq],
        );
    }
    // Judged now (an hour on): what the evaluation would alert about a destination last judged 'ok'.
    const now = t(3600)!;
    const expected = cases
      .filter((c) => (c.stored?.state ?? 'ok') === 'ok')
      .filter(
        (c) =>
          evaluateAlerts(
            { ...c, consecutive_failures: 0, failing_since: null, hold_paused_at: null },
            c.stored ?? { state: 'ok', breaker_open_since: null, dead_letter_alerted_at: null, dead_letter_alerted_seq: null },
            now,
          ).alerts.length > 0,
      )
      .map((c) => c.id);
    expect(expected.length).toBeGreaterThan(0);

    // The destinations of this organization, read in small windows and pages: every one reached once.
    const found: string[] = [];
    let after: { org_id: string; destination_id: string } | null = { org_id: org.orgId, destination_id: '' };
    for (let round = 0; after !== null && round < 1000; round++) {
      const r = await unjudgedDestinations(tdb.db, 7, 50, after);
      found.push(...r.due.filter((d) => d.org_id === org.orgId).map((d) => d.destination_id));
      if (r.next !== null && r.next.org_id !== org.orgId) break;
      after = r.next;
    }
    expect(found).toEqual(expected);
    await tdb.db.query('DELETE FROM destinations WHERE org_id = $1', [org.orgId]);
  }, 120_000);
});
