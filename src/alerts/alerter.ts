// Alerts, run inside the worker: the worker reports each settle that can change a destination's
// state, the alerter judges it (evaluate.ts) under a row lock and queues alerts in the outbox; a
// timer sends the outbox per organization, one digest per window, off the delivery path.
import { createHash } from 'node:crypto';
import type { Db } from '../db/types.js';
import type { KeyRing } from '../crypto/keyring.js';
import type { Logger } from '../logger.js';
import type { OutboundClient } from '../delivery/outbound/client.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { evaluateAlerts, PAUSED_ALERT_AFTER_MS, type AlertKind, type AlertState } from './evaluate.js';
import {
  alertedDestinations,
  claimOrgAlerts,
  countDeadLetters,
  enqueueAlerts,
  getNotificationSettings,
  lockAlertState,
  orgsWithDueAlerts,
  saveAlertState,
  settleAlertChannel,
  unjudgedDestinations,
  type AlertDetails,
  type NotificationSettingsRow,
  type OutboxAlert,
} from './repository.js';
import { composeAlertMessage } from './message.js';
import { createMailChannel, sendWebhook, SMTP_DEADLINE_MS, type MailChannel, type MailResult } from './channels.js';
import { OVERALL_TIMEOUT_FACTOR } from '../delivery/outbound/client.js';
import { alertAddressAllowed } from './recipients.js';
import { openWebhookSecret } from './settings.js';
import { tenantNumbers } from '../orgs/tenantNumbers.js';

export interface AlerterOptions {
  /** AEGIS_PUBLIC_URL: the base of the dashboard links in alerts. */
  publicUrl: string;
  /** AEGIS_SMTP_URL (holds credentials: never logged); null: no e-mail. */
  smtpUrl: string | null;
  /** AEGIS_ALERT_FROM */
  alertFrom: string;
  /** AEGIS_ALERT_EMAIL_DOMAINS: addresses elsewhere (stored before it was set) are not mailed; null: any. */
  emailDomains?: readonly string[] | null;
  /** AEGIS_ALERT_DIGEST_S in ms: alerts of one organization collected this long go out as one message. */
  digestWindowMs: number;
  pausedAfterMs?: number;
  /** AEGIS_MAX_HOLD_HOURS: when the long-failure warnings fall (evaluate.ts) and what they say. */
  maxHoldHours?: number;
  /** AEGIS_HTTP_TIMEOUT_MS: how long a webhook call can take, which the send lease must outlast. */
  httpTimeoutMs?: number;
}

/** AEGIS_HTTP_TIMEOUT_MS's default, for an alerter built without it (tests). */
const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

export interface AlerterDeps {
  db: Db;
  keyRing: KeyRing;
  /** The destinations' outbound client: TLS, timeouts and the private-address guard. */
  client: OutboundClient;
  logger: Logger;
}

/** What the worker calls: cheap and synchronous, never awaited on the delivery path. */
export interface AlertHook {
  noteSettle(orgId: string, destinationId: string, failed: boolean): void;
}

/** Sends of one alert before it is given up (logged). */
export const MAX_SEND_ATTEMPTS = 5;
const RETRY_BASE_MS = 30_000;
const RETRY_MAX_MS = 600_000;
/**
 * How long claimed alerts are held for one organization's send before another worker may take them:
 * the longest both channels can take (they run at once: the mail conversation's deadline, the webhook's
 * overall cap of OVERALL_TIMEOUT_FACTOR times AEGIS_HTTP_TIMEOUT_MS), and a margin for the settles. A
 * fixed 120 s was shorter than a webhook's cap with AEGIS_HTTP_TIMEOUT_MS over 40 s, and another worker
 * then sent the same alerts again (an alerts review).
 */
export function sendLeaseMs(httpTimeoutMs: number): number {
  return Math.max(120_000, Math.max(SMTP_DEADLINE_MS, OVERALL_TIMEOUT_FACTOR * httpTimeoutMs) + 60_000);
}
const ORGS_PER_TICK = 20;
const ALERTS_PER_MESSAGE = 50;
const SWEEP_LIMIT = 500;
/** Destinations the sweep for unjudged settles looks at a round (a primary-key range): 50,000 in 10 rounds. */
const UNJUDGED_WINDOW = 5000;
/** Organizations of one round sent at the same time: a slow channel of one does not hold the others. */
const SEND_CONCURRENCY = 4;
/** Destinations remembered as alerted (in memory, to re-judge on their next success); the sweep refills it. */
const MAX_REMEMBERED = 100_000;

