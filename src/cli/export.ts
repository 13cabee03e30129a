import type { Db } from '../db/types.js';
import { getOrg } from '../orgs/repository.js';
import { countEvents, pullAll } from '../events/pull.js';
import { CliError } from './database.js';
import { progressBar } from './progress.js';
import { parseDateTime, timestampBound } from '../events/dateTime.js';
import { StoredEvent } from '../siem/storedEvent.js';
import { eventJson } from '../siem/types.js';

// RFC 3339 date-time (what the API accepts): a date, a time, and a zone, nothing looser.
/** An option's date-time, read as the API reads one (parseDateTime), or a one-line CliError naming the option. */
export function parseTimeOption(option: string, value: string): Date {
  const parsed = parseDateTime(value);
  if (!parsed.ok) throw new CliError(`${option}: ${parsed.problem}`);
  // A bound on @timestamp, as the API's (timestampBound).
  return timestampBound(parsed);
}

/**
 * `aegis-stream export`: writes every event of the organization in [since, until) by @timestamp to
 * `out` as NDJSON, one wire event per line exactly as a webhook destination receives it, in the pull
 * API's order (so an export taken while events are recorded holds each one once). Progress goes to
 * stderr: a bar on a terminal, otherwise one final count line. Returns the number written.
 */
export async function exportEvents(db: Db, opts: { org: string; since: string; until?: string }, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const since = parseTimeOption('--since', opts.since);
  const until = opts.until === undefined ? null : parseTimeOption('--until', opts.until);
  if (until && until < since) throw new CliError('--until: is before --since');
  if (!(await getOrg(db, opts.org))) throw new CliError(`No organization ${opts.org}.`);
  const window = { since, until };
  const total = process.stderr.isTTY ? await countEvents(db, opts.org, window) : 0;
  const bar = process.stderr.isTTY ? progressBar('Exporting', total) : null;
  let written = 0;
  for await (const page of pullAll(db, opts.org, window)) {
    // Each event as a webhook destination receives it (eventJson), one a line: the stored text as it
    // is when the API wrote it (JSON.stringify's, no line break), written again when it was not.
    const text = page.map((e) => `${eventJson(new StoredEvent(e))}\n`).join('');
    // Respect backpressure: a slow pipe must not make the whole export sit in memory.
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', resolve));
    written += page.length;
    bar?.update(Math.min(written, total));
  }
  if (bar) bar.done();
  else process.stderr.write(`Exported ${written} event(s).\n`);
  return written;
}
