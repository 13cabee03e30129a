/**
 * The wire event: the ECS-shaped JSON object of the product page, field for field, names and nesting
 * unchanged. Built here and nowhere else, so every SIEM preset sends the same object. Metadata only:
 * nothing in it comes from the scanned text except counts and sizes.
 */
import {
  ACTION_PREFLIGHT,
  ACTION_TEST,
  DATASET_PREFLIGHT,
  DATASET_TEST,
  OUTCOME_BY_DECISION,
  type Decision,
  type Destination,
  type EventOutcome,
  type InputType,
  type SourceType,
} from './enums.js';
import { DEFAULT_POLICY } from './policy.js';
import { invalid } from '../errors.js';
import { newEventId, type RandomSource } from '../ids.js';
import { instantText, isAfterInstant, parseDateTime, storedTimestampText, timestampBound } from './dateTime.js';

export { DATE_TIME_OUT_OF_RANGE, DATE_TIME_RANGE, NOT_A_DATE_TIME, parseDateTime, type ParsedDateTime } from './dateTime.js';

export type { Decision, Destination, InputType, SourceType, EventOutcome } from './enums.js';

/** The `aegis` object of the wire event, in the page's key order. */
export interface AegisFields {
  preflight_id: string;
  decision: Decision;
  destination: Destination;
  summary: string;
  policy_version: string;
  policy_id: string;
  source_type: SourceType;
  input_type: InputType;
  input_size_bytes: number;
  /** Finding type -> count. Types with no finding are absent. */
  finding_counts_by_type: Record<string, number>;
  /** The acting user (typically their own email address). Absent when unknown. */
  actor_id?: string;
}

export interface WireEvent {
  '@timestamp': string;
  event: {
    id: string;
    kind: 'event';
    category: ['aegis', 'preflight'];
    type: [Lowercase<Decision>];
    action: typeof ACTION_PREFLIGHT | typeof ACTION_TEST;
    outcome: EventOutcome;
    dataset: typeof DATASET_PREFLIGHT | typeof DATASET_TEST;
  };
  aegis: AegisFields;
  organization: { id: string };
}

/**
 * A new preflight id: "pflt_" + 28 lower-case letters. Agents send it back in their decision records,
 * which the privacy guard reads, so it holds nothing a detector could read a value in (src/ids.ts).
 */
export function newPreflightId(random?: RandomSource): string {
  return newEventId('pflt_', random);
}

/**
 * ISO 8601 with microseconds and an explicit +00:00 offset, as on the product page
 * ("2026-05-15T10:33:21.456789+00:00"). JavaScript dates carry milliseconds, so the last three digits
 * are zeros.
 */
export function formatTimestamp(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError('formatTimestamp: invalid date');
  // The records of a batch without occurred_at share the batch's time: formatted once.
  if (ms === lastFormatted.ms) return lastFormatted.text;
  lastFormatted = { ms, text: storedTimestampText(date) };
  return lastFormatted.text;
}
let lastFormatted = { ms: Number.NaN, text: '' };

function lowerDecision(d: Decision): Lowercase<Decision> {
  return d.toLowerCase() as Lowercase<Decision>;
}

/**
 * Copies the fields in the page's key order, dropping an absent actor_id and unknown keys (an agent
 * record's occurred_at among them), with `preflightId` as the preflight_id.
 */
function orderedFields(f: Omit<AegisFields, 'preflight_id'>, preflightId: string): AegisFields {
  const out: AegisFields = {
    preflight_id: preflightId,
    decision: f.decision,
    destination: f.destination,
    summary: f.summary,
    policy_version: f.policy_version,
    policy_id: f.policy_id,
    source_type: f.source_type,
    input_type: f.input_type,
    input_size_bytes: f.input_size_bytes,
    finding_counts_by_type: { ...f.finding_counts_by_type },
  };
  if (f.actor_id !== undefined) out.actor_id = f.actor_id;
  return out;
}

export function buildWireEvent(args: { orgId: string; fields: AegisFields; occurredAt: Date }): WireEvent {
  const { orgId, fields, occurredAt } = args;
  return {
    '@timestamp': formatTimestamp(occurredAt),
    event: {
      id: fields.preflight_id,
      kind: 'event',
      category: ['aegis', 'preflight'],
      type: [lowerDecision(fields.decision)],
      action: ACTION_PREFLIGHT,
      outcome: OUTCOME_BY_DECISION[fields.decision],
      dataset: DATASET_PREFLIGHT,
    },
    aegis: orderedFields(fields, fields.preflight_id),
    organization: { id: orgId },
  };
}

