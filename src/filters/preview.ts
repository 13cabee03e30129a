import type { Queryable } from '../db/types.js';
import { listRecentEventPayloads } from '../events/recent.js';
import { compileFilter } from './compile.js';
import { LoopSlice } from './loopSlice.js';
import { storableFilter } from './validate.js';

/** How many recent events the preview examines ("matches N of the last 1,000 events"). */
export const PREVIEW_EVENTS = 1000;

/**
 * How many of the organization's last PREVIEW_EVENTS recorded events `filter` matches, checked
 * exactly as a save would check it (a refused filter answers the same 400) and evaluated by the same
 * compiled predicate the ingest path uses. Answers counts only: never an event.
 */
export async function previewFilter(db: Queryable, orgId: string, filter: Record<string, unknown> | null): Promise<{ matched: number; of: number }> {
  const matches = compileFilter(storableFilter(filter));
  const events = await listRecentEventPayloads(db, orgId, PREVIEW_EVENTS);
  return { matched: await countMatches(events, matches), of: events.length };
}

/**
 * How many of `events` `matches` says yes to, giving the thread back every few milliseconds
 * (loopSlice.ts): a filter at its limits costs tens of microseconds an event, and one organization's
 * previews held every other organization's requests for a fifth of a second each.
 */
export async function countMatches(
  events: readonly Record<string, unknown>[],
  matches: (event: Record<string, unknown>) => boolean,
  slice = new LoopSlice(),
): Promise<number> {
  let matched = 0;
  for (const e of events) {
    if (matches(e)) matched++;
    if (slice.spent()) await slice.giveTurn();
  }
  return matched;
}