export class Alerter implements AlertHook {
  private readonly mail: MailChannel | null;
  private readonly pausedAfterMs: number;
  /** Evaluations running, by destination; true = another change arrived meanwhile: judge again. */
  private readonly evaluating = new Map<string, boolean>();
  private readonly running = new Set<Promise<void>>();
  /** Destinations last judged not ok: a success of theirs may be a recovery. */
  private readonly alerted = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopping = false;
  private saidNoSmtp = false;
  /** Where the sweep goes on next round (null: from the start), so it reaches every alerted destination. */
  private sweepAfter: { org_id: string; destination_id: string } | null = null;
  /** Where the sweep for unjudged settles goes on next round (null: from the start). */
  private unjudgedAfter: { org_id: string; destination_id: string } | null = null;
  /** The last organization a round served: the next round starts after it (orgsWithDueAlerts). */
  private servedAfter: string | null = null;

  constructor(
    private readonly deps: AlerterDeps,
    private readonly opts: AlerterOptions,
  ) {
    this.mail = opts.smtpUrl ? createMailChannel(opts.smtpUrl, opts.alertFrom) : null;
    this.pausedAfterMs = opts.pausedAfterMs ?? PAUSED_ALERT_AFTER_MS;
  }

  start(): void {
    const every = Math.min(15_000, Math.max(250, Math.floor(this.opts.digestWindowMs / 2)));
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.running]);
    this.mail?.close();
  }

  noteSettle(orgId: string, destinationId: string, failed: boolean): void {
    const key = `${orgId}/${destinationId}`;
    if (!failed && !this.alerted.has(key)) return;
    this.schedule(orgId, destinationId);
  }

  /** Judges a destination soon; coalesces a burst of settles into at most one more evaluation. */
  private schedule(orgId: string, destinationId: string): void {
    if (this.stopping) return;
    const key = `${orgId}/${destinationId}`;
    if (this.evaluating.has(key)) {
      this.evaluating.set(key, true);
      return;
    }
    this.evaluating.set(key, false);
    const p = (async () => {
      do {
        this.evaluating.set(key, false);
        try {
          await this.evaluate(orgId, destinationId, key);
        } catch (err) {
          if (!isDatabaseUnavailable(err))
            this.deps.logger.warn({ err: (err as Error).message, destination_id: destinationId }, 'alert evaluation failed; the sweep tries again');
        }
      } while (this.evaluating.get(key) === true && !this.stopping);
      this.evaluating.delete(key);
    })();
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private async evaluate(orgId: string, destinationId: string, key: string): Promise<void> {
    const res = await this.deps.db.transaction(async (tx) => {
      const s = await lockAlertState(tx, orgId, destinationId);
      if (!s) return null;
      const maxHoldHours = this.opts.maxHoldHours ?? 168;
      const ev = evaluateAlerts(s, s, new Date(s.now), this.pausedAfterMs, maxHoldHours);
      const same = (a: Date | null | undefined, b: Date | null | undefined) =>
        a == null ? b == null : b != null && new Date(a).getTime() === new Date(b).getTime();
      if (
        ev.next.state !== s.state ||
        !same(ev.next.breaker_open_since, s.breaker_open_since) ||
        !same(ev.next.dead_letter_alerted_at, s.dead_letter_alerted_at) ||
        ev.next.dead_letter_alerted_seq !== s.dead_letter_alerted_seq ||
        !same(ev.next.streak_since, s.streak_since) ||
        (ev.next.streak_alerted_s ?? 0) !== (s.streak_alerted_s ?? 0)
      ) {
        await saveAlertState(tx, orgId, destinationId, ev.next, ev.next.state !== s.state);
      }
      let queued = 0;
      if (ev.alerts.length > 0) {
        const held = ev.alerts.includes('hold_limit_paused');
        const failedEvents = ev.alerts.includes('dead_letters') || held ? await countDeadLetters(tx, orgId, destinationId, held) : undefined;
        const base: AlertDetails = { destination_name: s.name, siem: s.siem, hint: s.last_error };
        const streak = s.failing_since ? new Date(s.failing_since) : null;
        const long: Partial<AlertDetails> = streak
          ? {
              failing_since: streak.toISOString(),
              hold_limit_at: new Date(streak.getTime() + maxHoldHours * 3_600_000).toISOString(),
              max_hold_hours: maxHoldHours,
            }
          : { max_hold_hours: maxHoldHours };
        const isLong = (k: AlertKind) => k === 'failing_1h' || k === 'failing_24h' || k === 'hold_limit_approaching' || k === 'hold_limit_paused';
        queued = await enqueueAlerts(
          tx,
          orgId,
          destinationId,
          ev.alerts.map((kind: AlertKind) => ({
            kind,
            details: {
              ...base,
              ...((kind === 'dead_letters' || kind === 'hold_limit_paused') && failedEvents !== undefined ? { failed_events: failedEvents } : {}),
              ...(isLong(kind) ? long : {}),
              ...(kind === 'paused' && ev.next.breaker_open_since ? { failing_since: new Date(ev.next.breaker_open_since).toISOString() } : {}),
            },
          })),
        );
      }
      return { state: ev.next.state, alerts: ev.alerts, queued };
    });
    if (!res) {
      this.alerted.delete(key);
      return;
    }
    this.remember(key, res.state);
    if (res.alerts.length > 0)
      this.deps.logger.info({ destination_id: destinationId, alerts: res.alerts, queued: res.queued }, 'destination state changed; alerts queued');
  }

  private remember(key: string, state: AlertState): void {
    if (state === 'ok') this.alerted.delete(key);
    else if (this.alerted.size < MAX_REMEMBERED) this.alerted.add(key);
  }

  /** For tests and stop(): one sweep-and-send round at a time. */
  tick(): Promise<void> {
    if (this.ticking || this.stopping) return this.ticking ?? Promise.resolve();
    this.ticking = (async () => {
      try {
        // The sweep: every alerted destination is judged again, which catches a recovery another
        // process settled, and a breaker that has now held a destination long enough for "paused".
        // SWEEP_LIMIT a round, going on where the last round stopped and wrapping around.
        const swept = await alertedDestinations(this.deps.db, SWEEP_LIMIT, this.sweepAfter);
        for (const d of swept) {
          this.remember(`${d.org_id}/${d.destination_id}`, d.state);
          this.schedule(d.org_id, d.destination_id);
        }
        const last = swept[swept.length - 1];
        this.sweepAfter = swept.length < SWEEP_LIMIT || !last ? null : { org_id: last.org_id, destination_id: last.destination_id };
        // And the destinations whose delivery state calls for an alert that was never judged: the
        // settle committed, then the process died or the evaluation failed (its state is still 'ok').
        // Judging them is the evaluation's call; a healthy destination is not even looked up.
        const unjudged = await unjudgedDestinations(this.deps.db, SWEEP_LIMIT, UNJUDGED_WINDOW, this.unjudgedAfter);
        for (const d of unjudged.due) this.schedule(d.org_id, d.destination_id);
        this.unjudgedAfter = unjudged.next;
        // Organizations in turn, a few at a time.
        const orgs = await orgsWithDueAlerts(this.deps.db, this.opts.digestWindowMs, ORGS_PER_TICK, this.servedAfter);
        if (orgs.length > 0) this.servedAfter = orgs[orgs.length - 1]!;
        let next = 0;
        const lane = async () => {
          while (next < orgs.length && !this.stopping) {
            const orgId = orgs[next++]!;
            try {
              await this.sendOrg(orgId);
            } catch (err) {
              if (!isDatabaseUnavailable(err)) this.deps.logger.warn({ org_id: orgId, err: (err as Error).message }, 'sending alerts failed; will retry');
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, orgs.length) }, lane));
      } catch (err) {
        if (!isDatabaseUnavailable(err)) this.deps.logger.warn({ err: (err as Error).message }, 'alert round failed; will retry');
      } finally {
        this.ticking = null;
      }
    })();
    return this.ticking;
  }

  private async sendOrg(orgId: string): Promise<void> {
    const { db, logger } = this.deps;
    const alerts = await claimOrgAlerts(db, orgId, ALERTS_PER_MESSAGE, sendLeaseMs(this.opts.httpTimeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS));
    if (alerts.length === 0) return;
    const settings = await getNotificationSettings(db, orgId);
    const retryAfterMs = (a: OutboxAlert[]) => Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(...a.map((x) => x.attempts)));
    // Each alert on its own count: a failed channel lines the organization's other due alerts up with
    // the failed ones (settleAlertChannel), so one queued during an outage shares a message with one
    // on its fifth try, and must not be given up with it after a single try of its own.
    const lastTry = (a: OutboxAlert[]) => a.filter((x) => x.attempts + 1 >= MAX_SEND_ATTEMPTS);
    /** A channel done with `sent` (delivered, dropped by configuration, or given up on). */
    const done = (channel: 'email' | 'webhook', sent: OutboxAlert[]) =>
      settleAlertChannel(
        db,
        orgId,
        sent.map((a) => a.id),
        channel,
        { done: true },
      );
    /** Settles a channel's failed send: alerts on their last try given up, the others retried (`counted`: see settleAlertChannel). */
    const failed = async (channel: 'email' | 'webhook', sent: OutboxAlert[], err: string, counted?: string[]): Promise<string[]> => {
      const spent = lastTry(sent);
      const kept = sent.filter((x) => !spent.includes(x));
      const what = channel === 'email' ? 'alert e-mail' : 'alert webhook';
      logger.warn(
        { org_id: orgId, alerts: sent.length, err, given_up: spent.length },
        kept.length === 0
          ? `${what} failed; giving up`
          : spent.length > 0
            ? `${what} failed; giving up on the alerts on their last try, will retry the others`
            : `${what} failed; will retry`,
      );
      const keptIds = kept.map((a) => a.id);
      await done(channel, spent);
      // The wait by the alerts kept: one given up must not put a first retry off by its own count.
      if (kept.length > 0)
        await settleAlertChannel(db, orgId, keptIds, channel, { done: false, retryAfterMs: retryAfterMs(kept), ...(counted ? { counted } : {}) });
      return keptIds;
    };

    // Both channels at once, settled after: a wedged mail server (its conversation runs up to 60 s)
    // must not hold the webhook alert, the channel most likely to work when the network breaks (an
    // alerts review: each organization's webhook alert went out only after its mail had failed).
    const forMail = alerts.filter((a) => a.email_pending);
    const forHook = alerts.filter((a) => a.webhook_pending);
    // Each settled whatever became of the other: a database error reading the webhook's numbers must
    // not leave a mail already sent unsettled (it would be sent again after the lease).
    const [mailSent, hookSent] = await Promise.allSettled([this.sendMail(orgId, settings, forMail), this.sendHook(orgId, settings, forHook)]);
    const mail: ChannelSend & { recipients?: number } = mailSent.status === 'fulfilled' ? mailSent.value : { kind: 'none' };
    const hook: ChannelSend = hookSent.status === 'fulfilled' ? hookSent.value : { kind: 'none' };

    /** Alerts whose attempt this round the e-mail's failure counted (a round counts once). */
    let counted: string[] = [];
    if (mail.kind === 'failed') counted = await failed('email', forMail, mail.err);
    else if (mail.kind !== 'none') {
      if (mail.kind === 'sent') {
        logger.info({ org_id: orgId, alerts: forMail.length, recipients: mail.recipients }, 'alert e-mail sent');
        // Taken for the others: the refused addresses get nothing, and a retry would mail the rest
        // twice. Said by count and codes (a tenant's addresses are not the operator's to log).
        if (mail.refused)
          logger.warn(
            { org_id: orgId, alerts: forMail.length, refused: mail.refused.count, codes: mail.refused.codes },
            'alert e-mail refused by the mail server for some recipients; they did not get it',
          );
      }
      await done('email', forMail);
    }
    if (hook.kind === 'failed') await failed('webhook', forHook, hook.err, counted);
    else if (hook.kind !== 'none') {
      if (hook.kind === 'sent') logger.info({ org_id: orgId, alerts: forHook.length }, 'alert webhook sent');
      await done('webhook', forHook);
    }
    // A channel that could not even be tried: logged by the round (its alerts come back after the lease).
    for (const sent of [mailSent, hookSent]) if (sent.status === 'rejected') throw sent.reason;
  }

  /** The e-mail of `forMail` (no write: sendOrg settles). */
  private async sendMail(orgId: string, settings: NotificationSettingsRow | null, forMail: OutboxAlert[]): Promise<ChannelSend & { recipients?: number }> {
    const { logger } = this.deps;
    if (forMail.length === 0) return { kind: 'none' };
    const emails = (settings?.emails ?? []).filter((e) => alertAddressAllowed(e, this.opts.emailDomains ?? null));
    if (emails.length === 0) {
      // Addresses listed before AEGIS_ALERT_EMAIL_DOMAINS was set, none of them at its domains.
      if (settings && settings.emails.length > 0)
        logger.warn(
          { org_id: orgId, alerts: forMail.length },
          'no alert e-mail address of this organization is at AEGIS_ALERT_EMAIL_DOMAINS; e-mail alerts are dropped',
        );
      return { kind: 'dropped' };
    }
    if (!this.mail) {
      if (!this.saidNoSmtp) logger.warn({ org_id: orgId }, 'alert e-mails are configured but AEGIS_SMTP_URL is not set; e-mail alerts are dropped');
      this.saidNoSmtp = true;
      return { kind: 'dropped' };
    }
    const msg = composeAlertMessage(orgId, this.opts.publicUrl, forMail);
    const result = await this.mail.send(emails, msg.subject, msg.text);
    return result.error !== null ? { kind: 'failed', err: result.error } : { kind: 'sent', refused: result.refused, recipients: emails.length };
  }

  /** The webhook call of `forHook` (no write: sendOrg settles). */
  private async sendHook(orgId: string, settings: NotificationSettingsRow | null, forHook: OutboxAlert[]): Promise<ChannelSend> {
    if (forHook.length === 0) return { kind: 'none' };
    let secret: string | null = null;
    try {
      secret = settings?.webhook_url ? openWebhookSecret(this.deps.keyRing, settings) : null;
    } catch {
      this.deps.logger.warn(
        { org_id: orgId },
        'the operational webhook secret cannot be opened (encryption key missing from the ring); webhook alerts are dropped',
      );
    }
    if (!settings?.webhook_url || !secret) return { kind: 'dropped' };
    const msg = composeAlertMessage(orgId, this.opts.publicUrl, forHook);
    // Stable across retries of the same alerts; no "." (Standard Webhooks ids must not have one).
    // The outbox rows' numbers as the organization is shown them: alert_outbox.id counts every
    // tenant's alerts (orgs/tenantNumbers.ts). The first and the count name the message; a digest of
    // every alert in it, each with its kind, tells it from another with the same first and count (an
    // alert given up on its own count leaves, a new one joins) or a replaced alert's new state, which a
    // receiver deduplicating on the id would otherwise drop (a review of this round's changes).
    const numbers = await tenantNumbers(this.deps.db, orgId, 'alert');
    const shown = forHook.map((a) => `${numbers.show(Number(a.id))}:${a.kind}`);
    const digest = createHash('sha256').update(shown.join(',')).digest('hex').slice(0, 12);
    const id = `alert_${orgId}_${numbers.show(Number(forHook[0]!.id))}_${forHook.length}_${digest}`;
    const err = await sendWebhook(this.deps.client, settings.webhook_url, secret, id, JSON.stringify(msg.webhook));
    return err === null ? { kind: 'sent', refused: null } : { kind: 'failed', err };
  }
}

/** What one channel's send did for an organization's claimed alerts: nothing to send, dropped by configuration, sent, or failed. */
type ChannelSend = { kind: 'none' } | { kind: 'dropped' } | { kind: 'sent'; refused: MailResult['refused'] } | { kind: 'failed'; err: string };
