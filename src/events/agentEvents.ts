// A batch of agent records checked and turned into wire events: pure (no database), so that it runs
// where the API's event loop is, or on the scan thread for a large batch (scanThread.ts).
import { validationFailed } from '../errors.js';
import { buildWireEvent, fieldsFromAgentRecord, parseDateTime, type AgentDecisionRecord } from './contract.js';
import { validateAgentRecord } from './validate.js';
import type { GuardMemo } from './privacyGuard.js';
import { MAX_REPORTED_VIOLATIONS, type Violation } from './violation.js';

/**
 * The events a batch of agent records becomes, or a validation_failed error listing every problem:
 * all of recording a batch but the statement (bench/ingestCost.ts times it).
 */
export function agentEvents(orgId: string, records: unknown[]) {
  // Every record is checked (up to one more problem than a refusal lists, so it can say there are
  // more) and the batch is refused with all of them: a client fixes the batch in one round trip.
  const violations: Violation[] = [];
  const full = () => violations.length > MAX_REPORTED_VIOLATIONS;
  const valid: { i: number; rec: AgentDecisionRecord }[] = [];
  // The guard's answers for values repeated across the batch's records; dropped with the batch.
  const memo: GuardMemo = new Map();
  for (const [i, record] of records.entries()) {
    if (full()) break;
    // validateAgentRecord checks the published schema and runs the privacy guard.
    const found = validateAgentRecord(record, `/events/${i}`, memo);
    const rec = record as AgentDecisionRecord;
    if (found.length === 0 && rec.occurred_at !== undefined) {
      // The schema's "date-time" format is looser than what the API takes (parseDateTime).
      const occurredAt = parseDateTime(rec.occurred_at);
      if (!occurredAt.ok) found.push({ path: `/events/${i}/occurred_at`, message: occurredAt.problem });
    }
    violations.push(...found);
    if (found.length === 0) valid.push({ i, rec });
  }
  const seen = new Set<string>();
  for (const { i, rec } of valid) {
    if (rec.preflight_id === undefined) continue;
    if (seen.has(rec.preflight_id)) violations.push({ path: `/events/${i}/preflight_id`, message: 'appears twice in this batch' });
    seen.add(rec.preflight_id);
  }
  if (violations.length > 0) {
    violations.sort((a, b) => recordIndex(a) - recordIndex(b));
    throw validationFailed(violations);
  }
  const now = new Date();
  return valid.map(({ rec }) => {
    // A record without a preflight_id gets a new one (the schema allows no empty one).
    const { fields, occurredAt } = fieldsFromAgentRecord(rec, now);
    return { orgId, id: fields.preflight_id, occurredAt, payload: buildWireEvent({ orgId, fields, occurredAt }) };
  });
}

/** The record a violation's path names ("/events/3/..." -> 3), for listing problems in batch order. */
function recordIndex(v: Violation): number {
  return Number(/^\/events\/(\d+)/.exec(v.path)?.[1] ?? 0);
}
