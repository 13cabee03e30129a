// The opaque page cursors of the destination routes: the destinations list (and its page of stats)
// and the delivery log. Each is checked on the way in, so a forged one is a 400 naming it.
import { invalid } from '../../../errors.js';
import { DESTINATION_ID_PATTERN } from '../../../ids.js';
import type { DestinationPageKey } from '../../../destinations/reads.js';
import { DestinationsPageQuery } from '../../schemas/destinationReads.js';
import { pageSize } from '../../schemas/common.js';
import { decodePageCursor, encodePageCursor } from '../../pageCursor.js';
import { parseDateTime } from '../../../events/dateTime.js';

export function pageOf(q: DestinationsPageQuery): { limit: number; after: DestinationPageKey | null } {
  return {
    limit: pageSize(q.limit, DestinationsPageQuery.properties.limit),
    after: q.cursor === undefined ? null : decodeDestinationsCursor(q.cursor),
  };
}

const DESTINATIONS_CURSOR = 'd1.';
export function encodeDestinationsCursor(key: DestinationPageKey): string {
  return encodePageCursor(DESTINATIONS_CURSOR, [key.createdAt, key.id]);
}
function decodeDestinationsCursor(cursor: string): DestinationPageKey {
  const [createdAt, id] = decodePageCursor(DESTINATIONS_CURSOR, cursor, 2) as [string, string];
  // Checked here so a forged cursor is a 400 naming it, never a database cast error.
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/.test(createdAt) ||
    // The API's one date-time reader and range: an edited year 0000 is this 400, not the database's 500.
    !parseDateTime(`${createdAt}Z`).ok ||
    !new RegExp(DESTINATION_ID_PATTERN).test(id)
  ) {
    throw invalid('cursor', 'is not a cursor this API gave out; pass next_cursor from the previous page as is');
  }
  return { createdAt, id };
}

// "a2": the position is the organization's own number for the entry (orgs/tenantNumbers.ts). An "a1"
// cursor (given out before, holding the row id itself) is refused, so a client paging across the
// upgrade starts again instead of reading a wrong page.
const ATTEMPTS_CURSOR = 'a2.';
export function encodeAttemptsCursor(lastId: number): string {
  return encodePageCursor(ATTEMPTS_CURSOR, [String(lastId)]);
}
export function decodeAttemptsCursor(cursor: string): number {
  const [position = ''] = decodePageCursor(ATTEMPTS_CURSOR, cursor, 1);
  // Digits as encodeAttemptsCursor writes them: Number() alone took "1e3", "0x10" and " 7".
  const id = /^[1-9][0-9]{0,15}$/.test(position) ? Number(position) : NaN;
  if (!Number.isSafeInteger(id)) throw invalid('cursor', 'is not a cursor this API gave out; pass next_cursor from the previous page as is');
  return id;
}
