/**
 * The status pill rule, stated once and used by the API and the dashboard alike.
 * - Disabled: `enabled` is false.
 * - Failing: enabled, and the last attempt failed or a job was dead-lettered since the last success
 *   (by the outcomes' numbers; one settle that delivered and dead-lettered is not Failing, and its
 *   dead letter is told by the dead_letters alert). The alert sweep restates it in SQL
 *   (alerts/repository.ts UNJUDGED).
 * - Active: enabled, and a delivery succeeded in the last 24 hours.
 * - Idle: enabled, and nothing delivered in the last 24 hours.
 */
export type DestinationStatus = 'active' | 'idle' | 'failing' | 'disabled';

export interface StatusInputs {
  enabled: boolean;
  last_attempt_ok: boolean | null;
  last_delivery_at: Date | null;
  /**
   * The numbers of the last delivery's and the last dead letter's outcomes (queue/deliveryState.ts
   * OUTCOME_SEQ_SET): which came after which, as the times cannot say. Equal: one settle did both.
   */
  last_delivery_seq: number | null;
  last_dead_letter_seq: number | null;
}

export const ACTIVE_WINDOW_MS = 24 * 3_600_000;

export function destinationStatus(d: StatusInputs, now: Date = new Date()): DestinationStatus {
  if (!d.enabled) return 'disabled';
  const deadLetterSinceSuccess = d.last_dead_letter_seq !== null && (d.last_delivery_seq === null || d.last_dead_letter_seq > d.last_delivery_seq);
  if (d.last_attempt_ok === false || deadLetterSinceSuccess) return 'failing';
  if (d.last_delivery_at && now.getTime() - d.last_delivery_at.getTime() < ACTIVE_WINDOW_MS) return 'active';
  return 'idle';
}
