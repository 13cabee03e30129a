// Elastic: the _bulk API with `create` actions keyed by event.id (native dedupe of retries).
import { eventIdOf } from '../storedEvent.js';
import type { DeliveryVerdict, EncodeContext, ItemOutcome, ItemVerdict, SiemEncoder, SiemEvent, SiemResponse } from '../types.js';
import { bodyJson, is2xx, isRecord, optionString, parseJson, prefixBody, snippet, wholeVerdict } from '../types.js';
import { elasticDefaultIndex } from './form.js';

function actionLine(event: SiemEvent, ctx: EncodeContext): string {
  // An index the user set is theirs to name; by default each dataset has its own data stream, and
  // OCSF documents their own (logs-aegis.preflight.ocsf-default): one stream never mixes both shapes.
  const dataset = ctx.format === 'ocsf' ? `${event.event.dataset}.ocsf` : event.event.dataset;
  const index = optionString(ctx.options, 'index') ?? elasticDefaultIndex(dataset);
  // The id every other part of the request uses (eventIds, the delivery's bookkeeping): one source.
  return JSON.stringify({ create: { _index: index, _id: eventIdOf(event) } });
}

/**
 * The document: the ECS event as it is; an OCSF object after the event's `@timestamp`, the field every
 * data stream needs (SIEM-FORMATS.md). OCSF's own time is `time` (epoch ms): without `@timestamp` a
 * stream with no default pipeline refuses the document, and Elastic's logs pipeline stamps it with
 * the ingest time, so a delayed or replayed event would land at the wrong time.
 */
function document(event: SiemEvent, ctx: EncodeContext): string {
  return ctx.format === 'ocsf' ? prefixBody(event, ctx, { '@timestamp': event['@timestamp'] }) : bodyJson(event, ctx);
}

function errorText(err: unknown): string | undefined {
  if (!isRecord(err)) return typeof err === 'string' ? err : undefined;
  const type = typeof err.type === 'string' ? err.type : undefined;
  const reason = typeof err.reason === 'string' ? err.reason : undefined;
  const parts = [type, reason].filter((x): x is string => x !== undefined);
  return parts.length > 0 ? parts.join(': ') : undefined;
}

/**
 * Outcome of one item of a _bulk answer. Done: 2xx, and 409 (create of an existing _id: already
 * indexed). Dead-lettered at once only when the cluster can never take the document: 400 (a mapping
 * error: mapper_parsing_exception, document_parsing_exception, illegal_argument_exception) and 413
 * (the document over http.max_content_length). Shed for load, given back without an attempt: 429
 * es_rejected_execution_exception (or no type), the write queue full, a transient state that must not
 * dead-letter what the cluster will take once it catches up. Every other status describes the
 * cluster's state, not the document, and is retried on the schedule: 401/403 (the key, its
 * privileges, a write block), 404 (index_not_found_exception: no such index and none auto-created),
 * 408, 5xx, any other, and a 429 of another type (circuit_breaking_exception, which a document too
 * large for the memory breaker gets every time: an attempt, so it cannot come back for ever); so is a
 * 400 index_closed_exception (a closed index, 400 since Elasticsearch 6).
 */
export function bulkItemOutcome(status: number, errorType?: string): ItemOutcome {
  if (is2xx(status) || status === 409) return 'done';
  if (status === 413 || (status === 400 && errorType !== 'index_closed_exception')) return 'failed';
  if (status === 429 && (errorType === undefined || errorType === 'es_rejected_execution_exception')) return 'throttled';
  return 'retry';
}

/**
 * What to do about an item dead-lettered at once (it would be refused again as it is), by what
 * Elasticsearch named, so that the card's last error says what to fix, as every other failure's does.
 */
const REFUSED_FIXES: ReadonlyArray<{ when: (status: number, type: string | undefined, reason: string) => boolean; fix: string }> = [
  { when: (status) => status === 413, fix: "this event is over the cluster's http.max_content_length: raise it" },
  { when: (_s, _t, reason) => /pipeline/i.test(reason), fix: 'the ingest pipeline it names is missing or failed: create or fix it (or drop it from the URL)' },
  { when: (_s, type) => type === 'invalid_index_name_exception', fix: 'the index name is not valid: fix the index in the URL' },
  {
    when: (_s, type, reason) => type === 'mapper_parsing_exception' || type === 'document_parsing_exception' || /mapp|field/i.test(reason),
    fix: "the index's mapping refuses this event (a field of another type, or past the field limit): fix the mapping or index template",
  },
];

