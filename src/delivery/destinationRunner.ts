// One due destination's runner: its lanes of [claim batch -> send requests -> settle] until nothing
// is due. The shapes (lanes, claim sizes, probing) come from claimPlan.ts; one claim's sending and
// settling is deliverClaim.ts.
import { randomUUID } from 'node:crypto';
import { CREDENTIAL_UNREADABLE_MESSAGE } from '../destinations/credentials.js';
import { keyIdsOutsideRing } from '../destinations/keyCoverage.js';
import type { RunnerRow } from '../destinations/row.js';
import { getDestinationRow } from '../destinations/reads.js';
import { purgeDeletedDestination } from '../destinations/deletion.js';
import { claimFarewellJobs, claimJobs } from '../queue/claimJobs.js';
import { noteRequestFailure, recordAttemptOutcome, untakenFor } from '../queue/deliveryState.js';
import type { DueDestination } from '../queue/dueDestinations.js';
import { getEncoder } from '../siem/registry.js';
import type { AckTrackers } from './ackTrackers.js';
import { laneShape, nextClaimSize, runnerShape } from './claimPlan.js';
import type { DeliveryTarget } from './deliverBatch.js';
import { deliverClaim, type ClaimShell } from './deliverClaim.js';
import type { EventBudget } from './eventBudget.js';
import { configuredLimits } from './configuredLimits.js';
import type { DestinationLimiter, LimiterRegistry } from './limits.js';
import type { DestinationRowCache } from './rowCache.js';
import type { StandBack } from './standBack.js';
import { heldTarget } from './target.js';
import type { WorkerConfig } from './workerConfig.js';

/** How often a running destination re-reads its configured limits (a PATCH applies within this). */
const LIMITS_REFRESH_MS = 5_000;

/** What a runner shares with the worker that started it. */
export interface RunnerContext extends ClaimShell {
  cfg: WorkerConfig;
  limiters: LimiterRegistry;
  budget: EventBudget;
  acks: AckTrackers;
  /** The rows runners start from, by version: an unchanged destination's row is not read again. */
  rows: DestinationRowCache;
  /** Destinations this worker leaves to other processes for a while (standBack.ts). */
  standBack: StandBack;
}

/**
 * The row as the scan saw it: the one the worker holds when its version is the scan's, else read
 * (and held). A change after the scan is caught by the claim, made under the row's version.
 */
async function rowAtScan(w: RunnerContext, due: DueDestination): Promise<RunnerRow | null> {
  const held = w.rows.get(due.orgId, due.id, due.version);
  if (held) return held;
  const row = await getDestinationRow(w.deps.db, due.orgId, due.id);
  if (row) return w.rows.set(row);
  w.rows.forget(due.orgId, due.id);
  return null;
}

/**
 * How long a destination's work may wait with nobody taking it before a process that cannot open its
 * credential records that on the row: a minute (many scans of every other worker), or a lease if
 * longer (a claim another worker holds may be settled that late).
 */
export const unreadableGraceS = (cfg: Pick<WorkerConfig, 'leaseMs'>): number => Math.max(60, cfg.leaseMs / 1000);

/** Held rows whose unreadable credential was logged already (rowCache.ts replaces a row that changes). */
const toldUnreadable = new WeakSet<RunnerRow>();

