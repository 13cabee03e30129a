/**
 * The status pill rule, stated once and used by the API and the dashboard alike.
 * - Disabled: `enabled` is false.
 * - Failing: enabled, and the last attempt failed or a job was dead-lettered since the last success.
 * - Active: enabled, and a delivery succeeded in the last 24 hours.
 * - Idle: enabled, and nothing delivered in the last 24 hours.
 */
export type DestinationStatus = 'active' | 'idle' | 'failing' | 'disabled';

export interface StatusInputs {
  enabled: boolean;
  last_attempt_ok: boolean | null;
  last_delivery_at: Date | null;
  last_dead_letter_at: Date | null;
}

export const ACTIVE_WINDOW_MS = 24 * 3_600_000;

export function destinationStatus(d: StatusInputs, now: Date = new Date()): DestinationStatus {
  if (!d.enabled) return 'disabled';
  const deadLetterSinceSuccess = d.last_dead_letter_at !== null && (d.last_delivery_at === null || d.last_dead_letter_at > d.last_delivery_at);
  if (d.last_attempt_ok === false || deadLetterSinceSuccess) return 'failing';
  if (d.last_delivery_at && now.getTime() - d.last_delivery_at.getTime() < ACTIVE_WINDOW_MS) return 'active';
  return 'idle';
}
