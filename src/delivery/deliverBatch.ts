import type { Db } from '../db/types.js';
import type { KeyRing } from '../crypto/keyring.js';
import type { OutboundClient } from './outbound/client.js';
import { classifyResult } from './failure.js';
import { getEncoder } from '../siem/registry.js';
import type { SiemId } from '../siem/catalog.js';
import type { EncodeContext, SiemEvent } from '../siem/types.js';
import { standardWebhookHeaders } from '../siem/standardWebhooks.js';

/** Everything needed to send to SIEMs, shared by the worker and the synchronous test probe. */
export interface DeliveryDeps {
  db: Db;
  keyRing: KeyRing;
  client: OutboundClient;
  /** Reported to SIEMs as the sending host (Splunk host, Datadog hostname). */
  hostname: string;
  userAgent: string;
}

/** A destination with its credentials opened, ready to send to. Lives only in memory. */
export interface DeliveryTarget {
  orgId: string;
  id: string;
  siem: SiemId;
  url: string;
  authHeaderName: string | null;
  authHeaderValue: string | null;
  signingSecret: string | null;
  options: Record<string, string>;
}

export type ItemResult =
  | { outcome: 'done' }
  | { outcome: 'retry'; error: string; retryAfterMs?: number }
  | { outcome: 'failed'; error: string };

export interface RequestOutcome {
  /** Aligned with the events sent. */
  items: ItemResult[];
  statusCode: number | null;
  /** The request-level error (action-oriented), or null when the SIEM accepted the request. */
  error: string | null;
  durationMs: number;
  responseSnippet: string | null;
}

/**
 * Sends one request carrying `events` (already sized by batchEvents) and reports how each event
 * fared. Every non-2xx answer and every network error is a retry (the product page's rule); only a
 * SIEM's per-item refusal inside an accepted request (Elastic mapping error, Splunk invalid event)
 * dead-letters an item at once, since sending the same bytes again cannot succeed.
 */
/**
 * The context the encoder sees for this destination. batchEvents must size groups with this same
 * context (preset options such as a Splunk index or Elastic data stream change every line's length).
 */
export function encodeContext(deps: Pick<DeliveryDeps, 'hostname' | 'userAgent'>, target: DeliveryTarget): EncodeContext {
  return { hostname: deps.hostname, options: target.options, userAgent: deps.userAgent };
}

export async function sendRequest(deps: DeliveryDeps, target: DeliveryTarget, events: SiemEvent[]): Promise<RequestOutcome> {
  const encoder = getEncoder(target.siem);
  const encoded = encoder.encode(events, encodeContext(deps, target));
  const headers: Record<string, string> = { ...encoded.headers, 'content-type': encoded.contentType };
  if (target.authHeaderName && target.authHeaderValue) headers[target.authHeaderName] = target.authHeaderValue;
  if (target.signingSecret && events.length === 1) {
    Object.assign(
      headers,
      standardWebhookHeaders({ secret: target.signingSecret, id: events[0]!.event.id, timestamp: Math.floor(Date.now() / 1000), body: encoded.body }),
    );
  }
  const sent = await deps.client.send({ url: target.url, headers, body: encoded.body, gzip: encoder.gzip });
  const result = sent.kind === 'response' ? { ...sent, body: scrubSecrets(sent.body, target) } : sent;
  const all = (item: ItemResult): ItemResult[] => events.map(() => item);

  if (result.kind === 'network') {
    const c = classifyResult(result);
    return { items: all({ outcome: 'retry', error: c.error ?? 'network error' }), statusCode: null, error: c.error, durationMs: result.durationMs, responseSnippet: null };
  }
  const verdict = encoder.interpret({ status: result.status, body: result.body, headers: result.headers }, events);
  const snippet = result.body ? result.body.slice(0, 512) : null;
  if (verdict.kind === 'per_item') {
    const items: ItemResult[] = verdict.items.map((it) =>
      it.outcome === 'done' ? { outcome: 'done' } : { outcome: it.outcome, error: it.error ?? `HTTP ${result.status}: item refused` },
    );
    const firstError = items.find((i): i is Exclude<ItemResult, { outcome: 'done' }> => i.outcome !== 'done');
    return {
      items,
      statusCode: result.status,
      error: firstError ? firstError.error : null,
      durationMs: result.durationMs,
      responseSnippet: snippet,
    };
  }
  if (verdict.ok) return { items: all({ outcome: 'done' }), statusCode: result.status, error: null, durationMs: result.durationMs, responseSnippet: snippet };
  // The preset's specific sentence when the SIEM said something specific (Splunk code 3: missing
  // "Splunk " prefix); otherwise the generic, action-oriented one for the status class.
  const c = classifyResult(result, encoder.describeError?.(result.status, result.body));
  const error = c.error ?? `HTTP ${result.status}`;
  return {
    items: all({ outcome: 'retry', error, ...(c.retryAfterMs ? { retryAfterMs: c.retryAfterMs } : {}) }),
    statusCode: result.status,
    error,
    durationMs: result.durationMs,
    responseSnippet: snippet,
  };
}

/**
 * Removes the destination's credentials from a response body. Some receivers and debugging proxies
 * echo request headers back; the body feeds last_error (shown in the API and dashboard) and the
 * delivery log, where a credential must never land.
 */
export function scrubSecrets(body: string, target: Pick<DeliveryTarget, 'authHeaderValue' | 'signingSecret'>): string {
  let out = body;
  for (const secret of [target.authHeaderValue, target.signingSecret]) {
    if (!secret || secret.length < 4) continue;
    out = out.split(secret).join('[redacted]');
    // The token alone, without a scheme prefix such as "Bearer " or "Splunk ".
    const token = secret.includes(' ') ? secret.slice(secret.lastIndexOf(' ') + 1) : '';
    if (token.length >= 8) out = out.split(token).join('[redacted]');
  }
  return out;
}