export async function runDestination(w: RunnerContext, due: DueDestination): Promise<void> {
  const { db } = w.deps;
  const row = await rowAtScan(w, due);
  if (!row) return;
  // A disabled (or deleted) destination is due only for its farewell: the one job it is still sent.
  const farewellOnly = !row.enabled;
  let target: DeliveryTarget;
  try {
    target = heldTarget(w.deps.delivery.keyRing, row);
  } catch (err) {
    // A credential that cannot be opened (key removed from the ring) is a configuration error the
    // tenant sees once nobody delivers the destination; the jobs stay queued until the key is back.
    const error = CREDENTIAL_UNREADABLE_MESSAGE;
    // The key may be in another process's ring (a rolling rotation gives the processes the new ring
    // one at a time), or another may hold the right key under the same id where this one has a wrong
    // one: then the failure is this process's, not the destination's. Its row (the tenant's card, the
    // breaker every worker reads, the alerts) is left alone while anyone works on it, and written only
    // once its work has waited past the grace with nobody taking it.
    const othersMayDeliver = !(await untakenFor(db, due.orgId, due.id, unreadableGraceS(w.cfg), error));
    // The operator reads the process log, not every destination card: said once per held row (this
    // process cannot open it until the row changes: a restart with the key, a new credential), not at
    // every scan, and not only when the streak starts (a restart with a wrong key finds destinations
    // failing already). By key id, never a key or a credential.
    if (!toldUnreadable.has(row)) {
      toldUnreadable.add(row);
      w.deps.logger.error(
        { org_id: due.orgId, destination_id: due.id, key_ids: keyIdsOutsideRing(w.deps.delivery.keyRing, row), err: (err as Error).message },
        "cannot decrypt a destination's credential with AEGIS_ENCRYPTION_KEY (key_ids: keys it was encrypted with that the ring lacks); its events stay queued for a process whose ring has the key, or until the key is back or the credential is set again",
      );
    }
    if (othersMayDeliver) {
      // Looked at again after a quarter of the grace: soon enough to take over (record it) when the
      // others stop, and not at every scan while they deliver.
      w.standBack.hold(due.id, (unreadableGraceS(w.cfg) * 1000) / 4);
      return;
    }
    await recordAttemptOutcome(db, due.orgId, due.id, { ok: false, delivered: false, error, deadLettered: false });
    await noteRequestFailure(db, due.orgId, due.id);
    w.deps.alerts?.noteSettle(due.orgId, due.id, true);
    return;
  }
  // The destination's own limits (options or the SIEM's defaults, adapted to its 429s) bound its
  // requests in flight; more lanes than that would only wait on each other.
  const limiter = w.limiters.get(target.id, target.siem, configuredLimits(target.siem, target.options));
  const { probing, lanes } = runnerShape(due.consecutiveFailures, farewellOnly, w.cfg.lanesPerDestination, limiter.effective.concurrentRequests);
  // A runner draining a backlog can last long: a PATCHed limit is picked up every few seconds, not
  // only when the runner next starts.
  const refresh = setInterval(() => {
    void getDestinationRow(db, due.orgId, due.id)
      .then((r) => {
        if (r) limiter.configure(configuredLimits(target.siem, r.options));
      })
      .catch(() => undefined);
  }, LIMITS_REFRESH_MS);
  // Lanes start one at a time: a second lane starts when a claim comes back full (a backlog), not
  // on every wake-up. At a steady trickle one lane finds everything due and the others would only
  // run empty claims (each a statement and a commit; three per wake-up and destination before).
  // Each lane's failure is caught the moment the lane starts: a lane that fails while the runner is
  // still waiting on an earlier one (a settle given up on during a database outage) would otherwise
  // be an unhandled rejection, and Node ends the process on those.
  const running: Promise<{ err: unknown } | null>[] = [];
  // Lanes still running: a lane that ended (a short claim) leaves room for another when a later
  // claim comes back full, so a runner does not fall back to one lane for the rest of a drain.
  let active = 0;
  const run: LaneRun = {
    target,
    limiter,
    probing,
    farewellOnly,
    configVersion: row.row_version,
    startLane: () => {
      if (active >= lanes) return;
      active++;
      running.push(
        lane(w, run)
          .finally(() => active--)
          .then(
            () => null,
            (err: unknown) => ({ err }),
          ),
      );
    },
    claimedFarewell: false,
  };
  run.startLane();
  try {
    // Lanes started meanwhile are appended to the list, so this waits for every one of them, and
    // for all of them even when one fails (the runner must not end while a lane still sends).
    let failed: { err: unknown } | null = null;
    for (let i = 0; i < running.length; i++) {
      const outcome = await running[i]!;
      failed ??= outcome;
    }
    if (failed) throw failed.err;
  } finally {
    clearInterval(refresh);
    w.limiters.forgetIfPristine(target.id);
  }
  // A deleted destination's row waited for its farewell: settled now (delivered or dead-lettered),
  // it goes with its jobs and log; the statement keeps it while a farewell is still pending (a retry
  // is scheduled). Asked only by a runner that can find something to remove: one that started for a
  // row already deleted, or one that claimed a farewell (and so settled or gave it back), which is
  // how a delete that came while this runner sent its disable's farewell is not left to the hourly
  // sweep. A delete that came while this runner sent events, its farewell not claimed here, queued
  // a farewell that a later runner (started for the deleted row) delivers and then removes it.
  if ((row.deleted_at !== null || run.claimedFarewell) && (await purgeDeletedDestination(db, due.orgId, due.id))) w.rows.forget(due.orgId, due.id);
}

