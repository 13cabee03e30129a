// The alert state machine, pure: what the destination's recorded delivery state means for the
// alerts an organization should get. The worker calls it (through alerts/alerter.ts) after the
// settles that can change a destination's state; the stored result is what makes it debounced.
import { destinationStatus, type StatusInputs } from '../destinations/status.js';
import { BREAKER_THRESHOLD } from '../queue/deliveryState.js';

/** The state last alerted about a destination ('held': paused by the hold limit). */
export type AlertState = 'ok' | 'failing' | 'paused' | 'held';
export type AlertKind = 'failing' | 'paused' | 'dead_letters' | 'recovered' | LongFailureKind | 'hold_limit_paused';
/** The warnings of a long failing streak, in the order they come (docs/alerts.md#hold-limit). */
export type LongFailureKind = 'failing_1h' | 'failing_24h' | 'hold_limit_approaching';
export const ALERT_KINDS: readonly AlertKind[] = [
  'failing',
  'paused',
  'dead_letters',
  'recovered',
  'failing_1h',
  'failing_24h',
  'hold_limit_approaching',
  'hold_limit_paused',
];

const HOUR_S = 3600;

/**
 * The long-failure warnings for a hold limit, as seconds of failing at which each is due: after 1 h,
 * after 24 h, and 24 h before the limit (at least 1 h in). Each only if it comes before the limit
 * (the pause has its own alert); where two fall together the one about the limit is kept.
 */
export function longFailureMilestones(maxHoldHours: number): Array<{ kind: LongFailureKind; afterS: number }> {
  const limitS = maxHoldHours * HOUR_S;
  const approaching = Math.max(limitS - 24 * HOUR_S, HOUR_S);
  const all: Array<{ kind: LongFailureKind; afterS: number }> = [
    { kind: 'failing_1h', afterS: HOUR_S },
    { kind: 'failing_24h', afterS: 24 * HOUR_S },
    { kind: 'hold_limit_approaching', afterS: approaching },
  ];
  return all.filter((m) => m.afterS < limitS && (m.kind === 'hold_limit_approaching' || m.afterS !== approaching)).sort((a, b) => a.afterS - b.afterS);
}

/** How long the breaker must hold a destination before the "paused" alert (the 15 minutes). */
export const PAUSED_ALERT_AFTER_MS = 15 * 60_000;

export interface Observed extends StatusInputs {
  consecutive_failures: number;
  /** Start of the current failing streak (null or absent: not failing). */
  failing_since?: Date | null;
  /** When the hold limit paused the destination (null or absent: not paused by it). */
  hold_paused_at?: Date | null;
}

export interface StoredAlertState {
  state: AlertState;
  breaker_open_since: Date | null;
  /** When dead letters were last alerted: still written for a release before migration 0024, which judges by it. */
  dead_letter_alerted_at: Date | null;
  /**
   * The last dead letter those alerts judged, by its outcome's number (StatusInputs): what "new dead
   * letters" are after. A number, not the time: see queue/deliveryState.ts OUTCOME_SEQ_SET.
   */
  dead_letter_alerted_seq: number | null;
  /** The failing streak (its failing_since) the long-failure warnings below belong to. */
  streak_since?: Date | null;
  /** The furthest long-failure warning alerted for that streak, in seconds of failing (0: none). */
  streak_alerted_s?: number;
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
 * - failing_1h, failing_24h, hold_limit_approaching: the failing streak (failing_since) has lasted
 *   that long (longFailureMilestones); once each per streak, only the furthest one reached when
 *   several are due at once (a worker that was down for a day sends one, not three).
 * - hold_limit_paused: the hold limit paused the destination; covers the dead letters it made.
 * - recovered: the pill left Failing after a failing or paused alert.
 * A disabled destination gets no alerts (the user chose it); its state resets quietly, so enabling
 * it while it still fails starts a new episode.
 */
export function evaluateAlerts(obs: Observed, stored: StoredAlertState, now: Date, pausedAfterMs = PAUSED_ALERT_AFTER_MS, maxHoldHours = 168): Evaluation {
  const alerts: AlertKind[] = [];
  if (!obs.enabled) {
    return {
      next: {
        state: 'ok',
        breaker_open_since: null,
        dead_letter_alerted_at: stored.dead_letter_alerted_at,
        dead_letter_alerted_seq: stored.dead_letter_alerted_seq,
        streak_since: null,
        streak_alerted_s: 0,
      },
      alerts,
    };
  }
  const held = obs.hold_paused_at != null;
  const failing = destinationStatus(obs, now) === 'failing';
  const breakerOpen = obs.consecutive_failures >= BREAKER_THRESHOLD;
  const breakerSince = breakerOpen ? (stored.breaker_open_since ?? now) : null;
  let state = stored.state;
  // The long-failure warnings belong to one streak: a new failing_since starts them afresh.
  const since = obs.failing_since ? new Date(obs.failing_since) : null;
  const sameStreak = since !== null && stored.streak_since != null && new Date(stored.streak_since).getTime() === since.getTime();
  let streakAlertedS = sameStreak ? (stored.streak_alerted_s ?? 0) : 0;
  if (failing) {
    if (state === 'ok') {
      alerts.push('failing');
      state = 'failing';
    }
    if (held) {
      if (state !== 'held') {
        alerts.push('hold_limit_paused');
        state = 'held';
      }
    } else {
      // Resumed (a replay or re-enabling) but still failing: a new episode, judged afresh below.
      if (state === 'held') state = 'failing';
      if (state === 'failing' && breakerSince !== null && now.getTime() - breakerSince.getTime() >= pausedAfterMs) {
        alerts.push('paused');
        state = 'paused';
      }
      if (since !== null) {
        const failingS = (now.getTime() - since.getTime()) / 1000;
        const reached = longFailureMilestones(maxHoldHours).filter((m) => m.afterS <= failingS && m.afterS > streakAlertedS);
        const furthest = reached[reached.length - 1];
        if (furthest) {
          alerts.push(furthest.kind);
          streakAlertedS = furthest.afterS;
        }
      }
    }
  } else if (state !== 'ok') {
    alerts.push('recovered');
    state = 'ok';
  }
  let deadLetterAlertedAt = stored.dead_letter_alerted_at;
  let alertedSeq = stored.dead_letter_alerted_seq;
  const deadLetterSeq = obs.last_dead_letter_seq;
  const deliveredSeq = obs.last_delivery_seq;
  // New = none alerted yet, or dead-lettered at or after a success that came after the last dead
  // letter judged (one settle numbers both when a poison event is dead-lettered beside delivered ones).
  const newDeadLetters =
    deadLetterSeq !== null &&
    (alertedSeq === null || (deadLetterSeq > alertedSeq && deliveredSeq !== null && deliveredSeq > alertedSeq && deadLetterSeq >= deliveredSeq));
  const heldDeadLetters = held && deadLetterSeq !== null && (alertedSeq === null || deadLetterSeq > alertedSeq);
  if (newDeadLetters || heldDeadLetters) {
    // The hold limit's dead letters are told by its own alert (which counts them), not again here.
    if (!held) alerts.push('dead_letters');
    deadLetterAlertedAt = now;
    alertedSeq = deadLetterSeq;
  }
  return {
    next: {
      state,
      breaker_open_since: breakerSince,
      dead_letter_alerted_at: deadLetterAlertedAt,
      dead_letter_alerted_seq: alertedSeq,
      streak_since: since,
      streak_alerted_s: since === null ? 0 : streakAlertedS,
    },
    alerts,
  };
}
