// The statements the service runs for every ingest request and every delivery wake-up. On a
// PostgreSQL server each is parsed and planned once per connection and then only executed: at 1,000
// events/s planning was about a quarter of the statements' time (docs/BENCHMARKS.md). Marked where
// they are written, looked up by their text where they are sent (db/pg.ts), so no call site changes
// and PGlite, which keeps no plans between statements, sends them as it always did.
import { createHash } from 'node:crypto';

const names = new Map<string, string>();

/**
 * Marks `text` as a statement worth preparing and returns it unchanged. The name derives from the
 * text: two modules marking the same text share one prepared statement, and different texts never
 * collide (node-postgres refuses a name reused with another text).
 */
export function prepared(text: string): string {
  if (!names.has(text)) names.set(text, `aegis_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`);
  return text;
}

/** The prepared statement's name for `text`, or undefined for a statement sent as it is. */
export function preparedName(text: string): string | undefined {
  return names.get(text);
}
