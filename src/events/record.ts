import type { Db } from '../db/types.js';
import { AppError, validationFailed } from '../errors.js';
import { agentEvents } from './agentEvents.js';
import { recordedAegisFields, recordEvents } from '../queue/enqueue.js';
import type { FilterRouter } from '../filters/router.js';
import { buildWireEvent, newPreflightId, type AegisFields } from './contract.js';
import { countByType } from './findings.js';
import { seededRandom } from '../ids.js';
import { isDeepStrictEqual } from 'node:util';
import { scanThread } from './scanThread.js';
import { evaluatePolicy } from './policy.js';
import { validatePreflightOptions } from './validate.js';
import { guardActorId } from './privacyGuard.js';

export const MAX_INPUT_BYTES = 1024 * 1024;
export const MAX_BATCH = 1000;

export interface PreflightRequest {
  input: string;
  destination?: string;
  source_type?: string;
  input_type?: string;
  actor_id?: string;
}

/**
 * The preflight producer: scans the text, applies the policy, records the metadata-only event (and
 * queues it) in one statement, and returns the caller's own masked text. The raw input lives only
 * in this function's memory: it is never stored, logged or forwarded.
 */
/**
 * The preflight id a request's Idempotency-Key stands for, in its organization: the same key, the
 * same id, so a retried preflight records nothing twice (the recording is idempotent on the id, as
 * agents' batches are). Server-made ids' shape ("pflt_" + 28 lower-case letters); the key itself is
 * neither stored nor logged, only this digest of it.
 */
export function keyedPreflightId(orgId: string, idempotencyKey: string): string {
  return newPreflightId(seededRandom(`aegis preflight idempotency key\u0000${orgId}\u0000${idempotencyKey}`));
}

/**
 * `idempotencyKey`: the request's Idempotency-Key header. A retry under the same key (its answer lost
 * to a timeout) gets the first try's preflight id and records nothing new; the same key with another
 * input or other settings is refused 409, nothing recorded (an API client's review: every retry of a
 * preflight recorded a second audit event under a new id, which no SIEM could deduplicate).
 */
export async function runPreflight(db: Db, orgId: string, req: PreflightRequest, router?: FilterRouter, idempotencyKey?: string) {
  const size = Buffer.byteLength(req.input, 'utf8');
  if (size > MAX_INPUT_BYTES) {
    throw new AppError('payload_too_large', `input: is ${size} bytes; the limit is ${MAX_INPUT_BYTES} bytes (1 MiB). Split the text and check each part.`);
  }
  const violations = validatePreflightOptions(req);
  if (typeof req.actor_id === 'string' && !violations.some((v) => v.path === '/actor_id')) {
    violations.push(...guardActorId(req.actor_id).map((g) => ({ path: '/actor_id', message: g.message })));
  }
  if (violations.length > 0) throw validationFailed(violations);
  // A long input is scanned on the scan thread, organizations in turn (scanThread.ts).
  const { findings, masked } = await scanThread.scan(orgId, req.input);
  const counts = countByType(findings) as Record<string, number>;
  const policy = evaluatePolicy(counts);
  const fields: AegisFields = {
    preflight_id: idempotencyKey === undefined ? newPreflightId() : keyedPreflightId(orgId, idempotencyKey),
    decision: policy.decision,
    destination: (req.destination ?? 'AI_TOOL') as AegisFields['destination'],
    summary: policy.summary,
    policy_version: policy.policy_version,
    policy_id: policy.policy_id,
    source_type: (req.source_type ?? 'api') as AegisFields['source_type'],
    input_type: (req.input_type ?? 'text') as AegisFields['input_type'],
    input_size_bytes: size,
    finding_counts_by_type: counts,
    ...(req.actor_id !== undefined ? { actor_id: req.actor_id } : {}),
  };
  const occurredAt = new Date();
  const event = buildWireEvent({ orgId, fields, occurredAt });
  const { inserted } = await recordEvents(db, [{ orgId, id: fields.preflight_id, occurredAt, payload: event }], router);
  if (idempotencyKey !== undefined && inserted.length === 0) {
    // Every field the first try recorded must be this one's (the id they share; the time is not a field).
    const first = await recordedAegisFields(db, orgId, fields.preflight_id);
    const same = first !== null && isDeepStrictEqual(first, JSON.parse(JSON.stringify(fields)));
    if (!same)
      throw new AppError(
        'conflict',
        'Idempotency-Key: this key was used for a preflight of another input or other settings; nothing was recorded. Use a new key for a new check.',
      );
  }
  return {
    preflight_id: fields.preflight_id,
    decision: policy.decision,
    masked_input: masked,
    summary: policy.summary,
    finding_counts_by_type: counts,
    policy_id: policy.policy_id,
    policy_version: policy.policy_version,
  };
}

/**
 * Records agents' on-device decisions: every record is validated against the published schema and
 * the privacy guard first; one bad record refuses the whole batch, naming the record and the field.
 */
export async function recordAgentDecisions(db: Db, orgId: string, records: unknown[], bodyBytes: number | null, router?: FilterRouter) {
  // A large batch is checked on the scan thread, organizations in turn (scanThread.ts).
  const events = await scanThread.agentEvents(orgId, records, bodyBytes);
  const { inserted } = await recordEvents(db, events, router);
  return { accepted: events.length, preflight_ids: events.map((e) => e.id), newlyRecorded: inserted.length };
}

// Where bench/ingestCost.ts looks for it in any revision.
export { agentEvents };
