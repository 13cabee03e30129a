// The alert state machine, pure: what the destination's recorded delivery state means for the
// alerts an organization should get. The worker calls it (through alerts/alerter.ts) after the
// settles that can change a destination's state; the stored result is what makes it debounced.
import { destinationStatus, type StatusInputs } from '../destinations/status.js';
import { BREAKER_THRESHOLD } from '../queue/breaker.js';

/** The state last alerted about a destination. */
export type AlertState = 'ok' | 'failing' | 'paused';
export type AlertKind = 'failing' | 'paused' | 'dead_letters' | 'recovered';
export const ALERT_KINDS: readonly AlertKind[] = ['failing', 'paused', 'dead_letters', 'recovered'];

/** How long the breaker must hold a destination before the "paused" alert (the 15 minutes). */
export const PAUSED_ALERT_AFTER_MS = 15 * 60_000;

export interface Observed extends StatusInputs {
  consecutive_failures: number;
}

export interface StoredAlertState {
  state: AlertState;
  breaker_open_since: Date | null;
  dead_letter_alerted_at: Date | null;
}

export interface Evaluation {
  next: StoredAlertState;
  alerts: AlertKind[];
}

/**
 * - failing: the status pill turned Failing (the one rule in destinations/status.ts): one alert per
 *   episode, however many requests fail afterwards.
 * - paused: still failing, and the circuit breaker has held it for `pausedAfterMs`: one alert.
 * - dead_letters: jobs were dead-lettered; again only after a delivery succeeded since the last one.
 * - recovered: the pill left Failing after a failing or paused alert.
 * A disabled destination gets no alerts (the user chose it); its state resets quietly, so enabling
 * it while it still fails starts a new episode.
 */
export function evaluateAlerts(obs: Observed, stored: StoredAlertState, now: Date, pausedAfterMs = PAUSED_ALERT_AFTER_MS): Evaluation {
  const alerts: AlertKind[] = [];
  if (!obs.enabled) {
    return { next: { state: 'ok', breaker_open_since: null, dead_letter_alerted_at: stored.dead_letter_alerted_at }, alerts };
  }
  const failing = destinationStatus(obs, now) === 'failing';
  const breakerOpen = obs.consecutive_failures >= BREAKER_THRESHOLD;
  const breakerSince = breakerOpen ? (stored.breaker_open_since ?? now) : null;
  let state = stored.state;
  if (failing) {
    if (state === 'ok') {
      alerts.push('failing');
      state = 'failing';
    }
    if (state === 'failing' && breakerSince !== null && now.getTime() - breakerSince.getTime() >= pausedAfterMs) {
      alerts.push('paused');
      state = 'paused';
    }
  } else if (state !== 'ok') {
    alerts.push('recovered');
    state = 'ok';
  }
  let deadLetterAlertedAt = stored.dead_letter_alerted_at;
  const dl = obs.last_dead_letter_at;
  // New = none alerted yet, or dead-lettered at or after a success that came after the last alert
  // (the same settle stamps both when a poison event is dead-lettered beside delivered ones).
  const newDeadLetters =
    dl !== null &&
    (deadLetterAlertedAt === null ||
      (dl > deadLetterAlertedAt && obs.last_delivery_at !== null && obs.last_delivery_at > deadLetterAlertedAt && dl >= obs.last_delivery_at));
  if (newDeadLetters) {
    alerts.push('dead_letters');
    deadLetterAlertedAt = now;
  }
  return { next: { state, breaker_open_since: breakerSince, dead_letter_alerted_at: deadLetterAlertedAt }, alerts };
}
