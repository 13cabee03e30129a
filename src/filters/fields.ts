/**
 * What a destination filter may say, stated once for the API's checks (filters/validate.ts) and the
 * dashboard's builder. Browser-safe: no Node imports.
 */
import {
  ACTION_PREFLIGHT,
  ACTION_TEST,
  DATASET_PREFLIGHT,
  DATASET_TEST,
  DECISIONS,
  DESTINATIONS,
  INPUT_TYPES,
  SOURCE_TYPES,
  type EventOutcome,
} from '../events/enums.js';
import { FINDING_TYPES } from '../events/findings.js';
import { instantText, parseDateTime } from '../events/dateTime.js';
import { DATASET_TRAIL, TRAIL_ACTIONS, TRAIL_EVENT_TYPES } from '../trail/actions.js';

/** The MongoDB-style operators a filter may use; anything else (including $where, $regex, $expr) is refused. */
export const FIELD_OPERATORS = ['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists', '$not'] as const;
export const LOGICAL_OPERATORS = ['$and', '$or'] as const;
export const FILTER_OPERATORS = [...LOGICAL_OPERATORS, ...FIELD_OPERATORS] as const;

/**
 * Bounds, so a filter costs little to check, store and evaluate on every recorded event. An ordinary
 * filter ("BLOCKED with an SSN") is a few dozen bytes, two levels deep.
 */
export const FILTER_LIMITS = {
  /** Bytes of the filter as compact JSON. */
  maxBytes: 4096,
  /** Nesting of objects and arrays, the filter itself being level 1. */
  maxDepth: 8,
  /** Values in one $in / $nin list, and conditions in one $and / $or. */
  maxItems: 100,
  /** Characters of one string value. */
  maxStringLength: 256,
} as const;

/** The wire event's paths (events/contract.ts), dotted. */
export const FILTER_FIELDS = [
  '@timestamp',
  'event',
  'event.id',
  'event.kind',
  'event.category',
  'event.type',
  'event.action',
  'event.outcome',
  'event.dataset',
  'aegis',
  'aegis.preflight_id',
  'aegis.decision',
  'aegis.destination',
  'aegis.summary',
  'aegis.policy_version',
  'aegis.policy_id',
  'aegis.source_type',
  'aegis.input_type',
  'aegis.input_size_bytes',
  'aegis.finding_counts_by_type',
  'aegis.actor_id',
  'organization',
  'organization.id',
] as const;

/** `aegis.finding_counts_by_type.<TYPE>`: the type names the published schema allows (FindingCounts). */
export const FINDING_COUNT_PREFIX = 'aegis.finding_counts_by_type.';
const FINDING_TYPE_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;

const fieldSet: ReadonlySet<string> = new Set(FILTER_FIELDS);

export function isFilterField(path: string): boolean {
  if (fieldSet.has(path)) return true;
  return path.startsWith(FINDING_COUNT_PREFIX) && FINDING_TYPE_NAME.test(path.slice(FINDING_COUNT_PREFIX.length));
}

const OUTCOMES = ['success', 'failure'] as const satisfies readonly EventOutcome[];

/**
 * What a field holds in the recorded events, so a filter value it can never hold is refused at save
 * time rather than silently matching nothing (or everything, under $ne / $nin):
 * - `enum`: exactly one of `values` (for event.category / event.type, an array of them);
 * - `string`, `number`: free values of that JSON type;
 * - `date-time`: the stored form of formatTimestamp (events/contract.ts), which a filter's values
 *   are compared in (normalizeFilterTime);
 * - `object`: only $exists applies.
 * `always`: every recorded event has it (preflight, test and trail events alike), so null never
 * equals it; a field only some events have (trail events carry no aegis.decision) may be null,
 * MongoDB's "absent".
 */
export type FieldSpec = { type: 'enum'; values: readonly string[]; always: boolean } | { type: 'string' | 'number' | 'date-time' | 'object'; always: boolean };

