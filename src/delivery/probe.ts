import { getDestination } from '../destinations/reads.js';
import { recordAttemptOutcome } from '../queue/deliveryState.js';
import { notFound } from '../errors.js';
import { buildTestEvent } from '../events/contract.js';
import { insertAttempts } from '../queue/attempts.js';
import type { DeliveryDeps, DeliveryTarget } from './deliverBatch.js';
import { DecryptError } from '../crypto/sealedBox.js';
import { CREDENTIAL_UNREADABLE_MESSAGE } from '../destinations/credentials.js';
import { sendRequest } from './deliverBatch.js';
import { decide, type RequestDecision } from './outcome.js';
import { toTarget } from './target.js';
import { RETRY_TAIL as RETRY_TAIL_PATTERN } from '../queue/holdLimit.js';

export interface ProbeResult {
  ok: boolean;
  status_code: number | null;
  error: string | null;
}

const RETRY_TAIL = new RegExp(RETRY_TAIL_PATTERN);

/**
 * A probe is a one-off: the "Aegis will retry" tail of queue errors is not true here, so it becomes
 * what the user can do instead, read from the decision the worker would have taken (outcome.ts):
 * given back to wait for the SIEM's pace, retried after a server error, or anything else.
 */
export function probeError(error: string, decision: RequestDecision): string {
  if (!RETRY_TAIL.test(error)) return error;
  const job = decision.kind === 'settle' ? decision.jobs[0] : undefined;
  // Given back: a request-level 429, or the event shed for load (an Elastic item 429).
  const paced = decision.kind === 'give_back' || job?.outcome === 'give_back';
  const serverError = job !== undefined && (job.outcome === 'retry' || job.outcome === 'failed') && job.statusCode !== null && job.statusCode >= 500;
  const action = paced
    ? '; wait a minute (the SIEM is rate limiting requests) and try the test again later.'
    : serverError
      ? "; check the SIEM's status page and try the test again later."
      : '; then try the test again.';
  return error.replace(RETRY_TAIL, action);
}

/**
 * The synchronous "test" call: POSTs one synthetic aegis.audit_stream.test event, in the preset's
 * envelope, straight to the SIEM (not through the queue) and reports what happened. Works on a
 * disabled destination: that is how the dashboard's save-and-test flow checks before enabling.
 */
export async function probeDestination(deps: DeliveryDeps, orgId: string, destinationId: string): Promise<ProbeResult> {
  const row = await getDestination(deps.db, orgId, destinationId);
  if (!row) throw notFound('destination');
  let target: DeliveryTarget;
  try {
    target = toTarget(deps.keyRing, row);
  } catch (err) {
    // A credential whose key left the ring is a configuration problem to report, not a 500.
    if (!(err instanceof DecryptError)) throw err;
    const error = CREDENTIAL_UNREADABLE_MESSAGE;
    await recordAttemptOutcome(deps.db, orgId, destinationId, { ok: false, delivered: false, error, deadLettered: false });
    return { ok: false, status_code: null, error };
  }
  const event = buildTestEvent({ orgId, destinationId, now: new Date() });
  const out = await sendRequest(deps, target, [event]);
  const item = out.items[0]!;
  const ok = item.ok;
  // Not awaiting a Splunk ack (ack: false): a probe's 2xx is its answer.
  const error = item.ok ? null : probeError(out.error ?? item.reason, decide(out, 1, false));
  await insertAttempts(deps.db, [
    {
      orgId,
      destinationId,
      // A probe is not an audit event: event_count 0 keeps it out of the delivered/failed chart.
      eventCount: 0,
      deliveredCount: 0,
      failedCount: 0,
      statusCode: out.statusCode,
      durationMs: out.durationMs,
      error: error ? `test: ${error}` : null,
      responseSnippet: out.responseSnippet,
    },
  ]);
  await recordAttemptOutcome(deps.db, orgId, destinationId, { ok, delivered: false, error, deadLettered: false, testDelivered: ok });
  return { ok, status_code: out.statusCode, error };
}
