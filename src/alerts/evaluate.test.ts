import { describe, expect, it } from 'vitest';
import { evaluateAlerts, longFailureMilestones, PAUSED_ALERT_AFTER_MS, type Observed, type StoredAlertState } from './evaluate.js';
import { BREAKER_THRESHOLD } from '../queue/deliveryState.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
// Outcomes are numbered by the second they happen at (one settle delivering and dead-lettering: one number).
const healthy: Observed = {
  enabled: true,
  last_attempt_ok: true,
  last_delivery_at: T0,
  last_delivery_seq: 0,
  last_dead_letter_seq: null,
  consecutive_failures: 0,
};
const fresh: StoredAlertState = { state: 'ok', breaker_open_since: null, dead_letter_alerted_at: null, dead_letter_alerted_seq: null };

/** Replays a sequence of observations through the state machine, as the worker's evaluations would. */
function run(steps: Array<[number, Partial<Observed>]>, maxHoldHours = 168): string[] {
  let stored = fresh;
  let obs = healthy;
  const alerts: string[] = [];
  for (const [s, change] of steps) {
    obs = { ...obs, ...change };
    const ev = evaluateAlerts(obs, stored, at(s), PAUSED_ALERT_AFTER_MS, maxHoldHours);
    alerts.push(...ev.alerts);
    stored = ev.next;
  }
  return alerts;
}

