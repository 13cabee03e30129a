// Every SQL statement of alerts: notification settings, the per-destination alert state and the
// alert outbox.
import type { Db, Queryable } from '../db/types.js';
import { sealedKeyIdSql } from '../crypto/sealedBox.js';
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

/**
 * The sealed webhook secrets by the id of the key that sealed them (the box's header, as
 * destinations/sealedColumns.ts countSealedByKeyId reads a destination's), for the start-up check of
 * the key ring.
 */
export async function countWebhookSecretsByKeyId(db: Queryable): Promise<Array<{ key_id: string; secrets: number }>> {
  const { rows } = await db.query<{ key_id: string; secrets: number }>(
    `SELECT ${sealedKeyIdSql('webhook_secret_sealed')} AS key_id, count(*)::int AS secrets
       FROM notification_settings
      WHERE webhook_secret_sealed IS NOT NULL AND length(webhook_secret_sealed) >= 2
      GROUP BY 1`,
  );
  return rows;
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
    `SELECT s.state, s.breaker_open_since, s.dead_letter_alerted_at, s.dead_letter_alerted_seq, s.streak_since, s.streak_alerted_s,
            d.enabled, d.last_attempt_ok, d.last_delivery_at, d.last_delivery_seq, d.last_dead_letter_seq, d.consecutive_failures,
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
            streak_since = $7, streak_alerted_s = $8, dead_letter_alerted_seq = $9
      WHERE org_id = $1 AND destination_id = $2`,
    [
      orgId,
      destinationId,
      next.state,
      next.breaker_open_since,
      next.dead_letter_alerted_at,
      changed,
      next.streak_since ?? null,
      next.streak_alerted_s ?? 0,
      next.dead_letter_alerted_seq,
    ],
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
  /** State changes this alert stands for when it replaced unsent ones (enqueueAlerts); absent: 1. */
  changes?: number;
  /** When it replaced them: the time of the latest change (the row's created_at is the first's). */
  changed_at?: string;
}

/** The kinds that say what state a destination is in: an unsent one is replaced by the next (below). */
const STATE_KINDS: readonly AlertKind[] = ['failing', 'paused', 'recovered'];
/**
 * Queues alerts for the organization's channels, in the caller's transaction. Nothing is queued when
 * the organization has no channel: alerts are not kept for settings made later.
 *
 * Bounded per destination: a state alert (failing, paused, recovered) replaces the destination's unsent
 * state alerts, keeping the first one's time and counting the changes it stands for (`changes`, the
 * latest at `changed_at`), so a flapping destination has one unsent alert saying its latest state; a
 * dead_letters alert replaces an unsent one (its count is the current one). Only alerts due now are
 * replaced: one being sent (claimed under a lease) goes out and settles as it would, so the newer
 * alert never arrives before it, and one waiting out its channel's backoff keeps its schedule. So a
 * destination has a handful of unsent alerts at most, and an organization as many times its
 * destinations: no cap that would drop a new alert is needed. Returns how many were queued.
 */
export async function enqueueAlerts(
  tx: Queryable,
  orgId: string,
  destinationId: string,
  alerts: Array<{ kind: AlertKind; details: AlertDetails }>,
): Promise<number> {
  if (alerts.length === 0) return 0;
  const { rows: channels } = await tx.query<{ email: boolean; webhook: boolean }>(
    'SELECT cardinality(emails) > 0 AS email, webhook_url IS NOT NULL AS webhook FROM notification_settings WHERE org_id = $1',
    [orgId],
  );
  const ch = channels[0];
  if (!ch || (!ch.email && !ch.webhook)) return 0;
  let queued = 0;
  for (const a of alerts) {
    const replaces = STATE_KINDS.includes(a.kind) ? STATE_KINDS : a.kind === 'dead_letters' ? ['dead_letters'] : [];
    let created: Date | null = null;
    let changes = 1;
    let attempts = 0;
    if (replaces.length > 0) {
      const { rows: prev } = await tx.query<{ created_at: Date; details: AlertDetails; attempts: number }>(
        `DELETE FROM alert_outbox WHERE org_id = $1 AND destination_id = $2 AND kind = ANY($3::text[]) AND next_attempt_at <= now()
         RETURNING created_at, details, attempts`,
        [orgId, destinationId, replaces],
      );
      for (const p of prev) {
        if (created === null || new Date(p.created_at) < created) created = new Date(p.created_at);
        changes += p.details.changes ?? 1;
        // A channel that failed for the replaced alert (now due again) keeps its count of attempts: it
        // is still given up after MAX_SEND_ATTEMPTS.
        attempts = Math.max(attempts, p.attempts);
      }
    }
    const details: AlertDetails = created !== null && STATE_KINDS.includes(a.kind) ? { ...a.details, changes } : a.details;
    const { rowCount } = await tx.query(
      `INSERT INTO alert_outbox (org_id, destination_id, kind, details, email_pending, webhook_pending, created_at, attempts, next_attempt_at)
       VALUES ($1, $2, $3, CASE WHEN $7::timestamptz IS NULL THEN $4::jsonb ELSE $4::jsonb || jsonb_build_object('changed_at', now()) END,
               $5, $6, coalesce($7::timestamptz, now()), $8, now())`,
      [orgId, destinationId, a.kind, JSON.stringify(details), ch.email, ch.webhook, created, attempts],
    );
    queued += rowCount;
  }
  return queued;
}

