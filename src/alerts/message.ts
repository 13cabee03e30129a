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
};

/** The dashboard's Edit route for a destination (the card's hint links there too). */
export function dashboardLink(publicUrl: string, destinationId: string): string {
  return `${publicUrl}/settings/siem-forwarding/${encodeURIComponent(destinationId)}/edit`;
}

function label(d: AlertDetails): string {
  const siem = isSiemId(d.siem) ? SIEM_PRESETS[d.siem].label : d.siem;
  // One line: a name is validated text, but a subject must never carry a line break.
  return (d.destination_name ? `${d.destination_name} (${siem})` : siem).replace(/[\r\n]+/g, ' ');
}

function summary(a: AlertItem): string {
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
    occurred_at: new Date(a.created_at).toISOString(),
    summary: summary(a),
    hint: a.kind === 'recovered' ? null : a.details.hint,
    failed_events: a.details.failed_events ?? null,
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
