// Every SQL statement of alerts: notification settings, the per-destination alert state and the
// alert outbox.
import type { Db, Queryable } from '../db/types.js';
import type { AlertKind, AlertState, Observed, StoredAlertState } from './evaluate.js';

export interface NotificationSettingsRow {
  org_id: string;
  emails: string[];
  webhook_url: string | null;
  webhook_secret_sealed: Buffer | null;
  updated_at: Date;
}

export async function getNotificationSettings(db: Queryable, orgId: string): Promise<NotificationSettingsRow | null> {
  const { rows } = await db.query<NotificationSettingsRow>('SELECT * FROM notification_settings WHERE org_id = $1', [orgId]);
  return rows[0] ?? null;
}

export async function putNotificationSettings(
  db: Queryable,
  s: Pick<NotificationSettingsRow, 'org_id' | 'emails' | 'webhook_url' | 'webhook_secret_sealed'>,
): Promise<NotificationSettingsRow> {
  const { rows } = await db.query<NotificationSettingsRow>(
    `INSERT INTO notification_settings (org_id, emails, webhook_url, webhook_secret_sealed, updated_at)
     VALUES ($1, $2::text[], $3, $4, now())
     ON CONFLICT (org_id) DO UPDATE SET emails = EXCLUDED.emails, webhook_url = EXCLUDED.webhook_url,
       webhook_secret_sealed = EXCLUDED.webhook_secret_sealed, updated_at = now()
     RETURNING *`,
    [s.org_id, s.emails, s.webhook_url, s.webhook_secret_sealed],
  );
  return rows[0]!;
}

/** Every organization's sealed webhook secret, for key rotation. */
export async function listSealedWebhookSecrets(db: Queryable): Promise<Array<{ org_id: string; webhook_secret_sealed: Buffer }>> {
  const { rows } = await db.query<{ org_id: string; webhook_secret_sealed: Buffer }>(
    'SELECT org_id, webhook_secret_sealed FROM notification_settings WHERE webhook_secret_sealed IS NOT NULL ORDER BY org_id',
  );
  return rows;
}

/** Compare-and-set, as for destinations: a secret rotated through the API meanwhile is kept. */
export async function replaceSealedWebhookSecret(db: Queryable, orgId: string, before: Buffer, after: Buffer): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE notification_settings SET webhook_secret_sealed = $3 WHERE org_id = $1 AND webhook_secret_sealed = $2', [
    orgId,
    before,
    after,
  ]);
  return rowCount > 0;
}

/** What the evaluation reads under the state row's lock. */
export interface LockedAlertState extends Observed, StoredAlertState {
  name: string | null;
  siem: string;
  last_error: string | null;
  now: Date;
}

/**
 * Locks the destination's alert state (creating it on first use) and reads it with the delivery state
 * it is judged on. Null when the destination is gone. Runs inside the caller's transaction: the lock
 * is what makes two workers judging the same change send one alert.
 */
export async function lockAlertState(tx: Queryable, orgId: string, destinationId: string): Promise<LockedAlertState | null> {
  await tx.query(
    `INSERT INTO destination_alert_state (org_id, destination_id)
     SELECT org_id, id FROM destinations WHERE org_id = $1 AND id = $2
     ON CONFLICT (org_id, destination_id) DO NOTHING`,
    [orgId, destinationId],
  );
  const { rows } = await tx.query<LockedAlertState>(
    `SELECT s.state, s.breaker_open_since, s.dead_letter_alerted_at, s.streak_since, s.streak_alerted_s,
            d.enabled, d.last_attempt_ok, d.last_delivery_at, d.last_dead_letter_at, d.consecutive_failures,
            d.failing_since, d.hold_paused_at,
            d.name, d.siem, d.last_error, now() AS now
       FROM destination_alert_state s JOIN destinations d ON d.org_id = s.org_id AND d.id = s.destination_id
      WHERE s.org_id = $1 AND s.destination_id = $2
        FOR UPDATE OF s`,
    [orgId, destinationId],
  );
  return rows[0] ?? null;
}

export async function saveAlertState(tx: Queryable, orgId: string, destinationId: string, next: StoredAlertState, changed: boolean): Promise<void> {
  await tx.query(
    `UPDATE destination_alert_state
        SET state = $3, breaker_open_since = $4, dead_letter_alerted_at = $5,
            state_since = CASE WHEN $6 THEN now() ELSE state_since END,
            streak_since = $7, streak_alerted_s = $8
      WHERE org_id = $1 AND destination_id = $2`,
    [orgId, destinationId, next.state, next.breaker_open_since, next.dead_letter_alerted_at, changed, next.streak_since ?? null, next.streak_alerted_s ?? 0],
  );
}

/**
 * Dead-lettered jobs of a destination. `withPending`: for a destination the hold limit paused, whose
 * pending jobs are being dead-lettered in batches (queue/holdLimit.ts) while the alert is judged.
 */