describe('alert state machine', () => {
  it('a healthy destination never alerts', () => {
    expect(
      run([
        [1, {}],
        [2, { last_delivery_at: at(2), last_delivery_seq: 2 }],
        [3, {}],
      ]),
    ).toEqual([]);
  });

  it('many failed requests make one failing alert; the recovery one recovered alert', () => {
    const failing = Array.from({ length: 20 }, (_, i): [number, Partial<Observed>] => [10 + i, { last_attempt_ok: false, consecutive_failures: i + 1 }]);
    expect(run([...failing, [40, { last_attempt_ok: true, last_delivery_at: at(40), last_delivery_seq: 40, consecutive_failures: 0 }], [41, {}]])).toEqual([
      'failing',
      'recovered',
    ]);
  });

  it('paused only once the breaker has held it for 15 minutes, once', () => {
    const open = { last_attempt_ok: false, consecutive_failures: BREAKER_THRESHOLD };
    const min15 = PAUSED_ALERT_AFTER_MS / 1000;
    expect(
      run([
        [10, open],
        [10 + min15 - 1, { consecutive_failures: BREAKER_THRESHOLD + 1 }],
      ]),
    ).toEqual(['failing']);
    expect(
      run([
        [10, open],
        [10 + min15, {}],
        [10 + min15 + 600, { consecutive_failures: BREAKER_THRESHOLD + 3 }],
      ]),
    ).toEqual(['failing', 'paused']);
    // Failures below the breaker's threshold are failing, never paused, however long.
    expect(
      run([
        [10, { last_attempt_ok: false, consecutive_failures: 2 }],
        [10 + 10 * min15, {}],
      ]),
    ).toEqual(['failing']);
  });

  it('the breaker clock restarts after a recovery', () => {
    const open = { last_attempt_ok: false, consecutive_failures: BREAKER_THRESHOLD };
    const ok = { last_attempt_ok: true, consecutive_failures: 0, last_delivery_at: at(100), last_delivery_seq: 100 };
    const min15 = PAUSED_ALERT_AFTER_MS / 1000;
    expect(
      run([
        [10, open],
        [100, ok],
        [200, open],
        [200 + min15 - 1, {}],
      ]),
    ).toEqual(['failing', 'recovered', 'failing']);
  });

  it('dead letters alert once per episode: again only after a delivery succeeded since', () => {
    expect(
      run([
        [10, { last_attempt_ok: false, consecutive_failures: 1 }],
        [20, { last_dead_letter_seq: 20 }],
        [30, { last_dead_letter_seq: 30 }],
        [40, { last_attempt_ok: true, consecutive_failures: 0, last_delivery_at: at(40), last_delivery_seq: 40 }],
        [50, { last_attempt_ok: false, consecutive_failures: 1 }],
        [60, { last_dead_letter_seq: 60 }],
      ]),
    ).toEqual(['failing', 'dead_letters', 'recovered', 'failing', 'dead_letters']);
  });

  it('a poison event dead-lettered while deliveries succeed: failing and dead letters, then recovered (the pill rule)', () => {
    expect(
      run([
        [10, { last_dead_letter_seq: 10 }],
        [20, { last_delivery_at: at(20), last_delivery_seq: 20 }],
      ]),
    ).toEqual(['failing', 'dead_letters', 'recovered']);
  });

  it('a poison event beside delivered ones in a later episode (one settle stamps both) alerts again', () => {
    expect(
      run([
        [10, { last_dead_letter_seq: 10 }],
        [20, { last_delivery_at: at(20), last_delivery_seq: 20 }],
        [50, { last_dead_letter_seq: 50, last_delivery_at: at(50), last_delivery_seq: 50 }],
      ]),
    ).toEqual(['failing', 'dead_letters', 'recovered', 'dead_letters']);
  });

  it('a success numbered after the alerted dead letter opens a new episode, though its time is earlier than the alert', () => {
    // The success's settle waited for the row behind the dead letter's: its time is its statement's
    // start (before the alert at 20), its number the later one. It was not seen by the alert at 20.
    expect(
      run([
        [10, { last_attempt_ok: false, consecutive_failures: 1 }],
        [20, { last_dead_letter_seq: 11 }],
        [30, { last_attempt_ok: true, consecutive_failures: 0, last_delivery_at: at(19), last_delivery_seq: 12 }],
        [40, { last_attempt_ok: false, consecutive_failures: 1 }],
        [50, { last_dead_letter_seq: 13 }],
      ]),
    ).toEqual(['failing', 'dead_letters', 'recovered', 'failing', 'dead_letters']);
  });

  it('a disabled destination alerts nothing and resets quietly; enabling it while it fails starts a new episode', () => {
    expect(
      run([
        [10, { last_attempt_ok: false }],
        [20, { enabled: false }],
        [30, { enabled: true }],
      ]),
    ).toEqual(['failing', 'failing']);
  });

  describe('hold limit', () => {
    const H = 3600;
    const failing = { last_attempt_ok: false, consecutive_failures: 1, failing_since: at(0) };

    it('warnings after 1 h, 24 h and 24 h before the limit, each once, then the pause; recovered after', () => {
      expect(
        run([
          [10, failing],
          [H - 1, {}],
          [H, {}],
          [H + 60, { consecutive_failures: 2 }],
          [24 * H, {}],
          [100 * H, {}],
          [144 * H, {}],
          [150 * H, {}],
          [168 * H, { hold_paused_at: at(168 * H), last_dead_letter_seq: 168 * H }],
          [169 * H, { last_dead_letter_seq: 169 * H }],
          [200 * H, { hold_paused_at: null, failing_since: null }],
          [201 * H, { last_attempt_ok: true, last_delivery_at: at(201 * H), last_delivery_seq: 201 * H, consecutive_failures: 0 }],
        ]),
      ).toEqual(['failing', 'failing_1h', 'failing_24h', 'hold_limit_approaching', 'hold_limit_paused', 'recovered']);
    });

    it('a worker away for days sends the furthest warning reached, not every one', () => {
      expect(
        run([
          [10, { ...failing, failing_since: at(10) }],
          [150 * H, {}],
        ]),
      ).toEqual(['failing', 'hold_limit_approaching']);
    });

    it('a new streak (after a success, or a resume that still fails) warns afresh', () => {
      expect(
        run([
          [0, failing],
          [2 * H, {}],
          [3 * H, { last_attempt_ok: true, last_delivery_at: at(3 * H), last_delivery_seq: 3 * H, failing_since: null, consecutive_failures: 0 }],
          [4 * H, { last_attempt_ok: false, failing_since: at(4 * H) }],
          [5 * H + 1, {}],
        ]),
      ).toEqual(['failing', 'failing_1h', 'recovered', 'failing', 'failing_1h']);
      // Resumed while still failing: back to failing quietly; the next pause alerts again (a pause
      // judged in one step supersedes the warnings it passed).
      expect(
        run([
          [0, failing],
          [168 * H, { hold_paused_at: at(168 * H) }],
          [170 * H, { hold_paused_at: null, failing_since: at(170 * H) }],
          [338 * H, { hold_paused_at: at(338 * H) }],
        ]),
      ).toEqual(['failing', 'hold_limit_paused', 'hold_limit_paused']);
    });

    it('milestones for short limits: only those before the limit; the approaching one wins a tie', () => {
      const kinds = (h: number) => longFailureMilestones(h).map((m) => `${m.kind}@${m.afterS / H}`);
      expect(kinds(168)).toEqual(['failing_1h@1', 'failing_24h@24', 'hold_limit_approaching@144']);
      expect(kinds(48)).toEqual(['failing_1h@1', 'hold_limit_approaching@24']);
      expect(kinds(24)).toEqual(['hold_limit_approaching@1']);
      expect(kinds(1)).toEqual([]);
    });

    it('a disabled destination gets no hold warnings', () => {
      expect(
        run([
          [0, { ...failing, enabled: false }],
          [30 * H, {}],
        ]),
      ).toEqual([]);
    });
  });
});
