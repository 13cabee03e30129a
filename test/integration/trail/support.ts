// Reading configuration trail events out of what a receiver got (custom preset: one plain event per POST).
import type { ReceivedRequest } from '../../support/httpsReceiver.js';

export interface ReceivedEvent {
  event: { id: string; action: string; dataset: string; outcome: string };
  aegis: Record<string, unknown>;
  [k: string]: unknown;
}

/** Every event a custom-preset receiver got, in arrival order. */
export function eventsOf(requests: readonly ReceivedRequest[]): ReceivedEvent[] {
  return requests.filter((r) => r.body.length > 0).map((r) => JSON.parse(r.body.toString('utf8')) as ReceivedEvent);
}

/** The trail events among them. */
export function trailOf(requests: readonly ReceivedRequest[]): ReceivedEvent[] {
  return eventsOf(requests).filter((e) => e.event.dataset === 'aegis.audit_stream');
}

/** The trail actions a receiver got for one destination id (or for the notification settings: null). */
export function actionsFor(requests: readonly ReceivedRequest[], destinationId: string | null): string[] {
  return trailOf(requests)
    .filter((e) => (e.aegis.destination_id ?? null) === destinationId)
    .map((e) => e.event.action);
}