/** What a runner's lanes share. */
interface LaneRun {
  target: DeliveryTarget;
  limiter: DestinationLimiter;
  probing: boolean;
  farewellOnly: boolean;
  /** The row's updated_at as the runner read it: claims are made under these settings only. */
  configVersion: string;
  /** Starts another lane, up to the runner's shape: a claim came back full. */
  startLane: () => void;
  /** Set once a lane claims a farewell job: the runner then asks whether the row can go. */
  claimedFarewell: boolean;
}

/**
 * One claim-send-settle loop. Latency note (SIEM-FORMATS.md: "flush a partial batch after a short
 * wait, e.g. 250 ms"): that rule is for senders that accumulate events in memory before sending.
 * Here nothing accumulates: a lane claims whatever is due the moment NOTIFY wakes it and sends it at
 * once, however few events that is (a partial batch is flushed after 0 ms). Under load the batches
 * fill by themselves, because events pile up in the queue while the previous request is in flight.
 * So the low-latency requirement is met without a flush timer, and none is added on purpose.
 */
async function lane(w: RunnerContext, run: LaneRun): Promise<void> {
  const { target, limiter, probing, farewellOnly, configVersion } = run;
  const shape = laneShape(getEncoder(target.siem), w.cfg, probing);
  let limit = shape.firstClaim;
  let requests = shape.firstRequests;
  while (!w.stopping()) {
    // Told to wait (Retry-After): the runner ends instead of waiting, so it holds no runner slot;
    // the scan skips the destination until the wait is over.
    if (limiter.notBefore() > 0) return;
    // Too many events waiting for Splunk acks: the runner ends; the scan skips the destination until
    // acks come in, so it holds nothing meanwhile.
    if (w.acks.isFull(target.id)) return;
    // The destination's own pacing comes first (its request slots, its events-per-second tokens, a
    // Retry-After it was given), while the lane holds nothing shared: a limited destination waits
    // without any of the event budget, so it never slows another destination.
    const permit = await limiter.acquire({ requests, events: limit }, () => w.stopping());
    if (!permit) return;
    try {
      // Memory is bounded by the budget shared by every destination, taken before claiming: a lane
      // claims no more events than it was granted, and gives back what it did not claim at once and
      // the rest once the claim is settled.
      const granted = await w.budget.acquire(target.orgId, permit.events);
      w.deps.metrics.eventsHeld.set(w.budget.inUse);
      let held = granted;
      try {
        if (w.stopping()) return;
        const claimId = randomUUID();
        const claim = { orgId: target.orgId, destinationId: target.id, limit: granted, leaseMs: w.cfg.leaseMs, claimId };
        // Before the claim: a change heard from here on stops its sending (deliverClaim); one committed
        // before the claim's statement leaves it empty (configVersion) and ends the lane. Per claim,
        // not per runner: a change heard late, already in the row this runner read, costs one claim's
        // rest going back, not every claim after it.
        const settingsAtClaim = w.settingsChanges(target.id);
        // Claims under the settings this runner read (configVersion): a changed destination gets a new runner.
        const jobs = farewellOnly ? await claimFarewellJobs(w.deps.db, claim) : await claimJobs(w.deps.db, { ...claim, configVersion });
        w.budget.release(target.orgId, granted - jobs.length);
        limiter.refund(permit.events - jobs.length);
        held = jobs.length;
        requests = shape.requests;
        if (jobs.length === 0) return;
        if (jobs.some((j) => j.farewell)) run.claimedFarewell = true;
        // As much as it asked for: there is probably more due, worth another lane.
        if (jobs.length === granted) run.startLane();
        const sendStart = performance.now();
        const paused = await deliverClaim(w, target, limiter, claimId, jobs, permit.requests, settingsAtClaim);
        limit = nextClaimSize(shape, limit, jobs.length, performance.now() - sendStart);
        if (paused) return;
        // Fewer than it asked for: nothing more was due when it claimed, and another claim would
        // most likely come back empty (a statement and a commit for nothing, once per wake-up). An
        // event recorded since woke the worker (NOTIFY), whose scan skips a destination being drained
        // but runs again the moment its runner ends (worker.ts) and starts a runner for it then.
        if (jobs.length < granted) return;
      } finally {
        w.budget.release(target.orgId, held);
        w.deps.metrics.eventsHeld.set(w.budget.inUse);
      }
    } finally {
      limiter.release(permit.requests);
    }
  }
}