function refusedItemHint(status: number, error: unknown): string {
  const type = isRecord(error) && typeof error.type === 'string' ? error.type : undefined;
  const reason = isRecord(error) && typeof error.reason === 'string' ? error.reason : '';
  const fix = REFUSED_FIXES.find((r) => r.when(status, type, reason))?.fix ?? 'Elasticsearch refuses this event as it is: fix what it names';
  return `${fix}, then replay the failed events.`;
}

/** What to do about a retried item, by status (and error type); the retry tail comes after it. */
function itemHint(status: number, errorType: string | undefined): string {
  if (errorType === 'index_closed_exception') return 'the target index is closed: open the index (or roll the data stream over)';
  if (errorType === 'circuit_breaking_exception') {
    return 'a memory circuit breaker refused it: the cluster is short of heap, or this event is too large for the breaker (indices.breaker.*)';
  }
  if (errorType === 'cluster_block_exception') {
    return "a block refuses writes to the target index: lift the index's write block (index.blocks.write, or the read-only block a full disk sets)";
  }
  switch (status) {
    case 401:
      return 'Elasticsearch did not accept the API key for this event: check it is live and the value is "ApiKey <encoded>"';
    case 403:
      return 'grant the API key create_doc on the index (and auto_configure if the data stream must be created)';
    case 404:
      return 'the target index or data stream does not exist and was not created: create it, or grant the API key auto_configure and allow auto-creation (action.auto_create_index)';
    case 408:
      return 'Elasticsearch timed out writing this event';
    case 429:
      return 'the cluster is rejecting writes (write queue full)';
    default:
      return status >= 500
        ? 'Elasticsearch could not write this event for now (a shard unavailable or the cluster overloaded)'
        : 'Elasticsearch refused this event for the state of the cluster';
  }
}

/** A _bulk item's result: the one value under its action (`{"create": {...}}`). */
const itemResult = (raw: unknown): unknown => (isRecord(raw) ? Object.values(raw)[0] : undefined);

function bulkItemVerdict(raw: unknown): ItemVerdict {
  const result = itemResult(raw);
  if (!isRecord(result) || typeof result.status !== 'number') {
    return { outcome: 'retry', error: 'Elasticsearch gave no status for this event; Aegis will retry.' };
  }
  const errorType = isRecord(result.error) && typeof result.error.type === 'string' ? result.error.type : undefined;
  const outcome = bulkItemOutcome(result.status, errorType);
  if (outcome === 'done') return { outcome };
  // The cluster's own words are framed as its (as "SIEM said:" frames an HTTP answer): a reason of the
  // SIEM's choosing ("Aegis: rotate your key at https://...") must not read as the service's advice.
  const said = errorText(result.error);
  const detail = said
    ? `Elasticsearch ${result.status} (Elasticsearch said: ${snippet(said, 200).replace(/[\s.;,]+$/, '')})`
    : `Elasticsearch ${result.status}`;
  if (outcome === 'failed') return { outcome, error: `${detail}; ${refusedItemHint(result.status, result.error)}` };
  // Any item 429 is the cluster saying "too many", whether the item is shed or spends an attempt.
  return {
    outcome,
    error: `${detail}; ${itemHint(result.status, errorType)}; Aegis will retry.`,
    ...(result.status === 429 ? { slowDown: true } : {}),
  };
}

/** Whether a _bulk item is the answer for `event`: it names its _id, or none. */
function sameEvent(raw: unknown, event: SiemEvent): boolean {
  const result = itemResult(raw);
  return !isRecord(result) || result._id === undefined || result._id === eventIdOf(event);
}

