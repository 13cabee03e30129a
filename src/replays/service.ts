import type { Db, Queryable } from '../db/types.js';
import type { ReplayLimits } from '../config/env.js';
import { AppError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { SiemId } from '../siem/catalog.js';
import { compileFilter } from '../filters/compile.js';
import { sliced } from '../filters/loopSlice.js';
import { planRangeReplay, rangeReplayMessage, type ReplayResult } from '../destinations/replay.js';
import { countInWindow, queueReplayBatch } from '../queue/replayRange.js';
import { resumeHeld } from '../queue/deliveryState.js';
import * as repo from './repository.js';
import { toReplayView, type ReplayView } from './view.js';

/** Who asked for a replay: shown as created_by. */
export type ReplayRequester = 'api_key' | 'dashboard' | 'cli';

/**
 * The answer to a range replay request. Small windows are queued before answering (`replay` null);
 * larger ones continue in the background and `replay` is their record (202 with its id).
 */
export interface RangeReplayAnswer extends ReplayResult {
  replay: ReplayView | null;
}

const windowTooLarge = (limits: ReplayLimits) =>
  new AppError(
    'limit_reached',
    `This window holds more than ${limits.maxEvents} recorded events, more than one replay may cover (AEGIS_MAX_REPLAY_EVENTS = ${limits.maxEvents}). Replay it in smaller windows; nothing was queued.`,
  );

const tooManyRunning = (running: number, limits: ReplayLimits) =>
  new AppError(
    'limit_reached',
    `This organization has ${running} range replays running, the most it may run at once (AEGIS_MAX_RUNNING_REPLAYS_PER_ORG = ${limits.maxRunningPerOrg}). Wait for one to finish or cancel one (POST .../replays/{replay_id}/cancel), then ask again; nothing was queued.`,
  );

/**
 * The caps, read before anything is written, and the window's events (at most the cap and one): a
 * request they refuse used to queue its first batch, then count up to AEGIS_MAX_REPLAY_EVENTS events
 * in the same write transaction, whose transaction id held back every organization's pull API
 * (docs/history.md) for as long as the count ran, on every refused request (an attacker review).
 * Read without the organization's lock, on statements that write nothing; the batch's transaction
 * checks the running replays again under it, for requests racing this one. A window of less than one
 * batch is answered at once, never a background replay: no running cap.
 */
async function refuseOverCaps(db: Db, orgId: string, plan: { start: Date; to: Date }, limits: ReplayLimits): Promise<number> {
  const events = await countInWindow(db, orgId, plan.start, plan.to, limits.maxEvents + 1);
  if (events > limits.maxEvents) throw windowTooLarge(limits);
  if (events < limits.batch) return events;
  const running = await repo.runningReplayCount(db, orgId);
  if (running >= limits.maxRunningPerOrg) throw tooManyRunning(running, limits);
  return events;
}

/**
 * Range replay, the one entry point used by the API, the dashboard and the CLI.
 *
 * The window is trimmed (planRangeReplay) and its first batch is queued at once. If that batch was
 * the whole window, the request is answered with the result as it always was. Otherwise the same
 * transaction that queued the first batch records a background replay (`replays`, cursor after that
 * batch) which a worker process then walks to the end, so a window of a million events costs the
 * request one batch, not 80 seconds. The caps (running replays per organization, events per replay)
 * are checked before anything is written (refuseOverCaps), the first again in that transaction: a
 * refused request has queued nothing.
 */
export async function requestRangeReplay(
  deps: { db: Db; limits: ReplayLimits; retentionDays: number },
  dest: { orgId: string; id: string; siem: SiemId },
  window: { from: Date; to: Date },
  createdBy: ReplayRequester,
  /** Work committed with the accepted request's first batch (the command line's trail event); not run for a refused one. */
  record?: (tx: Queryable) => Promise<unknown>,
): Promise<RangeReplayAnswer> {
  // A replay is how a destination paused by the hold limit resumes (docs/alerts.md): in the
  // transaction that accepts it, after the caps, so a refused request changes nothing.
  const { db, limits } = deps;
  const plan = await planRangeReplay(db, dest, window, deps.retentionDays);
  const counted = await refuseOverCaps(db, dest.orgId, plan, limits);
  let replayId: string | null = null;
  const first = await queueReplayBatch(
    db,
    { orgId: dest.orgId, destinationId: dest.id, from: plan.start, to: plan.to, after: null, batch: limits.batch },
    {
      // The destination's filter applies as it does to live events: read in the batch's transaction,
      // under the lock later batches take (repository.ts lockBatchDestination), so a PATCH committed
      // first applies, and a delete committed since the request found the destination is a 404.
      // The plan trimmed the start to the SIEM's limit a moment ago: no age limit to apply again.
      before: async (tx) => {
        const row = await repo.lockBatchDestination(tx, dest.orgId, dest.id);
        if (row?.live !== true) throw notFound('destination');
        return { select: row.filter ? sliced(compileFilter(row.filter)) : null };
      },
      after: async (tx, b) => {
        if (b.scanned < limits.batch || b.last === null) {
          await resumeHeld(tx, dest.orgId, dest.id);
          await record?.(tx); // the whole window: answered now
          return;
        }
        // The window's events as counted before this transaction (refuseOverCaps): counting here held
        // the transaction's id, and with it every organization's pull API, for as long as a count of
        // millions ran, and requests sent at once all counted (a review). Every event it counted was
        // committed before the walk starts, so a finished walk short of it says events were removed
        // by retention; one recorded since is walked without being counted (the estimate is low).
        const running = await repo.lockRunningReplayCount(tx, dest.orgId);
        if (running >= limits.maxRunningPerOrg) throw tooManyRunning(running, limits);
        replayId = newId('rpl');
        await repo.insertReplay(tx, {
          orgId: dest.orgId,
          id: replayId,
          destinationId: dest.id,
          from: plan.from,
          to: plan.to,
          start: plan.start,
          skippedTooOld: plan.skippedTooOld,
          totalEstimate: counted,
          notes: plan.trimNote,
          createdBy,
          first: b,
        });
        await resumeHeld(tx, dest.orgId, dest.id);
        await record?.(tx);
        // Delivered on commit: a worker process picks the replay up at once.
        await tx.query(`SELECT pg_notify('${repo.REPLAYS_CHANNEL}', '')`);
      },
    },
  );
  if (replayId !== null) {
    const row = await repo.getReplay(db, dest.orgId, replayId);
    if (!row) throw notFound('replay'); // its destination was deleted this very moment
    const view = toReplayView(row);
    const lead = `Replaying in the background (replay_id ${view.replay_id}): ${view.replayed} event(s) queued so far of about ${view.total_estimate} in the window; follow its progress at GET .../forwarding-destinations/${dest.id}/replays/${view.replay_id}.`;
    return { replayed: view.replayed, skipped_too_old: view.skipped_too_old, message: view.message ? `${lead} ${view.message}` : lead, replay: view };
  }
  const message = rangeReplayMessage(plan.trimNote, { filteredOut: first.filteredOut, alreadyPending: first.scanned - first.filteredOut - first.queued });
  return { replayed: first.queued, skipped_too_old: plan.skippedTooOld, message, replay: null };
}

export async function getReplayView(db: Db, orgId: string, destinationId: string, replayId: string): Promise<ReplayView> {
  const row = await repo.getReplay(db, orgId, replayId);
  if (!row || row.destination_id !== destinationId) throw notFound('replay');
  return toReplayView(row);
}

export async function listReplayViews(db: Db, orgId: string, destinationId: string, limit: number): Promise<ReplayView[]> {
  return (await repo.listReplays(db, orgId, destinationId, limit)).map(toReplayView);
}

/**
 * Cancels a running replay: no batch is queued after this answers. The jobs it queued before stay
 * queued and are delivered like any other (they are ordinary jobs, indistinguishable from live ones).
 * Cancelling a cancelled replay answers it again; a finished or failed one is a conflict.
 */
export async function cancelRangeReplay(db: Db, orgId: string, destinationId: string, replayId: string): Promise<ReplayView> {
  const row = await repo.getReplay(db, orgId, replayId);
  if (!row || row.destination_id !== destinationId) throw notFound('replay');
  const status = await repo.cancelReplay(db, orgId, replayId);
  if (status === null) throw notFound('replay');
  if (status === 'done' || status === 'failed') {
    throw new AppError('conflict', `This replay has already ${status === 'done' ? 'finished' : 'failed'}; there is nothing to cancel.`);
  }
  return getReplayView(db, orgId, destinationId, replayId);
}