/** Destinations the sweep looks at again: those in an alerted (non-ok) state after `after`, bounded (a cursor). */
export async function alertedDestinations(
  db: Queryable,
  limit: number,
  after: { org_id: string; destination_id: string } | null = null,
): Promise<Array<{ org_id: string; destination_id: string; state: AlertState }>> {
  const { rows } = after
    ? await db.query<{ org_id: string; destination_id: string; state: AlertState }>(
        `SELECT org_id, destination_id, state FROM destination_alert_state
          WHERE state <> 'ok' AND (org_id, destination_id) > ($2, $3) ORDER BY org_id, destination_id LIMIT $1`,
        [limit, after.org_id, after.destination_id],
      )
    : await db.query<{ org_id: string; destination_id: string; state: AlertState }>(
        `SELECT org_id, destination_id, state FROM destination_alert_state WHERE state <> 'ok' ORDER BY org_id, destination_id LIMIT $1`,
        [limit],
      );
  return rows;
}

/**
 * What the evaluation (evaluate.ts) acts on for a destination whose alert state is 'ok' (or has no row
 * yet): enabled, and failing as the status pill says (destinations/status.ts: the last attempt failed,
 * or a dead letter since the last success), or dead letters it has not alerted (none alerted yet, or
 * new ones after a success since the last alert). Kept equal to evaluateAlerts: a destination it
 * matches is one the evaluation moves out of it (to 'failing', or dead_letter_alerted_seq to the last
 * dead letter's). By the outcomes' numbers, as the evaluation judges them (StatusInputs).
 */
const UNJUDGED = `d.enabled AND (
     d.last_attempt_ok = false
  OR (d.last_dead_letter_seq IS NOT NULL AND (d.last_delivery_seq IS NULL OR d.last_dead_letter_seq > d.last_delivery_seq))
  OR (d.last_dead_letter_seq IS NOT NULL AND (s.dead_letter_alerted_seq IS NULL
        OR (d.last_dead_letter_seq > s.dead_letter_alerted_seq AND d.last_delivery_seq > s.dead_letter_alerted_seq
            AND d.last_dead_letter_seq >= d.last_delivery_seq))))`;

const unjudgedSql = (from: string) => `WITH w AS MATERIALIZED (
       SELECT org_id, id, enabled, last_attempt_ok, last_delivery_seq, last_dead_letter_seq FROM destinations d
        ${from} ORDER BY org_id, id LIMIT $2)
     SELECT org_id, destination_id, edge, n FROM (
       (SELECT d.org_id, d.id AS destination_id, false AS edge, 0::int AS n
          FROM w d
          -- Looked up by primary key for the few that may qualify on their own columns (OFFSET 0 keeps
          -- it a per-row lookup rather than a scan of every alert state).
          LEFT JOIN LATERAL (SELECT s.state, s.dead_letter_alerted_seq FROM destination_alert_state s
                              WHERE s.org_id = d.org_id AND s.destination_id = d.id OFFSET 0) s ON true
         WHERE d.enabled AND (d.last_attempt_ok = false OR d.last_dead_letter_seq IS NOT NULL)
           AND coalesce(s.state, 'ok') = 'ok' AND ${UNJUDGED}
         ORDER BY d.org_id, d.id LIMIT $1)
       UNION ALL
       (SELECT org_id, id, true, (SELECT count(*)::int FROM w) FROM w ORDER BY org_id DESC, id DESC LIMIT 1)) x
      ORDER BY edge, org_id, destination_id`;
const UNJUDGED_FIRST_SQL = unjudgedSql('');
const UNJUDGED_AFTER_SQL = unjudgedSql('WHERE (org_id, id) > ($3, $4)');

