/**
 * A destination filter turned into a predicate over the wire event, by sift (a small, dependency-free
 * and long-maintained implementation of MongoDB's query language: no hand-written interpreter here).
 * sift is given only the operators of the documented subset, so even a filter that somehow skipped
 * filters/validate.ts could not run $where (sift evaluates it as code) or any other operator: sift
 * throws on an operator it was not given.
 */
import siftModule from 'sift';
import type * as Sift from 'sift';
import type { WireEvent } from '../events/contract.js';
import { fieldSpec, normalizeFilterTime } from './fields.js';

// sift is CommonJS whose named exports Node cannot see from ESM: they hang off the default export.
const sift = siftModule as unknown as typeof Sift;

const OPERATIONS = {
  $eq: sift.$eq,
  $ne: sift.$ne,
  $in: sift.$in,
  $nin: sift.$nin,
  $gt: sift.$gt,
  $gte: sift.$gte,
  $lt: sift.$lt,
  $lte: sift.$lte,
  $exists: sift.$exists,
  $and: sift.$and,
  $or: sift.$or,
  $not: sift.$not,
};

export type FilterPredicate = (event: WireEvent | Record<string, unknown>) => boolean;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every string under a date-time field's condition in the events' stored form; any other value as it is. */
function timesInStoredForm(v: unknown): unknown {
  if (typeof v === 'string') return normalizeFilterTime(v) ?? v;
  if (Array.isArray(v)) return v.map(timesInStoredForm);
  // fromEntries, not assignment: a "__proto__" key stays a key.
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, timesInStoredForm(x)]));
  return v;
}

/**
 * The filter sift is given: the stored filter (kept as the user wrote it) with every @timestamp value
 * written as the events write theirs (fields.ts, normalizeFilterTime), because sift compares strings
 * as text, and "2026-12-03T10:00:00-05:00" is text-after but time-before "2026-12-03T16:00:00.000000+00:00".
 * A value that is no date-time (only a filter saved before they were checked can hold one) stays as
 * it was, compared as text as it always was.
 */
function inEventForm(q: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(q).map(([k, v]) => {
      if ((k === '$and' || k === '$or') && Array.isArray(v)) return [k, (v as unknown[]).map((sub) => (isPlainObject(sub) ? inEventForm(sub) : sub))];
      return [k, fieldSpec(k)?.type === 'date-time' ? timesInStoredForm(v) : v];
    }),
  );
}

/** The predicate of a filter already checked by checkFilter; null (no filter) matches every event. */
export function compileFilter(filter: Record<string, unknown> | null): FilterPredicate {
  if (filter === null) return () => true;
  const test = sift.createQueryTester(inEventForm(filter), { operations: OPERATIONS });
  return (event) => test(event);
}

/**
 * Characters of filter JSON the compiled filters of a FilterCache stand for, in all. A compiled filter
 * takes twenty to sixty times its JSON in memory (a filter at its 4 KiB limit, up to 215 KB), so a
 * count alone let 10,000 of them fill the API's heap (a filters review: creating and deleting
 * destinations with such filters ended the process, every tenant with it, after about 750). 1 Mi
 * characters stand for 20 to 60 MB: ten organizations with 25 filters at their limits, or thousands
 * of ordinary filters (a few hundred characters).
 */
export const FILTER_CACHE_CHARS = 1024 * 1024;

/**
 * Of FILTER_CACHE_CHARS, what one organization's filters may hold before its own least recently used
 * go (never another's): a second look found five organizations with large filters enough to make
 * every routing round recompile every filter, about 9 ms of the event loop per request.
 */
export const FILTER_CHARS_PER_ORG = FILTER_CACHE_CHARS / 4;

/**
 * Compiled filters by destination id and the row's updated_at (which every PATCH moves), so the
 * ingest path compiles a destination's filter once, not once per event or request. Bounded in count
 * and in FILTER_CACHE_CHARS: the oldest entries go first. A destination that is gone or no longer
 * filtered is forgotten (forget) as soon as its organization's filters are read again.
 */
export class FilterCache {
  /** Least recently used first (a hit moves its entry to the end). */
  private readonly entries = new Map<string, { version: string; predicate: FilterPredicate; chars: number; orgId: string }>();
  private chars = 0;
  private readonly orgChars = new Map<string, number>();
  constructor(
    private readonly max = 10_000,
    private readonly maxChars = FILTER_CACHE_CHARS,
    private readonly maxOrgChars = maxChars === FILTER_CACHE_CHARS ? FILTER_CHARS_PER_ORG : maxChars / 4,
  ) {}

  /** The compiled filter of destination `destinationId` (of `orgId`) at `version`, compiled on first use. */
  get(destinationId: string, version: string, filter: Record<string, unknown>, orgId = ''): FilterPredicate {
    const hit = this.entries.get(destinationId);
    if (hit && hit.version === version) {
      this.entries.delete(destinationId);
      this.entries.set(destinationId, hit);
      return hit.predicate;
    }
    const predicate = compileFilter(filter);
    const chars = JSON.stringify(filter).length;
    this.forget(destinationId);
    // Larger than an organization's share: used, never held.
    if (chars > this.maxOrgChars) return predicate;
    // Its own organization's oldest first, then anyone's.
    while ((this.orgChars.get(orgId) ?? 0) + chars > this.maxOrgChars && this.forgetOldestOf(orgId));
    while (this.entries.size > 0 && (this.entries.size >= this.max || this.chars + chars > this.maxChars)) this.forget(this.entries.keys().next().value!);
    this.entries.set(destinationId, { version, predicate, chars, orgId });
    this.chars += chars;
    this.orgChars.set(orgId, (this.orgChars.get(orgId) ?? 0) + chars);
    return predicate;
  }

  /** Drops the least recently used compiled filter of `orgId`; false when it has none. */
  private forgetOldestOf(orgId: string): boolean {
    for (const [id, e] of this.entries) {
      if (e.orgId !== orgId) continue;
      this.forget(id);
      return true;
    }
    return false;
  }

  /** Drops a destination's compiled filter (it is gone, disabled, or has no filter any more). */
  forget(destinationId: string): void {
    const entry = this.entries.get(destinationId);
    if (!entry) return;
    this.entries.delete(destinationId);
    this.chars -= entry.chars;
    const left = (this.orgChars.get(entry.orgId) ?? 0) - entry.chars;
    if (left > 0) this.orgChars.set(entry.orgId, left);
    else this.orgChars.delete(entry.orgId);
  }

  /** Compiled filters held, and their characters of JSON (for tests: the bounds). */
  get size(): { entries: number; chars: number } {
    return { entries: this.entries.size, chars: this.chars };
  }
}
