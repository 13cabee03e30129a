// A SIEM's answer (or a network error) as one request's outcome: where every encoder verdict and
// every network failure maps into the one outcome model (outcome.ts), once. Pure: the answer is
// already scrubbed of credentials (deliverBatch.ts).
import type { SiemEncoder, SiemEvent } from '../siem/types.js';
import type { RequestOutcome } from './deliverBatch.js';
import { classifyResult, clip } from './failure.js';
import type { OutboundResult } from './outbound/types.js';
import type { DeliveryOutcome, Failure } from './outcome.js';
import { ACK_UNREADABLE_ERROR, readAckAnswer } from './splunkAck.js';

/**
 * How each event of a request fared. Every non-2xx answer and every network error is a retry (the
 * product page's rule); only a SIEM's per-item refusal inside an accepted request (Elastic mapping
 * error, Splunk invalid event) dead-letters an item at once, since sending the same bytes again
 * cannot succeed. `ack`: Splunk indexer acknowledgement is on (a 2xx carries an ackId).
 */
export function interpretAnswer(result: OutboundResult, encoder: SiemEncoder, events: SiemEvent[], ack: boolean): RequestOutcome {
  const all = (item: DeliveryOutcome): DeliveryOutcome[] => events.map(() => item);

  if (result.kind === 'network') {
    // Every network error is a retried attempt, a forbidden address too: the address guard refuses
    // at connect time, and a DNS answer can change.
    const c = classifyResult(result);
    return {
      items: all({ ok: false, stage: 'network', reason: c.error ?? 'network error', statusCode: null, permanent: false }),
      statusCode: null,
      error: c.error,
      durationMs: result.durationMs,
      responseSnippet: null,
    };
  }
  const verdict = encoder.interpret({ status: result.status, body: result.body, headers: result.headers }, events);
  const snippet = result.body ? result.body.slice(0, 512) : null;
  if (verdict.kind === 'per_item') {
    // A per-item refusal ('failed') is permanent: the same bytes sent again cannot succeed. An item the
    // SIEM shed for load ('throttled') is pacing, given back without an attempt (outcome.ts decide()).
    const items: DeliveryOutcome[] = verdict.items.map((it) =>
      it.outcome === 'done'
        ? { ok: true }
        : {
            ok: false,
            stage: 'item',
            reason: it.error ?? `HTTP ${result.status}: item refused`,
            statusCode: result.status,
            permanent: it.outcome === 'failed',
            ...(it.outcome === 'throttled' ? { throttled: true } : it.slowDown ? { slowDown: true } : {}),
          },
    );
    // The request's error: the first failure that counts, else the first item shed for load.
    const failures = items.filter((i): i is Failure => !i.ok);
    const firstError = failures.find((f) => !f.throttled) ?? failures[0];
    return {
      items,
      statusCode: result.status,
      error: firstError ? firstError.reason : null,
      durationMs: result.durationMs,
      responseSnippet: snippet,
    };
  }
  if (verdict.ok) {
    const answer = ack ? readAckAnswer(result.body) : null;
    if (answer?.kind === 'unreadable') {
      // Nothing confirms these events were indexed: a failed attempt, sent again (a copy, never a loss).
      const reason = clip(`HTTP ${result.status}: ${ACK_UNREADABLE_ERROR}`);
      return {
        items: all({ ok: false, stage: 'item', reason, statusCode: result.status, permanent: false }),
        statusCode: result.status,
        error: reason,
        durationMs: result.durationMs,
        responseSnippet: snippet,
      };
    }
    return {
      items: all({ ok: true }),
      statusCode: result.status,
      error: null,
      durationMs: result.durationMs,
      responseSnippet: snippet,
      ...(answer?.kind === 'ack_id' ? { ackId: answer.ackId } : {}),
    };
  }
  // The preset's specific sentence when the SIEM said something specific (Splunk code 3: missing
  // "Splunk " prefix); otherwise the generic, action-oriented one for the status class.
  const c = classifyResult(result, encoder.describeError?.(result.status, result.body));
  // A 2xx the encoder still refuses (an Elastic _bulk answer it cannot read in full) has only the
  // encoder's own sentence to say why: classifyResult knows statuses, and a 2xx is a success to it.
  const accepted = result.status >= 200 && result.status < 300;
  const error = accepted && verdict.error ? clip(`HTTP ${result.status}: ${verdict.error}`) : (c.error ?? `HTTP ${result.status}`);
  return {
    items: all({
      ok: false,
      stage: 'http',
      reason: error,
      statusCode: result.status,
      permanent: false,
      ...(c.retryAfterMs ? { retryAfterMs: c.retryAfterMs } : {}),
    }),
    statusCode: result.status,
    error,
    durationMs: result.durationMs,
    responseSnippet: snippet,
  };
}

/**
 * What the tenant reads of a request whose send threw: the error's own text is the service's internals
 * (and may quote a value the request carried), so it goes to the operator's log (deliverClaim.ts), and
 * the tenant is told what happened and that the events are retried.
 */
export const INTERNAL_SEND_ERROR =
  "An internal error in the service stopped this request before it reached the SIEM (not the SIEM's doing; the service's operator is told); its events are retried on the schedule.";

/**
 * The outcome of a request whose send threw (a bug: sendRequest reports every SIEM and network
 * failure as an outcome): a failed attempt on the schedule, not a claim held until its lease runs out
 * and sent again for ever without spending an attempt.
 */
export function internalError(events: SiemEvent[]): RequestOutcome {
  const reason = INTERNAL_SEND_ERROR;
  return {
    items: events.map(() => ({ ok: false, stage: 'before_send', reason, statusCode: null, permanent: false })),
    statusCode: null,
    error: reason,
    durationMs: 0,
    responseSnippet: null,
  };
}