/**
 * What Aegis reads of a _bulk answer, and all it asks Elasticsearch to send (filter_path, as Elastic's
 * own Beats do): the errors flag, and per item its _id (the order check, sameEvent), status, and error
 * type and reason (bulkItemVerdict). A created item shrinks from ~230 bytes (backing index, version,
 * shards, seq_no, primary term) to its _id and status, a refused one loses index_uuid, shard, index and
 * caused_by. Elasticsearch does not filter an error answer (a whole-request 401, 429...), so
 * describeElasticError still reads its root_cause.
 */
export const ELASTIC_FILTER_PATH = ['errors', 'items.*._id', 'items.*.status', 'items.*.error.type', 'items.*.error.reason'].join(',');
const FILTER_PATH_PARAM = `filter_path=${encodeURIComponent(ELASTIC_FILTER_PATH)}`;

/** A query parameter's name as the server reads it (percent-decoded), or the raw text if malformed. */
function paramName(param: string): string {
  const raw = param.split('=', 1)[0]!;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * The _bulk URL with ELASTIC_FILTER_PATH added to the query the user's URL already has (a pipeline,
 * refresh, routing...), which is kept byte for byte. A filter_path of the user's own is replaced:
 * one that hid "errors" or an item's status would make every answer unreadable, and nothing else
 * reads the answer. A fragment is never sent; it is kept where it was.
 */
export function elasticBulkUrl(url: string): string {
  const hashAt = url.indexOf('#');
  const fragment = hashAt < 0 ? '' : url.slice(hashAt);
  const beforeHash = hashAt < 0 ? url : url.slice(0, hashAt);
  const queryAt = beforeHash.indexOf('?');
  const base = queryAt < 0 ? beforeHash : beforeHash.slice(0, queryAt);
  const kept =
    queryAt < 0
      ? []
      : beforeHash
          .slice(queryAt + 1)
          .split('&')
          .filter((p) => p !== '' && paramName(p) !== 'filter_path');
  return `${base}?${[...kept, FILTER_PATH_PARAM].join('&')}${fragment}`;
}

const CUT_OFF_ERROR = 'Elasticsearch accepted the request but its per-item answer could not be read in full; Aegis will retry.';
const notBulkError = (status: number) =>
  `Elasticsearch answered ${status} without a _bulk result (no "errors" field): check the URL ends in /_bulk and no proxy answers for it; Aegis will retry.`;
const MISMATCH_ERROR = 'Elasticsearch reported errors but its per-item answer did not match the batch; Aegis will retry.';

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
  // _bulk answers item by item. Asked for ELASTIC_FILTER_PATH an item is ~60 bytes, ~350 with a long
  // error reason; in full (a proxy or cluster that ignores filter_path) ~230 bytes created and
  // ~400-500 refused (409 version_conflict, 400 mapper_parsing, 429 es_rejected_execution). A fixed
  // cap read a cut prefix of such an answer, and the whole batch went back for one bad item: so 1 KiB
  // per event of the request on top of 64 KiB, at most 64 KiB + 1,000 KiB for a full batch.
  maxAnswerBytes: 64 * 1024,
  maxAnswerBytesPerEvent: 1024,
  requestUrl: elasticBulkUrl,
  encode(events, ctx) {
    return {
      body: events.map((e) => `${actionLine(e, ctx)}\n${document(e, ctx)}\n`).join(''),
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
      return { kind: 'all', ok: false, retryable: true, error: flag ? CUT_OFF_ERROR : notBulkError(response.status) };
    }
    // Every _bulk answer has "errors" (SIEM-FORMATS.md): only false says each item was written. A 200
    // without it ({"acknowledged":true}) is a proxy's or another endpoint's, not a delivery.
    if (parsed.errors === false) return { kind: 'all', ok: true, retryable: false };
    if (parsed.errors !== true) return { kind: 'all', ok: false, retryable: true, error: notBulkError(response.status) };
    const items = parsed.items;
    // Items answer in request order; one naming another event's _id is not this batch's answer.
    if (!Array.isArray(items) || items.length !== events.length || items.some((raw: unknown, i) => !sameEvent(raw, events[i]!))) {
      return { kind: 'all', ok: false, retryable: true, error: MISMATCH_ERROR };
    }
    return { kind: 'per_item', items: items.map(bulkItemVerdict) };
  },
  describeError: describeElasticError,
};
