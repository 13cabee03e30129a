import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { lockAlertState, saveAlertState, unjudgedDestinations } from '../../../src/alerts/repository.js';
import { evaluateAlerts } from '../../../src/alerts/evaluate.js';
import { recordAttemptOutcome } from '../../../src/queue/deliveryState.js';
import { newDestination, newOrg } from '../queue/support.js';

// "New dead letters" are dead letters after a success that came after the last ones alerted. A settle
// stamps its statement's start, so a success that waited for the destination's row behind another
// settle, or one in the same millisecond of PGlite's clock, can carry a time no later than the alert
// that judged the dead letters before it: judged by the times, the next episode's dead letters were
// never alerted (a helper's race on PostgreSQL missed 121 of 200). The real settle rule, alert
// evaluation and sweep, on both databases.
describe.each(DB_KINDS)('dead-letter alerts follow the order of outcomes (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  afterAll(async () => {
    await tdb?.close();
  });

  /** What the alerter does after a settle: lock, evaluate, save; the alerts it would queue. */
  const judge = (orgId: string, id: string) =>
    tdb.db.transaction(async (tx) => {
      const s = (await lockAlertState(tx, orgId, id))!;
      const ev = evaluateAlerts(s, s, new Date(s.now));
      await saveAlertState(tx, orgId, id, ev.next, ev.next.state !== s.state);
      return ev.alerts;
    });
  const deadLetter = (orgId: string, id: string) =>
    recordAttemptOutcome(tdb.db, orgId, id, { ok: false, delivered: false, error: 'HTTP 503: down', deadLettered: true });
  const deliver = (orgId: string, id: string) => recordAttemptOutcome(tdb.db, orgId, id, { ok: true, delivered: true, error: null, deadLettered: false });
  const unjudged = async (id: string) => (await unjudgedDestinations(tdb.db, 500, 5000)).due.filter((d) => d.destination_id === id);

  it('alerts the dead letters of a new episode after a success stamped no later than the last alert', async () => {
    const orgId = await newOrg(tdb.db);
    const id = await newDestination(tdb.db, orgId);
    await deadLetter(orgId, id);
    expect(await judge(orgId, id)).toEqual(['failing', 'dead_letters']);
    // The success came after that judgement, stamped at its very time (a tie, or a wait for the row).
    await deliver(orgId, id);
    await tdb.db.query(
      `UPDATE destinations d SET last_delivery_at = s.dead_letter_alerted_at
         FROM destination_alert_state s WHERE s.org_id = d.org_id AND s.destination_id = d.id AND d.id = $1`,
      [id],
    );
    expect(await judge(orgId, id)).toEqual(['recovered']);
    await deadLetter(orgId, id);
    // The sweep finds it too, should the evaluation after the settle never run.
    expect(await unjudged(id)).toEqual([{ org_id: orgId, destination_id: id }]);
    expect(await judge(orgId, id)).toEqual(['failing', 'dead_letters']);
    expect(await unjudged(id)).toEqual([]);
  });

  it('does not alert again dead letters of the same episode, whatever their times', async () => {
    const orgId = await newOrg(tdb.db);
    const id = await newDestination(tdb.db, orgId);
    await deadLetter(orgId, id);
    expect(await judge(orgId, id)).toEqual(['failing', 'dead_letters']);
    await deadLetter(orgId, id);
    expect(await judge(orgId, id)).toEqual([]);
    expect(await unjudged(id)).toEqual([]);
  });

  // What a worker of the release before migration 0024 writes: times alone (its settle's SET list, and
  // its alerter's save). Beside this release in a rolling upgrade, or after a roll back and forward.
  const olderDelivery = (id: string) => tdb.db.query(`UPDATE destinations SET last_attempt_ok = true, last_delivery_at = now() WHERE id = $1`, [id]);
  const olderAlert = (id: string) => tdb.db.query(`UPDATE destination_alert_state SET dead_letter_alerted_at = now() WHERE destination_id = $1`, [id]);

  it("numbers an older release's delivery: the pill is not left Failing, and its dead letters alert", async () => {
    const orgId = await newOrg(tdb.db);
    const id = await newDestination(tdb.db, orgId);
    await deliver(orgId, id);
    await deadLetter(orgId, id);
    expect(await judge(orgId, id)).toEqual(['failing', 'dead_letters']);
    await olderDelivery(id);
    expect(await judge(orgId, id)).toEqual(['recovered']);
    const { rows } = await tdb.db.query<{ last_delivery_seq: number; last_dead_letter_seq: number }>(
      `SELECT last_delivery_seq, last_dead_letter_seq FROM destinations WHERE id = $1`,
      [id],
    );
    expect(rows[0]!.last_delivery_seq).toBeGreaterThan(rows[0]!.last_dead_letter_seq);
    expect(await unjudged(id)).toEqual([]);
    await deadLetter(orgId, id);
    expect(await judge(orgId, id)).toEqual(['failing', 'dead_letters']);
  });

  it("takes an older release's dead-letter alert as judging the destination's last dead letters", async () => {
    const orgId = await newOrg(tdb.db);
    const id = await newDestination(tdb.db, orgId);
    await deadLetter(orgId, id);
    // Its alerter judged and alerted them first (the state row is this release's lock's doing).
    await tdb.db.query(`INSERT INTO destination_alert_state (org_id, destination_id, state) VALUES ($1, $2, 'failing')`, [orgId, id]);
    await olderAlert(id);
    expect(await judge(orgId, id)).toEqual([]);
    expect(await unjudged(id)).toEqual([]);
  });

  it('numbers the outcomes in the order they are recorded, one number for a settle that delivers and dead-letters', async () => {
    const orgId = await newOrg(tdb.db);
    const id = await newDestination(tdb.db, orgId);
    const seqs = async () =>
      (
        await tdb.db.query<{ outcome_seq: number; last_delivery_seq: number | null; last_dead_letter_seq: number | null }>(
          `SELECT outcome_seq, last_delivery_seq, last_dead_letter_seq FROM destinations WHERE id = $1`,
          [id],
        )
      ).rows[0];
    expect(await seqs()).toEqual({ outcome_seq: 0, last_delivery_seq: null, last_dead_letter_seq: null });
    await deliver(orgId, id);
    await deadLetter(orgId, id);
    expect(await seqs()).toEqual({ outcome_seq: 2, last_delivery_seq: 1, last_dead_letter_seq: 2 });
    await recordAttemptOutcome(tdb.db, orgId, id, { ok: true, delivered: true, error: null, deadLettered: true });
    expect(await seqs()).toEqual({ outcome_seq: 3, last_delivery_seq: 3, last_dead_letter_seq: 3 });
  });
});
