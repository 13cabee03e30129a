// Elastic: the _bulk API with `create` actions keyed by event.id (native dedupe of retries).
import { eventIdOf } from '../storedEvent.js';
import type { DeliveryVerdict, EncodeContext, ItemOutcome, SiemEncoder, SiemEvent, SiemResponse } from '../types.js';
import { bodyJson, is2xx, isRecord, optionString, parseJson, snippet, wholeVerdict } from '../types.js';
import { elasticDefaultIndex } from './form.js';

function actionLine(event: SiemEvent, ctx: EncodeContext): string {
  // An index the user set is theirs to name; by default each dataset has its own data stream, and
  // OCSF documents their own (logs-aegis.preflight.ocsf-default): one stream never mixes both shapes.
  const dataset = ctx.format === 'ocsf' ? `${event.event.dataset}.ocsf` : event.event.dataset;
  const index = optionString(ctx.options, 'index') ?? elasticDefaultIndex(dataset);
  // The id every other part of the request uses (eventIds, the delivery's bookkeeping): one source.
  return JSON.stringify({ create: { _index: index, _id: eventIdOf(event) } });
}

function errorText(err: unknown): string | undefined {
  if (!isRecord(err)) return typeof err === 'string' ? err : undefined;
  const type = typeof err.type === 'string' ? err.type : undefined;
  const reason = typeof err.reason === 'string' ? err.reason : undefined;
  const parts = [type, reason].filter((x): x is string => x !== undefined);
  return parts.length > 0 ? parts.join(': ') : undefined;
}

/** Outcome of one item of a bulk response: 201/200 done, 409 already there (done), 429/5xx retry, other 4xx failed. */
export function bulkItemOutcome(status: number): ItemOutcome {
  if (status === 200 || status === 201 || status === 409) return 'done';
  if (status === 429 || status >= 500) return 'retry';
  if (is2xx(status)) return 'done';
  return 'failed';
}

export function describeElasticError(status: number, body: string): string | undefined {
  const parsed = parseJson(body);
  const err = isRecord(parsed) ? parsed.error : undefined;
  const detail = errorText(isRecord(err) && Array.isArray(err.root_cause) && err.root_cause.length > 0 ? err.root_cause[0] : err) ?? errorText(err);
  const suffix = detail ? ` (Elasticsearch: ${snippet(detail, 300)})` : '';
  switch (status) {
    case 401:
      return `Authentication failed: check the API key hasn't been revoked or expired, and that the value is "ApiKey <encoded>"${suffix}.`;
    case 403:
      return `The API key lacks a privilege on the target index: grant create_doc (and auto_configure if the data stream must be created)${suffix}.`;
    case 404:
      return `Elasticsearch answered 404: check the URL is the Elasticsearch endpoint followed by /_bulk${suffix}.`;
    case 413:
      return `The request is larger than Elasticsearch's http.max_content_length; report this, Aegis keeps batches under 5 MB${suffix}.`;
    case 429:
      return `Elasticsearch is rejecting writes (too many requests)${suffix}; Aegis will retry.`;
    case 400:
      return detail ? `Elasticsearch refused the request${suffix}.` : undefined;
    default:
      return undefined;
  }
}

export const elasticEncoder: SiemEncoder = {
  id: 'elastic',
  maxBatchEvents: 1000,
  maxBatchBytes: 5_000_000,
  // Batches stay at 5 MB; one document alone may go up to http.max_content_length's default (100 MB).
  maxEventBytes: 100_000_000,
  gzip: true,
  // _bulk answers item by item, about 100 bytes each: as much as the client reads at most.
  maxAnswerBytes: 64 * 1024,
  encode(events, ctx) {
    return {
      body: events.map((e) => `${actionLine(e, ctx)}\n${bodyJson(e, ctx)}\n`).join(''),
      contentType: 'application/x-ndjson',
      headers: {},
      eventIds: events.map(eventIdOf),
    };
  },
  interpret(response: SiemResponse, events: SiemEvent[]): DeliveryVerdict {
    if (!is2xx(response.status)) return wholeVerdict('Elasticsearch', response, describeElasticError);
    const parsed = parseJson(response.body);
    if (!isRecord(parsed)) {
      // The client reads a capped prefix of the answer; a large _bulk answer arrives cut off. Elastic
      // writes "errors" near the start, so the prefix still says whether every item succeeded. When it
      // cannot be read, retry the batch: _id = event.id makes a resend idempotent (409 = done).
      const flag = /"errors"\s*:\s*(true|false)/.exec(response.body.slice(0, 4096));
      if (flag?.[1] === 'false') return { kind: 'all', ok: true, retryable: false };
      return {
        kind: 'all',
        ok: false,
        retryable: true,
        error:
          'Elasticsearch accepted the request but its per-item answer could not be read in full; Aegis will retry.',
      };
    }
    if (parsed.errors !== true) return { kind: 'all', ok: true, retryable: false };
    const items = parsed.items;
    if (!Array.isArray(items) || items.length !== events.length) {
      return {
        kind: 'all',
        ok: false,
        retryable: true,
        error: 'Elasticsearch reported errors but its per-item answer did not match the batch; Aegis will retry.',
      };
    }
    return {
      kind: 'per_item',
      items: items.map((raw: unknown) => {
        const result = isRecord(raw) ? Object.values(raw)[0] : undefined;
        if (!isRecord(result) || typeof result.status !== 'number') {
          return { outcome: 'retry' as const, error: 'Elasticsearch gave no status for this event.' };
        }
        const outcome = bulkItemOutcome(result.status);
        if (outcome === 'done') return { outcome };
        const detail = errorText(result.error) ?? `status ${result.status}`;
        return { outcome, error: `Elasticsearch ${result.status}: ${snippet(detail, 300)}` };
      }),
    };
  },
  describeError: describeElasticError,
};
