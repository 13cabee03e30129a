// What an alert says, composed once for both channels: the e-mail's subject and plain text, and the
// operational webhook's JSON. Pure. The hint is the destination's `last_error` (failure.ts: the
// same action-oriented sentence the dashboard's card shows), never a copy of it.
import { isSiemId, SIEM_PRESETS } from '../siem/catalog.js';
import type { AlertKind } from './evaluate.js';
import type { AlertDetails } from './repository.js';

export interface AlertItem {
  destination_id: string;
  kind: AlertKind;
  created_at: Date;
  details: AlertDetails;
}

export interface WebhookAlert {
  kind: AlertKind;
  destination_id: string;
  destination_name: string;
  siem: string;
  occurred_at: string;
  summary: string;
  hint: string | null;
  failed_events: number | null;
  /** Long-failure warnings and the hold limit's pause: since when it has failed without a break. */
  failing_since: string | null;
  /** Long-failure warnings: when the hold limit pauses the destination unless a request gets through. */
  hold_limit_at: string | null;
  /** State changes this alert stands for: more than 1 when the destination changed again before it was sent (a flap). */
  changes: number;
  dashboard_url: string;
}

export interface AlertMessage {
  subject: string;
  text: string;
  webhook: { type: 'aegis.destination_alerts'; org_id: string; alerts: WebhookAlert[] };
}

const HEADLINE: Record<AlertKind, string> = {
  failing: 'is failing',
  paused: 'is paused by its circuit breaker',
  dead_letters: 'has dead-lettered events',
  recovered: 'has recovered',
  failing_1h: 'has been failing for 1 hour',
  failing_24h: 'has been failing for 24 hours',
  hold_limit_approaching: 'is approaching the hold limit',
  hold_limit_paused: 'is paused by the hold limit',
};

/** "in 24 h" from the alert's time to the hold limit (whole hours, at least 1). */
function hoursUntil(from: Date, iso: string | undefined): string {
  if (!iso) return '';
  return ` (in ${Math.max(1, Math.round((Date.parse(iso) - new Date(from).getTime()) / 3_600_000))} h)`;
}

/** The dashboard's Edit route for a destination (the card's hint links there too). */
export function dashboardLink(publicUrl: string, destinationId: string): string {
  return `${publicUrl}/settings/siem-forwarding/${encodeURIComponent(destinationId)}/edit`;
}

function label(d: AlertDetails): string {
  const siem = isSiemId(d.siem) ? SIEM_PRESETS[d.siem].label : d.siem;
  // One line: a name is validated text, but a subject must never carry a line break.
  return (d.destination_name ? `${d.destination_name} (${siem})` : siem).replace(/[\r\n]+/g, ' ');
}

/**
 * The longest hint quoted. last_error is at most a few hundred characters (failure.ts clips it; the
 * hold limit's prefixes one sentence), but a row written before a text was clipped may hold far more.
 */
const MAX_HINT_LENGTH = 1_000;

/**
 * The hint on one line, bounded: the e-mail quotes it as "What to do: ...", and a line break in it
 * (a peer's answer quoted in last_error) would start lines of its own in a mail sent from the
 * operator's sender: a "What to do" or "Open in the dashboard" line of the peer's choosing.
 */
function oneLineHint(hint: string | null | undefined): string | null {
  if (!hint) return null;
  const line = hint.replace(/[\r\n\v\f\u0085\u2028\u2029]+/g, ' ').trim();
  return line.length <= MAX_HINT_LENGTH ? line : `${line.slice(0, MAX_HINT_LENGTH - 1)}…`;
}

/** For an alert that stands for several changes (a flap): how many, since when; its kind is the latest state. */
function flapped(a: AlertItem): string {
  const n = a.details.changes ?? 1;
  return n > 1 ? ` Its state changed ${n} times since ${new Date(a.created_at).toISOString()}; this is the latest.` : '';
}

function summary(a: AlertItem): string {
  return summaryOf(a) + flapped(a);
}