export async function countDeadLetters(tx: Queryable, orgId: string, destinationId: string, withPending = false): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM forwarding_jobs WHERE org_id = $1 AND destination_id = $2 AND (status = 'failed' OR ($3 AND status = 'pending'))`,
    [orgId, destinationId, withPending],
  );
  return rows[0]?.n ?? 0;
}

/** The snapshot an alert carries (alert_outbox.details). */
export interface AlertDetails {
  destination_name: string | null;
  siem: string;
  hint: string | null;
  failed_events?: number;
  failing_since?: string;
  /** Long-failure warnings: when the hold limit pauses the destination unless it recovers. */
  hold_limit_at?: string;
  /** AEGIS_MAX_HOLD_HOURS when the alert was made. */
  max_hold_hours?: number;
}

/**
 * Queues alerts for the organization's channels, in the caller's transaction. Nothing is queued when
 * the organization has no channel: alerts are not kept for settings made later.
 */
export async function enqueueAlerts(
  tx: Queryable,
  orgId: string,
  destinationId: string,
  alerts: Array<{ kind: AlertKind; details: AlertDetails }>,
): Promise<number> {
  if (alerts.length === 0) return 0;
  const { rowCount } = await tx.query(
    `INSERT INTO alert_outbox (org_id, destination_id, kind, details, email_pending, webhook_pending)
     SELECT $1, $2, a.kind, a.details::jsonb, cardinality(s.emails) > 0, s.webhook_url IS NOT NULL
       FROM notification_settings s, unnest($3::text[], $4::text[]) WITH ORDINALITY AS a(kind, details, n)
      WHERE s.org_id = $1 AND (cardinality(s.emails) > 0 OR s.webhook_url IS NOT NULL)
      ORDER BY a.n`,
    [orgId, destinationId, alerts.map((a) => a.kind), alerts.map((a) => JSON.stringify(a.details))],
  );
  return rowCount;
}

/** Destinations the sweep looks at again: every one in an alerted (non-ok) state, bounded. */
export async function alertedDestinations(db: Queryable, limit: number): Promise<Array<{ org_id: string; destination_id: string; state: AlertState }>> {
  const { rows } = await db.query<{ org_id: string; destination_id: string; state: AlertState }>(
    `SELECT org_id, destination_id, state FROM destination_alert_state WHERE state <> 'ok' ORDER BY org_id, destination_id LIMIT $1`,
    [limit],
  );
  return rows;
}

export interface OutboxAlert {
  org_id: string;
  id: string;
  destination_id: string;
  kind: AlertKind;
  created_at: Date;
  details: AlertDetails;
  email_pending: boolean;
  webhook_pending: boolean;
  attempts: number;
}

/**
 * Organizations with alerts ready to send: the oldest waiting one is older than the digest window
 * (so alerts of a burst go out together) and something is due.
 */
export async function orgsWithDueAlerts(db: Queryable, digestWindowMs: number, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ org_id: string }>(
    `SELECT org_id FROM alert_outbox
      WHERE next_attempt_at <= now()
      GROUP BY org_id
     HAVING min(created_at) <= now() - make_interval(secs => $1::float8 / 1000)
      ORDER BY min(created_at) LIMIT $2`,
    [digestWindowMs, limit],
  );
  return rows.map((r) => r.org_id);
}

/**
 * Claims an organization's due alerts for one message: moves them past a lease so that another
 * worker skips them while this one sends (SKIP LOCKED), and a crashed sender's claim expires.
 */
export async function claimOrgAlerts(db: Db, orgId: string, limit: number, leaseMs: number): Promise<OutboxAlert[]> {
  const { rows } = await db.query<OutboxAlert>(
    `UPDATE alert_outbox o SET next_attempt_at = now() + make_interval(secs => $3::float8 / 1000)
       FROM (SELECT id FROM alert_outbox WHERE org_id = $1 AND next_attempt_at <= now() ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) c
      WHERE o.org_id = $1 AND o.id = c.id
      RETURNING o.org_id, o.id::text AS id, o.destination_id, o.kind, o.created_at, o.details, o.email_pending, o.webhook_pending, o.attempts`,
    [orgId, limit, leaseMs],
  );
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

/**
 * Records what one channel's send did for claimed alerts: done (sent, or given up on) clears that
 * channel's flag and leaves the schedule to the other channel; a failure schedules the retry. Rows
 * with no channel left pending are deleted.
 */
export async function settleAlertChannel(
  db: Db,
  orgId: string,
  ids: string[],
  channel: 'email' | 'webhook',
  result: { done: true } | { done: false; retryAfterMs: number },
): Promise<void> {
  if (ids.length === 0) return;
  // The column name comes from this fixed pair, never from input.
  const col = channel === 'email' ? 'email_pending' : 'webhook_pending';
  await db.transaction(async (tx) => {
    if (result.done) {
      await tx.query(`UPDATE alert_outbox SET ${col} = false WHERE org_id = $1 AND id = ANY($2::bigint[])`, [orgId, ids]);
    } else {
      await tx.query(
        `UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $3::float8 / 1000)
          WHERE org_id = $1 AND id = ANY($2::bigint[])`,
        [orgId, ids, result.retryAfterMs],
      );
    }
    await tx.query(`DELETE FROM alert_outbox WHERE org_id = $1 AND id = ANY($2::bigint[]) AND NOT email_pending AND NOT webhook_pending`, [orgId, ids]);
  });
}
