import type { Db } from '../db/types.js';
import { countFailed, lastFailedJobId, replayFailed } from '../queue/deadLetters.js';
import { CliError } from './database.js';
import { progressBar } from './progress.js';
import { getEncoder } from '../siem/registry.js';
import type { SiemId } from '../siem/catalog.js';

export async function replayDestination(db: Db, destinationId: string): Promise<number> {
  const { rows } = await db.query<{ org_id: string }>('SELECT org_id FROM destinations WHERE id = $1', [destinationId]);
  const orgId = rows[0]?.org_id;
  if (!orgId) throw new CliError(`No destination ${destinationId}.`);
  const total = await countFailed(db, orgId, destinationId);
  const bar = progressBar('Replaying dead letters', total);
  let done = 0;
  const { rows: d } = await db.query<{ siem: string }>('SELECT siem FROM destinations WHERE id = $1', [destinationId]);
  const maxAgeMs = getEncoder(d[0]!.siem as SiemId).maxEventAgeMs ?? null;
  let tooOld = 0;
  const upToJobId = await lastFailedJobId(db, orgId, destinationId);
  for (;;) {
    const r = await replayFailed(db, orgId, destinationId, null, { batch: 5000, maxAgeMs, upToJobId });
    tooOld = r.tooOld;
    if (r.replayed === 0) break;
    done += r.replayed;
    bar.update(Math.min(done, total));
  }
  bar.done();
  if (tooOld > 0) console.error(`${tooOld} event(s) are older than this SIEM keeps and were left in the dead-letter list.`);
  return done;
}
