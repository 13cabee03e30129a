/**
 * What a destination filter may say, stated once for the API's checks (filters/validate.ts) and the
 * dashboard's builder. Browser-safe: no Node imports.
 */
import { DECISIONS, DESTINATIONS, INPUT_TYPES, SOURCE_TYPES } from '../events/enums.js';
import { FINDING_TYPES } from '../events/findings.js';

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

/** The values the dashboard's builder offers. */
export const BUILDER_CHOICES = {
  decisions: DECISIONS,
  sourceTypes: SOURCE_TYPES,
  findingTypes: FINDING_TYPES,
  destinations: DESTINATIONS,
  inputTypes: INPUT_TYPES,
} as const;