const oneOf = (values: readonly string[], always: boolean): FieldSpec => ({ type: 'enum', values, always });

const FIELD_SPECS: Readonly<Record<(typeof FILTER_FIELDS)[number], FieldSpec>> = {
  '@timestamp': { type: 'date-time', always: true },
  event: { type: 'object', always: true },
  'event.id': { type: 'string', always: true },
  'event.kind': oneOf(['event'], true),
  'event.category': oneOf(['aegis', 'preflight', 'configuration'], true),
  'event.type': oneOf([...DECISIONS.map((d) => d.toLowerCase()), ...TRAIL_EVENT_TYPES], true),
  'event.action': oneOf([ACTION_PREFLIGHT, ACTION_TEST, ...TRAIL_ACTIONS], true),
  'event.outcome': oneOf(OUTCOMES, true),
  'event.dataset': oneOf([DATASET_PREFLIGHT, DATASET_TEST, DATASET_TRAIL], true),
  aegis: { type: 'object', always: true },
  'aegis.preflight_id': { type: 'string', always: false },
  'aegis.decision': oneOf(DECISIONS, false),
  'aegis.destination': oneOf(DESTINATIONS, false),
  'aegis.summary': { type: 'string', always: true },
  'aegis.policy_version': { type: 'string', always: false },
  'aegis.policy_id': { type: 'string', always: false },
  'aegis.source_type': oneOf(SOURCE_TYPES, false),
  'aegis.input_type': oneOf(INPUT_TYPES, false),
  'aegis.input_size_bytes': { type: 'number', always: false },
  'aegis.finding_counts_by_type': { type: 'object', always: false },
  'aegis.actor_id': { type: 'string', always: false },
  organization: { type: 'object', always: true },
  'organization.id': { type: 'string', always: true },
};
const FINDING_COUNT_SPEC: FieldSpec = { type: 'number', always: false };

/** What `path` holds, or null when it is not a filter field. */
export function fieldSpec(path: string): FieldSpec | null {
  if (Object.prototype.hasOwnProperty.call(FIELD_SPECS, path)) return FIELD_SPECS[path as keyof typeof FIELD_SPECS];
  return isFilterField(path) ? FINDING_COUNT_SPEC : null;
}

/** The form a refusal shows for a date-time (and the example the docs give). */
export const DATE_TIME_EXAMPLE = '2026-12-03T11:00:00Z';

/** A date alone, or a date and time without an offset: what filters were written with before times were checked. */
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `text` is a date alone (`2026-12-01`): a day, which a bound takes as its 00:00 UTC. */
export const isDateAlone = (text: string): boolean => DATE_ONLY.test(text);
const NO_OFFSET = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?$/;

/**
 * A date-time as the recorded events' @timestamp writes the same instant (storedTimestampText: UTC,
 * six fractional digits, "+00:00"), so that text comparison, which is what sift does with a filter's
 * strings, is time comparison. Read by the API's one parser (parseDateTime: RFC 3339, 1970 to 9999, a
 * leap second as .999 of the second before), keeping microseconds; null when it refuses the text.
 * A date alone is that day's 00:00 UTC and a time without an offset is UTC: the stored times are UTC,
 * and compared as text before, `{"$gte": "2026-12-01"}` meant exactly that, so filters saved with
 * these forms keep their meaning.
 */
export function normalizeFilterTime(text: string): string | null {
  const utc = DATE_ONLY.test(text) ? `${text}T00:00:00Z` : NO_OFFSET.test(text) ? `${text}Z` : text;
  const parsed = parseDateTime(utc);
  if (!parsed.ok) return null;
  return instantText(parsed);
}

/** The values the dashboard's builder offers. */
export const BUILDER_CHOICES = {
  decisions: DECISIONS,
  sourceTypes: SOURCE_TYPES,
  findingTypes: FINDING_TYPES,
  destinations: DESTINATIONS,
  inputTypes: INPUT_TYPES,
} as const;
