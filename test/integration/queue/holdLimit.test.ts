import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enforceHoldLimit, HOLD_DEAD_LETTER_BATCH } from '../../../src/queue/holdLimit.js';
import { settleClaim } from '../../../src/queue/settleJobs.js';
import { scheduleJobs } from '../../../src/delivery/outcome.js';
import { scanQueue } from '../../../src/queue/dueDestinations.js';
import { recordAttemptOutcome, resumeHeld } from '../../../src/queue/deliveryState.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { addEvents, claim, jobs, makeDue, newDestination, newOrg, report } from './support.js';

// The hold limit's statements (src/queue/holdLimit.ts) and the failing streak the settle records,
// called directly on both databases. Hours of failing are the streak's start moved back.
describe.each(DB_KINDS)('queue: hold limit (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  beforeEach(async () => {
    await tdb.reset();
  });
  afterAll(async () => {
    await tdb?.close();
  });

  const state = async (id: string) =>
    (
      await tdb.db.query<{ failing_since: Date | null; hold_paused_at: Date | null; last_error: string | null; last_dead_letter_at: Date | null }>(
        'SELECT failing_since, hold_paused_at, last_error, last_dead_letter_at FROM destinations WHERE id = $1',
        [id],
      )
    ).rows[0]!;
  const failFor = (id: string, hours: number) =>
    tdb.db.query(`UPDATE destinations SET failing_since = now() - make_interval(hours => $2) WHERE id = $1`, [id, hours]);

  /** One failed request (settled as the worker does) for the destination's due jobs. */
  async function failOnce(org: string, dest: string) {
    await makeDue(tdb.db, dest);
    const c = await claim(tdb.db, org, dest);
    await settleClaim(tdb.db, {
      orgId: org,
      claimId: c.claimId,
      outcomes: scheduleJobs(
        c.claimed.map((j) => ({ id: j.id, attempts: j.attempts, decision: { outcome: 'retry', error: 'HTTP 503: down; Aegis will retry.', statusCode: 503 } })),
        [600, 600],
      ),
      report: report(org, dest, { n: c.ids.length, ok: false, status: 503, error: 'HTTP 503: down; Aegis will retry.' }),
    });
  }

  it('a failed request starts the streak, later failures keep its start, a delivery or a test that got through ends it', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 2);
    await failOnce(org, dest);
    const first = (await state(dest)).failing_since;
    expect(first).not.toBeNull();
    await failOnce(org, dest);
    expect((await state(dest)).failing_since).toEqual(first);
    // A test event that got through (the probe's record) ends it.
    await recordAttemptOutcome(tdb.db, org, dest, { ok: true, delivered: false, error: null, deadLettered: false, testDelivered: true });
    expect((await state(dest)).failing_since).toBeNull();
    await failOnce(org, dest);
    expect((await state(dest)).failing_since).not.toBeNull();
    // A delivery ends it.
    await makeDue(tdb.db, dest);
    const c = await claim(tdb.db, org, dest);
    await settleClaim(tdb.db, {
      orgId: org,
      claimId: c.claimId,
      outcomes: c.ids.map((id) => ({ id, outcome: 'done' as const })),
      report: report(org, dest, { n: c.ids.length, ok: true, status: 200, error: null }),
    });
    expect((await state(dest)).failing_since).toBeNull();
  });

  it('pauses only past the limit, dead-letters every pending job (claimed ones too, fenced), skips the destination; resume lifts it', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    const healthy = await newDestination(tdb.db, org);
    await addEvents(tdb.db, org, 5);
    await failOnce(org, dest);
    await failFor(dest, 167);
    expect((await enforceHoldLimit(tdb.db, 168)).paused).toEqual([]);
    expect((await state(dest)).hold_paused_at).toBeNull();

    // One job is in flight with a worker when the limit is reached.
    await makeDue(tdb.db, dest);
    const inFlight = await claim(tdb.db, org, dest, { limit: 1 });
    await failFor(dest, 169);
    const round = await enforceHoldLimit(tdb.db, 168);
    expect(round.paused).toEqual([{ orgId: org, id: dest }]);
    expect(round.deadLettered).toEqual([{ orgId: org, id: dest, siem: 'webhook', count: 5 }]);
    const s = await state(dest);
    expect(s.hold_paused_at).not.toBeNull();
    expect(s.last_dead_letter_at).not.toBeNull();
    expect(s.last_error).toMatch(
      /^Paused by the hold limit: failing without a break since .* \(168 h, the service's hold limit\); its queued events were dead-lettered\. Last error: HTTP 503: down\. Fix the destination/,
    );
    for (const j of await jobs(tdb.db, dest)) {
      expect(j.status).toBe('failed');
      expect(j.claim_id).toBeNull();
      expect(j.last_error).toMatch(/^Dead-lettered by the hold limit: .* Replay this event once the destination is fixed\. Its last error: HTTP 503: down\.$/);
    }
    // "Aegis will retry" is no longer true of a paused destination: it is left out of both texts.
    expect(s.last_error).not.toContain('will retry');
    // The other destination's jobs are untouched.
    expect((await jobs(tdb.db, healthy)).every((j) => j.status === 'pending')).toBe(true);
    // The worker's late settle of the in-flight job is fenced: it stays dead-lettered.
    const late = await settleClaim(tdb.db, {
      orgId: org,
      claimId: inFlight.claimId,
      outcomes: inFlight.ids.map((id) => ({ id, outcome: 'done' as const })),
      report: report(org, dest, { n: 1, ok: false, status: 503, error: 'HTTP 503: down' }),
    });
    expect(late.fenced).toBe(1);
    // ...and leaves the pause's last_error (what to do) and streak in place.
    expect(await state(dest)).toMatchObject({ last_error: s.last_error, failing_since: s.failing_since });
    // A second round pauses nothing again; events recorded while paused are dead-lettered, never due.
    await addEvents(tdb.db, org, 2);
    expect((await scanQueue(tdb.db)).due.map((d) => d.id)).not.toContain(dest);
    const again = await enforceHoldLimit(tdb.db, 168);
    expect(again.paused).toEqual([]);
    expect(again.deadLettered).toEqual([{ orgId: org, id: dest, siem: 'webhook', count: 2 }]);
    expect((await claim(tdb.db, org, dest)).ids).toEqual([]);

    // Resume: the pause lifts, the streak starts afresh.
    expect(await resumeHeld(tdb.db, org, dest)).toBe(true);
    expect(await state(dest)).toMatchObject({ hold_paused_at: null, failing_since: null });
    expect(await resumeHeld(tdb.db, org, dest)).toBe(false);
  });

  it('two rounds at once pause a destination once; a disabled destination is never paused', async () => {
    const org = await newOrg(tdb.db);
    const dest = await newDestination(tdb.db, org);
    const off = await newDestination(tdb.db, org, { enabled: false });
    await addEvents(tdb.db, org, 3);
    await failOnce(org, dest);
    await failFor(dest, 200);
    await tdb.db.query(`UPDATE destinations SET failing_since = now() - interval '200 hours' WHERE id = $1`, [off]);
    const [a, b] = await Promise.all([enforceHoldLimit(tdb.db, 168), enforceHoldLimit(tdb.db, 168)]);
    expect([...a.paused, ...b.paused]).toEqual([{ orgId: org, id: dest }]);
    const dead = [...a.deadLettered, ...b.deadLettered].reduce((n, d) => n + d.count, 0);
    expect(dead).toBe(3);
    expect((await state(off)).hold_paused_at).toBeNull();
    expect(HOLD_DEAD_LETTER_BATCH).toBeGreaterThan(0);
  });
});
