/**
 * The dashboard's filter builder (decisions, source types, finding types) as plain data, and the
 * filter it stands for. Browser-safe and pure: the builder writes an ordinary filter, and an existing
 * filter opens in the builder only when the builder would write exactly that filter (anything else
 * opens in the JSON view, so editing never silently changes a filter).
 */
import { BUILDER_CHOICES, FINDING_COUNT_PREFIX } from './fields.js';

export interface BuilderState {
  /** aegis.decision is one of these; empty: any decision. */
  decisions: string[];
  /** aegis.source_type is one of these; empty: any source. */
  sourceTypes: string[];
  /** At least one finding of one of these types; empty: findings do not matter. */
  findingTypes: string[];
}

export const EMPTY_BUILDER: BuilderState = { decisions: [], sourceTypes: [], findingTypes: [] };

type Filter = Record<string, unknown>;

const atLeastOne = (type: string): Filter => ({ [`${FINDING_COUNT_PREFIX}${type}`]: { $gte: 1 } });

/** The filter the builder stands for; null (every event) when nothing is ticked. */
export function builderToFilter(b: BuilderState): Filter | null {
  const f: Filter = {};
  // Keep the choices' own order, so the same ticks always write the same filter.
  const ordered = (picked: string[], all: readonly string[]) => all.filter((x) => picked.includes(x));
  const decisions = ordered(b.decisions, BUILDER_CHOICES.decisions);
  const sources = ordered(b.sourceTypes, BUILDER_CHOICES.sourceTypes);
  const findings = ordered(b.findingTypes, BUILDER_CHOICES.findingTypes);
  if (decisions.length > 0) f['aegis.decision'] = { $in: decisions };
  if (sources.length > 0) f['aegis.source_type'] = { $in: sources };
  if (findings.length === 1) Object.assign(f, atLeastOne(findings[0]!));
  else if (findings.length > 1) f.$or = findings.map(atLeastOne);
  return Object.keys(f).length === 0 ? null : f;
}

function inList(cond: unknown, all: readonly string[]): string[] | null {
  if (typeof cond !== 'object' || cond === null || Array.isArray(cond)) return null;
  const keys = Object.keys(cond);
  const list = (cond as { $in?: unknown }).$in;
  if (keys.length !== 1 || !Array.isArray(list) || list.length === 0) return null;
  return list.every((v) => typeof v === 'string' && all.includes(v)) ? (list as string[]) : null;
}

function findingType(cond: unknown): string | null {
  if (typeof cond !== 'object' || cond === null || Array.isArray(cond)) return null;
  const entries: [string, unknown][] = Object.entries(cond as Record<string, unknown>);
  if (entries.length !== 1) return null;
  const [path, test] = entries[0]!;
  if (!path.startsWith(FINDING_COUNT_PREFIX)) return null;
  const type = path.slice(FINDING_COUNT_PREFIX.length);
  if (!BUILDER_CHOICES.findingTypes.includes(type as never)) return null;
  return JSON.stringify(test) === '{"$gte":1}' ? type : null;
}

/** The builder state that writes exactly `filter`, or null when the builder cannot show it. */
export function filterToBuilder(filter: Filter | null): BuilderState | null {
  if (filter === null) return { ...EMPTY_BUILDER };
  const state: BuilderState = { decisions: [], sourceTypes: [], findingTypes: [] };
  for (const [key, cond] of Object.entries(filter)) {
    if (key === 'aegis.decision') {
      const l = inList(cond, BUILDER_CHOICES.decisions);
      if (!l) return null;
      state.decisions = l;
    } else if (key === 'aegis.source_type') {
      const l = inList(cond, BUILDER_CHOICES.sourceTypes);
      if (!l) return null;
      state.sourceTypes = l;
    } else if (key === '$or') {
      if (!Array.isArray(cond) || cond.length < 2) return null;
      const types = cond.map(findingType);
      if (types.some((t) => t === null)) return null;
      state.findingTypes = types as string[];
    } else {
      const t = findingType({ [key]: cond });
      if (!t || state.findingTypes.length > 0) return null;
      state.findingTypes = [t];
    }
  }
  const again = builderToFilter(state);
  // Whatever the order of its keys: a filter read back from the database (jsonb) has them in its own
  // order, and the builder's own filter opened as JSON after saving (a filters review).
  return sameJson(again, filter) ? state : null;
}

/** Whether two JSON values are equal, object keys in any order (arrays in order). */
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}
