// The destination filter as the Add/Edit form holds it (FilterEditor), and the preview's sentence.
// Pure: no React, so it is tested without a browser.
import { builderToFilter, filterToBuilder, EMPTY_BUILDER, type BuilderState } from '../../src/filters/builder.js';

type Filter = Record<string, unknown>;

/** The JSON view's text of a filter ('' for none). */
export const pretty = (f: Filter | null) => (f === null ? '' : JSON.stringify(f, null, 2));

/** What the form holds: the builder's ticks, or (Advanced) the JSON text as typed. */
export interface FilterDraft {
  advanced: boolean;
  builder: BuilderState;
  json: string;
}

export function draftFrom(filter: Filter | null): FilterDraft {
  const builder = filterToBuilder(filter);
  // A filter the builder cannot show exactly opens as JSON, so saving never rewrites it.
  return builder ? { advanced: false, builder, json: pretty(filter) } : { advanced: true, builder: { ...EMPTY_BUILDER }, json: pretty(filter) };
}

/** The filter to send, or why there is none yet. Empty JSON text means every event. */
export function draftFilter(d: FilterDraft): { ok: true; filter: Filter | null } | { ok: false; error: string } {
  if (!d.advanced) return { ok: true, filter: builderToFilter(d.builder) };
  if (d.json.trim() === '') return { ok: true, filter: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(d.json);
  } catch {
    return { ok: false, error: 'The filter is not valid JSON.' };
  }
  if (parsed === null) return { ok: true, filter: null };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, error: 'The filter must be a JSON object, e.g. {"aegis.decision": "BLOCKED"}.' };
  return { ok: true, filter: parsed as Filter };
}

/** The line under the filter: "Matches 3 of the last 1,000 events." */
export function previewText(matched: number, of: number): string {
  if (of === 0) return 'No events recorded yet to preview this filter against.';
  const n = (x: number) => x.toLocaleString('en-US');
  return `Matches ${n(matched)} of the last ${n(of)} event${of === 1 ? '' : 's'}.`;
}