/**
 * Destinations whose delivery state calls for an alert their alert state has not judged: a settle
 * committed and the process died (or the evaluation failed) before the evaluation ran. The sweep
 * looks at `window` destinations a round in primary-key order after `after` (an index range scan:
 * the round costs the same however many destinations there are) and returns at most `limit` of them
 * with where the next round goes on (null: from the start), so every destination is looked at within
 * (destinations / window) rounds.
 */
export async function unjudgedDestinations(
  db: Queryable,
  limit: number,
  window: number,
  after: { org_id: string; destination_id: string } | null = null,
): Promise<{ due: Array<{ org_id: string; destination_id: string }>; next: { org_id: string; destination_id: string } | null }> {
  const { rows } = after
    ? await db.query<{ org_id: string; destination_id: string; edge: boolean; n: number }>(UNJUDGED_AFTER_SQL, [
        limit,
        window,
        after.org_id,
        after.destination_id,
      ])
    : await db.query<{ org_id: string; destination_id: string; edge: boolean; n: number }>(UNJUDGED_FIRST_SQL, [limit, window]);
  const due = rows.filter((r) => !r.edge).map((r) => ({ org_id: r.org_id, destination_id: r.destination_id }));
  const edge = rows.find((r) => r.edge);
  const last = due[due.length - 1];
  // A full page: go on after its last one (the rest of this window is looked at again next round).
  if (due.length >= limit && last) return { due, next: last };
  if (!edge || edge.n < window) return { due, next: null };
  return { due, next: { org_id: edge.org_id, destination_id: edge.destination_id } };
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
 * (so alerts of a burst go out together) and something is due. In turn: those after `after` (the last
 * one served) first, then from the start, so each waits at most a few rounds whatever the others hold.
 */
export async function orgsWithDueAlerts(db: Queryable, digestWindowMs: number, limit: number, after: string | null = null): Promise<string[]> {
  const due = async (from: string | null, upTo: string | null, n: number) =>
    (
      await db.query<{ org_id: string }>(
        `SELECT org_id FROM alert_outbox
          WHERE next_attempt_at <= now() AND ($3::text IS NULL OR org_id > $3) AND ($4::text IS NULL OR org_id <= $4)
          GROUP BY org_id
         HAVING min(created_at) <= now() - make_interval(secs => $1::float8 / 1000)
          ORDER BY org_id LIMIT $2`,
        [digestWindowMs, n, from, upTo],
      )
    ).rows.map((r) => r.org_id);
  const first = await due(after, null, limit);
  if (first.length >= limit || after === null) return first;
  return [...first, ...(await due(null, after, limit - first.length))];
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
 * channel's flag and leaves the schedule to the other channel; a failure schedules the retry, counts
 * an attempt (once a round: `counted` are the ids whose attempt the other channel's failure already
 * counted), and puts off as long the organization's other due alerts waiting for that channel only,
 * so a channel that fails is not tried again every round (alerts also waiting for the other channel
 * are not held back: that one may work). Rows with no channel left pending are deleted.
 */
export async function settleAlertChannel(
  db: Db,
  orgId: string,
  ids: string[],
  channel: 'email' | 'webhook',
  result: { done: true } | { done: false; retryAfterMs: number; counted?: string[] },
): Promise<void> {
  if (ids.length === 0) return;
  // The column name comes from this fixed pair, never from input.
  const col = channel === 'email' ? 'email_pending' : 'webhook_pending';
  const other = channel === 'email' ? 'webhook_pending' : 'email_pending';
  await db.transaction(async (tx) => {
    if (result.done) {
      await tx.query(`UPDATE alert_outbox SET ${col} = false WHERE org_id = $1 AND id = ANY($2::bigint[])`, [orgId, ids]);
    } else {
      await tx.query(
        `UPDATE alert_outbox SET attempts = attempts + CASE WHEN id = ANY($4::bigint[]) THEN 0 ELSE 1 END,
                next_attempt_at = now() + make_interval(secs => $3::float8 / 1000)
          WHERE org_id = $1 AND id = ANY($2::bigint[])`,
        [orgId, ids, result.retryAfterMs, result.counted ?? []],
      );
      await tx.query(
        `UPDATE alert_outbox SET next_attempt_at = now() + make_interval(secs => $2::float8 / 1000)
          WHERE org_id = $1 AND ${col} AND NOT ${other} AND next_attempt_at <= now()`,
        [orgId, result.retryAfterMs],
      );
    }
    await tx.query(`DELETE FROM alert_outbox WHERE org_id = $1 AND id = ANY($2::bigint[]) AND NOT email_pending AND NOT webhook_pending`, [orgId, ids]);
  });
}
