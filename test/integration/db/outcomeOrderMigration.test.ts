import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { evaluateAlerts, type Observed, type StoredAlertState } from '../../../src/alerts/evaluate.js';
import { destinationStatus } from '../../../src/destinations/status.js';
import { newDestination, newOrg } from '../queue/support.js';

// Migration 0024 numbers the outcomes an installation recorded before it by their times. Every
// judgement the times gave (the pill's "dead letter since the last success", the alert's "new dead
// letters") must come out the same from the numbers, for every order of the three times, ties too.
const MIGRATION = new URL('../../../migrations/0024_outcome_order.sql', import.meta.url);

describe.each(DB_KINDS)('migration 0024 on outcomes recorded before it (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  afterAll(async () => {
    await tdb?.close();
  });

  it('gives the pill and the dead-letter alert the answers the times gave', async () => {
    const orgId = await newOrg(tdb.db);
    // As before 0024: no trigger numbering the writes below (the migration, run again, makes them).
    await tdb.db.exec(`DROP TRIGGER destinations_number_outcome ON destinations`);
    const t = (s: number | null) => (s === null ? null : new Date(Date.UTC(2026, 0, 1, 0, 0, s)));
    const times = [null, 10, 20, 30];
    const cases: Array<{ id: string; delivered: number | null; dead: number | null; alerted: number | null }> = [];
    for (const delivered of times)
      for (const dead of times)
        for (const alerted of [null, 5, 10, 15, 20, 25, 30, 35]) {
          const id = await newDestination(tdb.db, orgId);
          cases.push({ id, delivered, dead, alerted });
          // As a release before 0024 left them: times only.
          await tdb.db.query(
            `UPDATE destinations SET last_attempt_ok = true, last_delivery_at = $2, last_dead_letter_at = $3,
                    outcome_seq = 0, last_delivery_seq = NULL, last_dead_letter_seq = NULL WHERE id = $1`,
            [id, t(delivered), t(dead)],
          );
          if (alerted !== null)
            await tdb.db.query(`INSERT INTO destination_alert_state (org_id, destination_id, dead_letter_alerted_at) VALUES ($1, $2, $3)`, [
              orgId,
              id,
              t(alerted),
            ]);
        }
    await tdb.db.exec(await readFile(MIGRATION, 'utf8'));

    const { rows } = await tdb.db.query<{ id: string; last_delivery_seq: number | null; last_dead_letter_seq: number | null; alerted_seq: number | null }>(
      `SELECT d.id, d.last_delivery_seq, d.last_dead_letter_seq, s.dead_letter_alerted_seq AS alerted_seq
         FROM destinations d LEFT JOIN destination_alert_state s ON s.org_id = d.org_id AND s.destination_id = d.id WHERE d.org_id = $1`,
      [orgId],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const now = t(3600)!;
    for (const c of cases) {
      const r = byId.get(c.id)!;
      const label = JSON.stringify(c);
      // The rules as they read the times before 0024.
      const failingByTimes = c.dead !== null && (c.delivered === null || c.dead > c.delivered);
      const newByTimes =
        c.dead !== null && (c.alerted === null || (c.dead > c.alerted && c.delivered !== null && c.delivered > c.alerted && c.dead >= c.delivered));
      const obs: Observed = {
        enabled: true,
        last_attempt_ok: true,
        last_delivery_at: t(c.delivered),
        last_delivery_seq: r.last_delivery_seq,
        last_dead_letter_seq: r.last_dead_letter_seq,
        consecutive_failures: 0,
      };
      const stored: StoredAlertState = { state: 'ok', breaker_open_since: null, dead_letter_alerted_at: t(c.alerted), dead_letter_alerted_seq: r.alerted_seq };
      expect(destinationStatus(obs, now) === 'failing', label).toBe(failingByTimes);
      expect(evaluateAlerts(obs, stored, now).alerts.includes('dead_letters'), label).toBe(newByTimes);
    }
  }, 120_000);
});
