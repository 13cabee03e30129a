import { randomUUID } from 'node:crypto';
import type { Db } from '../db/types.js';
import type { Config } from '../config/env.js';
import type { SiemId } from '../siem/catalog.js';
import { replayDeadLetters, type ReplayResult } from '../destinations/replay.js';
import { requestRangeReplay } from '../replays/service.js';
import { claimReplay, getReplay } from '../replays/repository.js';
import { runClaimedReplay } from '../replays/runner.js';
import { toReplayView } from '../replays/view.js';
import { CliError } from './database.js';
import { progressBar } from './progress.js';
import { cliActor } from './actor.js';
import type { Queryable } from '../db/types.js';
import type { TrailActor } from '../trail/contract.js';
import { recordTrail } from '../trail/record.js';

/**
 * `aegis-stream replay`: the API's replay (dead letters, or a time window), with a progress bar.
 *
 * A window is requested exactly as the API does (replays/service.ts): a small one is queued at once;
 * a larger one becomes a background replay, which this command then waits for. It walks the replay
 * itself when no worker holds it (the embedded database with the service stopped, or a PostgreSQL
 * deployment whose workers are busy or down), or follows a worker's progress. Ctrl-C gives the walk
 * up at a batch boundary and leaves the rest to the workers; `--no-wait` leaves it to them at once.
 *
 * Like the API's, the request is a replay_requested event in the configuration trail (docs/trail.md),
 * here by the command-line actor (cli/actor.ts), committed in the transaction of the first batch it
 * queues: a refused request (a cap, a window too old) records nothing.
 */
export async function replayDestination(
  db: Db,
  destinationId: string,
  window: { from: Date; to: Date; config: Config; wait: boolean } | null = null,
  actor: TrailActor = cliActor(),
): Promise<ReplayResult & { replay_id: string | null }> {
  const { rows } = await db.query<{ org_id: string; siem: SiemId }>('SELECT org_id, siem FROM destinations WHERE id = $1 AND deleted_at IS NULL', [
    destinationId,
  ]);
  const dest = rows[0];
  if (!dest) throw new CliError(`No destination ${destinationId}.`);
  const target = { orgId: dest.org_id, id: destinationId, siem: dest.siem };
  // The API names the request's fields: from and to for a window, none for every dead letter.
  const record = (tx: Queryable) =>
    recordTrail(tx, {
      orgId: target.orgId,
      actor,
      changes: [{ action: 'replay_requested', changedFields: window ? ['from', 'to'] : [], destination: { id: destinationId, siem: target.siem } }],
    });
  if (!window) {
    let bar: ReturnType<typeof progressBar> | null = null;
    const result = await replayDeadLetters(db, target, {
      onProgress: (done, total) => {
        bar ??= progressBar('Replaying dead letters', total);
        bar.update(done);
      },
      record,
    });
    (bar as ReturnType<typeof progressBar> | null)?.done();
    if (result.message) console.error(result.message);
    return { ...result, replay_id: null };
  }

  const { config } = window;
  const answer = await requestRangeReplay({ db, limits: config.replays, retentionDays: config.retentionDays }, target, window, 'cli', record);
  if (!answer.replay) {
    if (answer.message) console.error(answer.message);
    return { replayed: answer.replayed, skipped_too_old: answer.skipped_too_old, message: answer.message, replay_id: null };
  }
  const replayId = answer.replay.replay_id;
  console.error(`Range replay ${replayId} accepted: about ${answer.replay.total_estimate} event(s) in the window.`);
  if (!window.wait) {
    console.error(`A worker process queues the rest in the background; follow it with GET .../forwarding-destinations/${destinationId}/replays/${replayId}.`);
    return { replayed: answer.replayed, skipped_too_old: answer.skipped_too_old, message: answer.message, replay_id: replayId };
  }

  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  const bar = progressBar('Replaying time window', answer.replay.total_estimate);
  try {
    for (;;) {
      const row = await getReplay(db, target.orgId, replayId);
      if (!row) throw new CliError(`Range replay ${replayId} is gone: its destination was deleted.`);
      bar.update(Math.min(row.scanned, answer.replay.total_estimate));
      if (row.status !== 'running') break;
      if (interrupted) {
        process.stderr.write('\n');
        throw new CliError(`Interrupted: range replay ${replayId} goes on in the background in a worker process (${row.queued} event(s) queued so far).`);
      }
      // Nobody holds it: walk it here. Held by a live worker: watch it, and take over if its lease runs out.
      const claim = await claimReplay(db, randomUUID(), config.leaseMs, { orgId: target.orgId, id: replayId });
      if (claim) {
        let scanned = row.scanned;
        await runClaimedReplay(db, claim, {
          batch: config.replays.batch,
          leaseMs: config.leaseMs,
          stopping: () => interrupted,
          onBatch: (b) => {
            scanned += b.scanned;
            bar.update(Math.min(scanned, answer.replay!.total_estimate));
          },
        });
      } else {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  bar.done();
  const row = await getReplay(db, target.orgId, replayId);
  if (!row) throw new CliError(`Range replay ${replayId} is gone: its destination was deleted.`);
  const view = toReplayView(row);
  if (view.status === 'failed') throw new CliError(`Range replay ${replayId} failed after queuing ${view.replayed} event(s): ${view.error ?? 'unknown error'}`);
  if (view.status === 'cancelled') console.error(`Range replay ${replayId} was cancelled after queuing ${view.replayed} event(s); those stay queued.`);
  if (view.message) console.error(view.message);
  return { replayed: view.replayed, skipped_too_old: view.skipped_too_old, message: view.message, replay_id: replayId };
}