function summaryOf(a: AlertItem): string {
  const d = a.details;
  switch (a.kind) {
    case 'failing':
      return 'Deliveries to this destination are failing; events are retried on the schedule, then dead-lettered.';
    case 'paused':
      return `The circuit breaker has held this destination since ${d.failing_since ?? 'more than 15 minutes ago'}; queued events wait, nothing is lost.`;
    case 'dead_letters':
      return `${d.failed_events ?? 'Some'} event(s) were dead-lettered after every retry failed; replay them from the dashboard once the destination is fixed.`;
    case 'recovered':
      return 'Deliveries succeed again.';
    case 'failing_1h':
    case 'failing_24h':
      return (
        `Every request has failed since ${d.failing_since ?? 'the failing alert'}; queued events wait. ` +
        `Unless a request gets through, the hold limit (${d.max_hold_hours ?? 168} h) pauses this destination at ${d.hold_limit_at ?? 'its end'} and dead-letters its queued events.`
      );
    case 'hold_limit_approaching':
      return (
        `Every request has failed since ${d.failing_since ?? 'the failing alert'}. At ${d.hold_limit_at ?? 'the hold limit'}${hoursUntil(a.created_at, d.hold_limit_at)} ` +
        `the hold limit (${d.max_hold_hours ?? 168} h) pauses this destination and dead-letters its queued events: fix it before then.`
      );
    case 'hold_limit_paused':
      return (
        `Failing without a break since ${d.failing_since ?? 'the failing alert'}, this destination reached the hold limit (${d.max_hold_hours ?? 168} h) and is paused; ` +
        `${d.failed_events ?? 'its'} queued event(s) are dead-lettered, as are events recorded while it stays paused. Fix it, then replay the dead-lettered events to resume.`
      );
  }
}

export function composeAlertMessage(orgId: string, publicUrl: string, items: AlertItem[]): AlertMessage {
  const first = items[0]!;
  const subject =
    items.length === 1
      ? `[Aegis] ${label(first.details)} ${HEADLINE[first.kind]}`
      : `[Aegis] ${items.length} destination alerts for ${new Set(items.map((i) => i.destination_id)).size} destination(s)`;
  const webhookAlerts: WebhookAlert[] = items.map((a) => ({
    kind: a.kind,
    destination_id: a.destination_id,
    destination_name: label(a.details),
    siem: a.details.siem,
    occurred_at: new Date(a.details.changed_at ?? a.created_at).toISOString(),
    summary: summary(a),
    hint: a.kind === 'recovered' ? null : oneLineHint(a.details.hint),
    failed_events: a.details.failed_events ?? null,
    failing_since:
      a.kind === 'failing_1h' || a.kind === 'failing_24h' || a.kind === 'hold_limit_approaching' || a.kind === 'hold_limit_paused'
        ? (a.details.failing_since ?? null)
        : null,
    hold_limit_at: a.kind === 'failing_1h' || a.kind === 'failing_24h' || a.kind === 'hold_limit_approaching' ? (a.details.hold_limit_at ?? null) : null,
    changes: a.details.changes ?? 1,
    dashboard_url: dashboardLink(publicUrl, a.destination_id),
  }));
  const blocks = webhookAlerts.map((w) =>
    [
      `${w.destination_name} ${HEADLINE[w.kind]} (${w.occurred_at})`,
      `  ${w.summary}`,
      ...(w.hint ? [`  What to do: ${w.hint}`] : []),
      `  Open in the dashboard: ${w.dashboard_url}`,
    ].join('\n'),
  );
  const text = [
    items.length === 1 ? 'A SIEM forwarding destination changed state:' : `${items.length} changes of SIEM forwarding destinations:`,
    '',
    blocks.join('\n\n'),
    '',
    `Organization: ${orgId}`,
    `Notification settings: ${publicUrl}/settings/notifications`,
    '',
  ].join('\n');
  return { subject, text, webhook: { type: 'aegis.destination_alerts', org_id: orgId, alerts: webhookAlerts } };
}