/** The summary of the synthetic test event: plainly a test, naming the destination it was sent to. */
export function testEventSummary(destinationId: string): string {
  return `Test event from Aegis Audit Stream: destination ${destinationId} is wired correctly. Safe to ignore.`;
}

/**
 * The synthetic event POSTed by "Save & test" and the test endpoint. Same shape as a real event (so
 * it exercises the same SIEM parsing), but event.dataset "aegis.audit_stream.test", event.action
 * "audit_stream_test", an id "pflt_test_...", and a summary that says it is a test.
 */
export function buildTestEvent(args: { orgId: string; destinationId: string; now: Date }): WireEvent {
  const id = newEventId('pflt_test_');
  const event = buildWireEvent({
    orgId: args.orgId,
    occurredAt: args.now,
    fields: {
      preflight_id: id,
      decision: 'ALLOWED',
      destination: 'OTHER',
      summary: testEventSummary(args.destinationId),
      policy_version: DEFAULT_POLICY.version,
      policy_id: DEFAULT_POLICY.id,
      source_type: 'api',
      input_type: 'text',
      input_size_bytes: 0,
      finding_counts_by_type: {},
    },
  });
  event.event.action = ACTION_TEST;
  event.event.dataset = DATASET_TEST;
  return event;
}

/** A decision record an agent made on-device (validated against AgentDecisionRecord first). */
export interface AgentDecisionRecord {
  preflight_id?: string;
  decision: Decision;
  destination: Destination;
  summary: string;
  policy_version: string;
  policy_id: string;
  source_type: SourceType;
  input_type: InputType;
  input_size_bytes: number;
  finding_counts_by_type: Record<string, number>;
  actor_id?: string;
  occurred_at?: string;
}

/** A date-time request field, or a 400 naming the field (parseDateTime says what is wrong). */
function parsedField(field: string, value: string): { date: Date; micros: number } {
  const parsed = parseDateTime(value);
  if (!parsed.ok) throw invalid(field, parsed.problem);
  return parsed;
}

/** A date-time request field bounding @timestamp (timestampBound), or a 400 naming the field. */
export function dateTimeField(field: string, value: string): Date {
  return timestampBound(parsedField(field, value));
}

/**
 * A list's `since` and `until` query parameters (the event pull, a destination's delivery log), each
 * optional; `until` before `since` is a mistake named as one, never an empty page.
 */
export function sinceUntil(q: { since?: string; until?: string }): { since: Date | null; until: Date | null } {
  const { since, until } = orderedBounds(q);
  return { since: since && timestampBound(since), until: until && timestampBound(until) };
}

/**
 * `since` and `until` as exact instants (instantText), for a column that holds microseconds: the
 * delivery log's attempted_at is the database's now(). Rounded as @timestamp bounds are, a since of
 * .123001 left out an attempt at .1235.
 */
export function sinceUntilExact(q: { since?: string; until?: string }): { since: string | null; until: string | null } {
  const { since, until } = orderedBounds(q);
  return { since: since && instantText(since), until: until && instantText(until) };
}

function orderedBounds(q: { since?: string; until?: string }): { since: { date: Date; micros: number } | null; until: { date: Date; micros: number } | null } {
  const since = q.since === undefined ? null : parsedField('since', q.since);
  const until = q.until === undefined ? null : parsedField('until', q.until);
  // Ordered as given, to the microsecond: two bounds within one millisecond round to the same one.
  if (since && until && isAfterInstant(since, until)) throw invalid('until', 'is before since');
  return { since, until };
}

/**
 * Turns a validated agent record into wire-event inputs: the agent's preflight_id when given (it is
 * the idempotency key for retried batches), else a new one; occurred_at when given, else `now`.
 */
export function fieldsFromAgentRecord(record: AgentDecisionRecord, now: Date): { fields: AegisFields; occurredAt: Date } {
  // Copied straight from the record: a rest pattern and a spread cost a copy each, per record.
  const fields = orderedFields(record, record.preflight_id ?? newPreflightId());
  if (record.occurred_at === undefined) return { fields, occurredAt: now };
  const occurredAt = parseDateTime(record.occurred_at);
  if (!occurredAt.ok) throw new RangeError(`occurred_at: ${occurredAt.problem}`);
  return { fields, occurredAt: occurredAt.date };
}
