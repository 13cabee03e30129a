import type { Db } from '../db/types.js';
import { countFailed, replayFailed } from '../queue/deadLetters.js';
import { CliError } from './database.js';
import { progressBar } from './progress.js';

export async function replayDestination(db: Db, destinationId: string): Promise<number> {
  const { rows } = await db.query<{ org_id: string }>('SELECT org_id FROM destinations WHERE id = $1', [destinationId]);
  const orgId = rows[0]?.org_id;
  if (!orgId) throw new CliError(`No destination ${destinationId}.`);
  const total = await countFailed(db, orgId, destinationId);
  const bar = progressBar('Replaying dead letters', total);
  let done = 0;
  for (;;) {
    const n = await replayFailed(db, orgId, destinationId, null, 5000);
    if (n === 0) break;
    done += n;
    bar.update(Math.min(done, total));
  }
  bar.done();
  return done;
}
