// The destination rows a worker's runners start from, so that a wake-up of an unchanged destination
// sends no statement to read its row.
import type { RunnerRow, VersionedDestinationRow } from '../destinations/row.js';
import { RecencyMap } from './recencyMap.js';

/** Rows held at most: every busy destination of a large worker, a few kilobytes each (no filter). */
export const ROW_CACHE_MAX = 4096;

/**
 * Destination rows by organization and id, each with its version (updated_at to the microsecond,
 * which every write of a column a runner reads moves: destinations/row.ts). The due scan returns each
 * destination's version, so a runner finds its row here when nothing changed since it was read and
 * reads it again otherwise (a PATCH, a disable, a delete, a credential or key rotation). Keyed by the
 * organization too, so a row is only ever handed out for the organization it belongs to. Bounded:
 * the least recently used row goes first.
 */
export class DestinationRowCache {
  /** In the order of their last use (a use relinks the row: recencyMap.ts). */
  private readonly entries = new RecencyMap<string, RunnerRow>();

  constructor(readonly max = ROW_CACHE_MAX) {
    if (!(max >= 1)) throw new Error('row cache must hold at least one row');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The row held for this destination in this version, or null (none, or another version). */
  get(orgId: string, id: string, version: string): RunnerRow | null {
    const key = keyOf(orgId, id);
    const hit = this.entries.peek(key);
    if (!hit || hit.row_version !== version) return null;
    this.entries.use(key);
    return hit;
  }

  /** Holds a row just read (without its filter: RunnerRow), in place of any other version of it. */
  set(row: VersionedDestinationRow): RunnerRow {
    const { filter: _filter, ...held } = row;
    const key = keyOf(row.org_id, row.id);
    this.entries.set(key, held);
    while (this.entries.size > this.max) this.entries.deleteOldest();
    return held;
  }

  /** The destination is gone (purged, or not found): its row is not held any more. */
  forget(orgId: string, id: string): void {
    this.entries.delete(keyOf(orgId, id));
  }
}

const keyOf = (orgId: string, id: string) => JSON.stringify([orgId, id]);
