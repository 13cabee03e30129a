/**
 * Which filtered destinations each recorded event goes to, worked out in the process (sift) and
 * handed to recordEvents, whose one statement checks that the filters it was computed from are still
 * the stored ones before it records anything (queue/enqueue.ts). Destinations without a filter are
 * joined in SQL and cost nothing here.
 *
 * Kept per service: the last seen filtered destinations of each organization (a guess, proven or
 * refuted by the statement; an organization not seen yet is guessed to have none) and each filter
 * compiled once per (destination, filter version). An organization with no filter therefore records
 * in one round trip, as before filters existed.
 */
import type { Queryable } from '../db/types.js';
import { listFilteredDestinations, type FilteredDestination } from '../destinations/reads.js';
import { FilterCache } from './compile.js';
import { CHECKS_PER_CLOCK_READ, LoopSlice } from './loopSlice.js';

export interface RoutedEvent {
  orgId: string;
  id: string;
  payload: unknown;
}

export interface Routing {
  /** Every enabled filtered destination the pairs were computed against, with its filter version. */
  destinations: { id: string; version: string }[];
  /** (event id, destination id): the filtered destinations an event matched. */
  pairs: { eventId: string; destinationId: string }[];
}

export class FilterRouter {
  private readonly known = new Map<string, FilteredDestination[]>();
  private readonly compiled = new FilterCache();
  constructor(private readonly maxOrgs = 10_000) {}

  /** Re-reads the organizations' filtered destinations (after the statement found the guess stale). */
  async refresh(db: Queryable, orgIds: readonly string[]): Promise<void> {
    const rows = await listFilteredDestinations(db, orgIds);
    for (const org of orgIds) {
      const now = rows.filter((r) => r.org_id === org);
      // A destination deleted, disabled or unfiltered since: its compiled filter goes too (a filters
      // review: kept until 10,000 newer ones pushed it out, they filled the heap).
      const still = new Set(now.map((r) => r.id));
      for (const d of this.known.get(org) ?? []) if (!still.has(d.id)) this.compiled.forget(d.id);
      this.known.delete(org);
      this.known.set(org, now);
    }
    while (this.known.size > this.maxOrgs) this.forgetOrg(this.known.keys().next().value!);
  }

  private forgetOrg(org: string): void {
    for (const d of this.known.get(org) ?? []) this.compiled.forget(d.id);
    this.known.delete(org);
  }

  /** Compiled filters held (for tests). */
  get compiledFilters(): { entries: number; chars: number } {
    return this.compiled.size;
  }

  /**
   * The filtered destinations each event goes to. Cheap filters finish in one go; past a slice of
   * checking (loopSlice.ts), routing yields to the event loop (a setImmediate turn) so the heavy batch of one
   * organization is interleaved with everyone else's requests instead of delaying them all.
   */
  async route(events: readonly RoutedEvent[]): Promise<Routing> {
    const destinations: Routing['destinations'] = [];
    const pairs: Routing['pairs'] = [];
    const orgs = new Set(events.map((e) => e.orgId));
    const slice = new LoopSlice();
    for (const org of orgs) {
      const filtered = this.known.get(org) ?? [];
      for (const d of filtered) {
        destinations.push({ id: d.id, version: d.version });
        const matches = this.compiled.get(d.id, d.version, d.filter, org);
        // A compile (on a change, or past the cache's bounds) is worth a look at the clock at once.
        if (slice.spent(CHECKS_PER_CLOCK_READ)) await slice.giveTurn();
        for (const e of events) {
          if (e.orgId !== org) continue;
          if (matches(e.payload as Record<string, unknown>)) pairs.push({ eventId: e.id, destinationId: d.id });
          if (slice.spent()) await slice.giveTurn();
        }
      }
    }
    return { destinations, pairs };
  }
}
