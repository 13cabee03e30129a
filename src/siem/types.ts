// The encoder interface the delivery worker uses, and batching within a SIEM's limits.
import type { SiemId } from './catalog.js';
import type { OutputFormat } from './outputFormat.js';
import { toOcsf, type OcsfOutput } from '../events/ocsf.js';
import type { WireEvent } from '../events/contract.js';
import type { TrailEvent } from '../trail/contract.js';
import { StoredEvent, wireOf } from './storedEvent.js';

/**
 * The part of the wire event (src/events/contract.ts) the encoders read. The real WireEvent
 * satisfies it structurally; encoders pass every other field through unchanged.
 */
export interface SiemEvent {
  '@timestamp': string;
  event: { id: string; dataset: string };
  aegis: { summary: string };
  organization: { id: string };
}

export interface EncodeContext {
  /** Host name reported to the SIEM (Splunk host, Datadog hostname). */
  hostname: string;
  /** Preset options: Splunk index/sourcetype/source, Elastic index, Sumo category/name/host/fields, Datadog tags... */
  options: Record<string, unknown>;
  userAgent: string;
  /** Clock for signatures (custom webhook); defaults to Date.now. */
  now?: () => number;
  /**
   * The object the destination receives (default 'ecs': the wire event itself). Envelope fields
   * (time, ids, dataset, tags) are read from the wire event either way; only the body object changes.
   */
  format?: OutputFormat;
}

export interface EncodedRequest {
  body: string;
  contentType: string;
  /** Extra headers (Idempotency-Key, X-Sumo-Category, webhook-signature...). Never the auth header. */
  headers: Record<string, string>;
  /** event.id of every event in the body, in order. */
  eventIds: string[];
}

export interface SiemResponse {
  status: number;
  body: string;
  headers: Record<string, string | undefined>;
}

/**
 * One item of an accepted request: delivered ('done'); a failed attempt, retried on the schedule
 * ('retry'); refused for good, dead-lettered at once ('failed'); or shed by a SIEM under load
 * ('throttled': Elastic's 429 es_rejected_execution_exception, its write queue full), given back
 * without an attempt once the destination's limiter allows, as for a request-level 429.
 */
export type ItemOutcome = 'done' | 'retry' | 'throttled' | 'failed';

/** One item's verdict. `slowDown`: the SIEM said "too many" for it (an item 429): lower the destination's limits, whatever its outcome. */
export interface ItemVerdict {
  outcome: ItemOutcome;
  error?: string;
  slowDown?: boolean;
}

export type DeliveryVerdict = { kind: 'all'; ok: boolean; retryable: boolean; error?: string } | { kind: 'per_item'; items: ItemVerdict[] };

export interface SiemEncoder<E extends SiemEvent = SiemEvent> {
  id: SiemId;
  maxBatchEvents: number;
  /** Uncompressed body bytes per request. */
  maxBatchBytes: number;
  /**
   * The SIEM's per-event limit, as the bytes of a request carrying that event alone (default:
   * maxBatchBytes). A bigger event can never be accepted: it is dead-lettered with the reason instead
   * of being sent (or truncated by the SIEM). Infinity: no documented limit (the receiver's 413 decides).
   */
  maxEventBytes?: number;
  /** Whether the HTTP layer should gzip the body (and send Content-Encoding: gzip). */
  gzip: boolean;
  /**
   * How much of an answer the preset reads (default DEFAULT_MAX_ANSWER_BYTES); the rest is dropped
   * unread. Only a preset that reads an answer per item needs more: every byte read is scrubbed, and
   * a hostile SIEM answering as much as it may makes each of its requests cost that much.
   */
  maxAnswerBytes?: number;
  /**
   * Bytes read beyond maxAnswerBytes for each event of the request: for a preset whose answer has an
   * item per event (Elastic's _bulk), so the answer of a full batch is read whole. The bound stays
   * explicit: maxAnswerBytes + maxAnswerBytesPerEvent × maxBatchEvents.
   */
  maxAnswerBytesPerEvent?: number;
  /**
   * The URL a request goes to, from the destination's (default: the destination's URL as it is): a
   * preset adds what its API reads in the query string (Elastic: filter_path).
   */
  requestUrl?(url: string): string;
  /**
   * Events older than this (by @timestamp) are accepted with a 2xx but dropped or not searchable
   * at their time (Datadog 18 h, New Relic 48 h): a replay of older dead letters must say so.
   */
  maxEventAgeMs?: number;
  /**
   * Events dated further ahead than this (by @timestamp, against the receiving clock) are accepted
   * with a 2xx and dropped (Datadog 2 h): a source with a skewed clock. Undefined: no documented window.
   */
  maxEventFutureMs?: number;
  encode(events: E[], ctx: EncodeContext): EncodedRequest;
  /**
   * Optional: for a context, a function giving `byteLength(encode([e], ctx).body)` without building
   * that body. The planner measures every event of a claim this way before the request encodes them
   * again; a preset with no such function is measured by encoding each event alone. It must give
   * exactly that length and throw where encode throws (src/siem/eventBytes.test.ts holds every preset
   * that has one to it).
   */
  eventBytes?(ctx: EncodeContext): (e: E) => number;
  /** `items` of a per_item verdict align with `events`. */
  interpret(response: SiemResponse, events: E[]): DeliveryVerdict;
  /** The SIEM-specific hint for a failed response, or undefined when the response says nothing specific. */
  describeError?(status: number, body: string): string | undefined;
}

export const DEFAULT_ENCODE_CONTEXT: EncodeContext = {
  hostname: 'aegis-audit-stream',
  options: {},
  userAgent: 'aegis-audit-stream',
};

export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

const eventJsonCache = new WeakMap<object, string>();

/**
 * The event's compact JSON (JSON.stringify), computed once per event object: batchEvents measures
 * each event and the encoder then encodes the same objects, so caching halves the serialisation
 * work of a claim. Encoders splice this text into their envelopes instead of re-serialising the
 * event inside a bigger object. Events are not mutated once handed to an encoder. A claimed event
 * (StoredEvent) is its stored text, never serialised again, when that text is JSON.stringify's form.
 */
export function eventJson(e: SiemEvent): string {
  if (e instanceof StoredEvent) {
    const stored = e.storedJson;
    if (stored !== undefined) return stored;
  }
  let s = eventJsonCache.get(e);
  if (s === undefined) {
    s = JSON.stringify(wireOf(e));
    eventJsonCache.set(e, s);
  }
  return s;
}

const ocsfCache = new WeakMap<object, { event: OcsfOutput; json: string }>();

/** The event's OCSF form (events/ocsf.ts toOcsf) and its JSON, built once per event object (like eventJson). */
function ocsfOf(e: SiemEvent): { event: OcsfOutput; json: string } {
  let o = ocsfCache.get(e);
  if (o === undefined) {
    // Encoders receive whole wire events (the stored payloads); SiemEvent names only what envelopes read.
    // A configuration trail event becomes an Entity Management event, every other one a finding.
    const event = toOcsf(wireOf(e) as unknown as WireEvent | TrailEvent);
    o = { event, json: JSON.stringify(event) };
    ocsfCache.set(e, o);
  }
  return o;
}

/** The event's OCSF object (built once per event, as bodyJson sends it), for envelopes that read its fields. */
export function ocsfObject(e: SiemEvent): OcsfOutput {
  return ocsfOf(e).event;
}

/**
 * The JSON of the object the destination receives: the wire event (ECS) or its OCSF form (a Data
 * Security Finding; for a trail event, Entity Management), per the destination's format. Encoders put this inside their envelopes.
 */
export function bodyJson(e: SiemEvent, ctx: EncodeContext): string {
  return ctx.format === 'ocsf' ? ocsfOf(e).json : eventJson(e);
}

/**
 * The destination's object (bodyJson) with extra keys first: `{ ...extra, ...body }` where the extra values win (a body key
 * of the same name is dropped), without re-serialising the body when no key collides. Datadog's own
 * client writes a log item's reserved attributes before the event's fields, in this order.
 */
export function prefixBody(e: SiemEvent, ctx: EncodeContext, extra: Record<string, unknown>): string {
  const obj: object = ctx.format === 'ocsf' ? ocsfOf(e).event : wireOf(e);
  const keys = Object.keys(extra);
  if (keys.some((k) => Object.prototype.hasOwnProperty.call(obj, k))) {
    const rest: Record<string, unknown> = { ...(obj as Record<string, unknown>) };
    for (const k of keys) delete rest[k];
    return JSON.stringify({ ...extra, ...rest });
  }
  const json = bodyJson(e, ctx);
  if (keys.length === 0) return json;
  const head = JSON.stringify(extra);
  return json === '{}' ? head : `${head.slice(0, -1)},${json.slice(1)}`;
}

/**
 * Split events into request-sized groups: each group has at most `maxBatchEvents` events and its
 * encoded body is at most `maxBatchBytes` (an event that alone exceeds the byte limit goes alone).
 * The worker uses planBatches, which also sets aside events over the SIEM's per-event limit.
 */
export function batchEvents<E extends SiemEvent>(events: readonly E[], encoder: SiemEncoder<E>, ctx: EncodeContext = DEFAULT_ENCODE_CONTEXT): E[][] {
  return planBatches(events, encoder, ctx, Number.POSITIVE_INFINITY).groups;
}

/** The per-event limit of a preset: its own, else one request's byte limit. */
/**
 * How close to a SIEM's time limit (its age limit, or how far ahead it accepts) an event already counts
 * as past it: Aegis measures the distance, and the SIEM measures it again when the request arrives, by
 * its own clock, which may be ahead of or behind Aegis's.
 */
export const EVENT_AGE_MARGIN_MS = 5 * 60_000;

/** Which side of the SIEM's clock a time limit bounds: how old an event may be, or how far ahead. */
export type EventTimeSide = 'past' | 'future';

/** One of a SIEM's limits on an event's @timestamp (maxEventAgeMs, maxEventFutureMs). */
export interface EventTimeLimit {
  side: EventTimeSide;
  /** The SIEM's documented limit. */
  limitMs: number;
  /** The farthest an event may be from Aegis's clock on that side when sent: the limit less EVENT_AGE_MARGIN_MS. */
  sendableMs: number;
}

/**
 * The SIEM's limits on an event's time, past then future: the one list the worker applies (an event
 * outside one is answered 2xx and dropped, so it is dead-lettered instead). Empty for a SIEM that keeps
 * events of any time.
 */
export function eventTimeLimits(encoder: Pick<SiemEncoder, 'maxEventAgeMs' | 'maxEventFutureMs'>): EventTimeLimit[] {
  const limits: EventTimeLimit[] = [];
  const add = (side: EventTimeSide, limitMs: number | undefined) => {
    if (limitMs !== undefined) limits.push({ side, limitMs, sendableMs: limitMs - EVENT_AGE_MARGIN_MS });
  };
  add('past', encoder.maxEventAgeMs);
  add('future', encoder.maxEventFutureMs);
  return limits;
}

/** How far `timestampMs` is from `now` on a side: its age ('past') or how far ahead it is ('future'); negative on the other side. */
export function distanceOnSide(side: EventTimeSide, timestampMs: number, now: number): number {
  return side === 'past' ? now - timestampMs : timestampMs - now;
}

/** A side's sendable distance (eventTimeLimits), or null when the SIEM has no limit on that side. */
function sendableOn(side: EventTimeSide, encoder: Pick<SiemEncoder, 'maxEventAgeMs' | 'maxEventFutureMs'>): number | null {
  return eventTimeLimits(encoder).find((l) => l.side === side)?.sendableMs ?? null;
}

/**
 * The oldest an event may be when Aegis sends it to this SIEM (its maxEventAgeMs less the margin), or
 * null when the SIEM keeps events of any age. The worker dead-letters older events and replays leave
 * them out, so a replay never queues what the worker would refuse.
 */
export function sendableAgeMs(encoder: Pick<SiemEncoder, 'maxEventAgeMs'>): number | null {
  return sendableOn('past', encoder);
}

/**
 * The farthest ahead of Aegis's clock an event may be dated when Aegis sends it to this SIEM (its
 * maxEventFutureMs less the margin), or null when the SIEM has no future window. The worker
 * dead-letters events dated further ahead and replays leave them out, as they do the too old.
 */
export function sendableFutureMs(encoder: Pick<SiemEncoder, 'maxEventFutureMs'>): number | null {
  return sendableOn('future', encoder);
}

/** What a preset reads of an answer unless it says more: error texts and acknowledgements fit. */
export const DEFAULT_MAX_ANSWER_BYTES = 8 * 1024;

/** How much of the answer to a request carrying `events` events the delivery reads. */
export function maxAnswerBytesOf(encoder: Pick<SiemEncoder, 'maxAnswerBytes' | 'maxAnswerBytesPerEvent'>, events: number): number {
  return (encoder.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES) + (encoder.maxAnswerBytesPerEvent ?? 0) * events;
}

export function maxEventBytesOf(encoder: Pick<SiemEncoder, 'maxBatchBytes' | 'maxEventBytes'>): number {
  return encoder.maxEventBytes ?? encoder.maxBatchBytes;
}

export interface BatchPlan<E extends SiemEvent> {
  /** Request-sized groups, in the events' order. */
  groups: E[][];
  /** Events whose request alone would be over the SIEM's per-event limit: they can never be sent. */
  oversize: Array<{ event: E; bytes: number }>;
}

/**
 * The batch planner: splits events into request-sized groups before anything is sent. Each group has
 * at most `maxBatchEvents` events and an encoded body of at most `maxBatchBytes`; an event whose
 * single-event body exceeds `maxEventBytes` (default: the preset's per-event limit) is set aside in
 * `oversize`, and one between the two limits goes alone.
 *
 * Sizes are measured by encoding: a group's size is bounded by the encoded size of its first event
 * plus, for each further event, its own encoded size minus the empty-body overhead plus one
 * separator byte. That bound holds for concatenated, NDJSON and JSON-array bodies alike.
 */
export function planBatches<E extends SiemEvent>(
  events: readonly E[],
  encoder: SiemEncoder<E>,
  ctx: EncodeContext = DEFAULT_ENCODE_CONTEXT,
  maxEventBytes: number = maxEventBytesOf(encoder),
): BatchPlan<E> {
  const groups: E[][] = [];
  const oversize: BatchPlan<E>['oversize'] = [];
  if (events.length === 0) return { groups, oversize };
  const maxEvents = Math.max(1, encoder.maxBatchEvents);
  const overhead = maxEvents === 1 ? 0 : byteLength(encoder.encode([], ctx).body);
  const measure = encoder.eventBytes?.(ctx) ?? ((e: E) => byteLength(encoder.encode([e], ctx).body));

  let current: E[] = [];
  let currentBytes = 0;
  for (const e of events) {
    // One-event-per-request presets are measured only when they have a finite per-event limit.
    const single = maxEvents === 1 && !Number.isFinite(maxEventBytes) ? 0 : measure(e);
    if (single > maxEventBytes) {
      oversize.push({ event: e, bytes: single });
      continue;
    }
    const added = current.length === 0 ? single : single - overhead + 1;
    if (current.length > 0 && (current.length >= maxEvents || currentBytes + added > encoder.maxBatchBytes)) {
      groups.push(current);
      current = [];
      currentBytes = 0;
    }
    currentBytes += current.length === 0 ? single : single - overhead + 1;
    current.push(e);
  }
  if (current.length > 0) groups.push(current);
  return { groups, oversize };
}

// ---------------------------------------------------------------------------------------------
// Small helpers shared by the encoders

/**
 * RFC 3339 timestamps already read, and their epoch milliseconds: a batching preset reads each event's
 * time three times (its age when planning, its size, its envelope), and Date.parse is most of the cost
 * of one read (about 0.3 µs). Bounded: emptied when full, so it holds at most a few claims'
 * timestamps. Only what the RFC 3339 reading took is kept (its answer depends on the text alone; the
 * fallback reads other forms in the process's time zone), and an invalid one throws on every read.
 */
const millisRead = new Map<string, number>();
const MILLIS_READ_MAX = 4096;
const RFC_3339 = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Epoch milliseconds of an RFC 3339 timestamp; fractional digits beyond milliseconds are dropped. */
export function epochMillis(timestamp: string): number {
  const known = millisRead.get(timestamp);
  if (known !== undefined) return known;
  const m = RFC_3339.exec(timestamp.trim());
  if (!m) {
    const t = Date.parse(timestamp);
    if (Number.isNaN(t)) throw new Error(`invalid @timestamp: ${timestamp}`);
    return t;
  }
  const fraction = (m[2] ?? '').padEnd(3, '0').slice(0, 3);
  const t = Date.parse(`${m[1]!}.${fraction}${m[3] ?? 'Z'}`);
  if (Number.isNaN(t)) throw new Error(`invalid @timestamp: ${timestamp}`);
  if (millisRead.size >= MILLIS_READ_MAX) millisRead.clear();
  millisRead.set(timestamp, t);
  return t;
}

export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function optionString(options: Record<string, unknown>, key: string): string | undefined {
  const v = options[key];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/**
 * What a header field value Aegis sends may contain: visible ASCII, space and tab. Node refuses a
 * request with CR, LF, another control or a character above U+00FF in a header (every delivery would
 * fail), and sends U+0080-U+00FF as single Latin-1 bytes that a receiver reading UTF-8 mangles.
 */
const HEADER_FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/** True when `value` can be sent as an HTTP header value as it is (see HEADER_FIELD_VALUE). */
export function isSendableHeaderValue(value: string): boolean {
  return HEADER_FIELD_VALUE.test(value);
}

/** What the outbound client (undici, like node:http) accepts in a header value: Latin-1 without controls but tab. */
const NODE_HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * A header value the HTTP client can send, or undefined. The API refuses new values outside
 * isSendableHeaderValue; a Latin-1 value stored before that rule is sent as it always was (dropping
 * it would silently change, say, the Sumo Logic source category its events are routed by), and only
 * a value the client would refuse (failing every request) is dropped.
 */
export function safeHeaderValue(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  return NODE_HEADER_VALUE.test(v) ? v : undefined;
}

export function snippet(body: string, max = 200): string {
  const s = body.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export function is2xx(status: number): boolean {
  return status >= 200 && status < 300;
}

/**
 * Request-level verdict: 2xx is success; every other status is a retried failure (the product's rule),
 * with the SIEM's own hint when it has one.
 */
export function wholeVerdict(label: string, response: SiemResponse, describe: (status: number, body: string) => string | undefined): DeliveryVerdict {
  if (is2xx(response.status)) return { kind: 'all', ok: true, retryable: false };
  const hint = describe(response.status, response.body);
  const detail = snippet(response.body);
  const error = hint ?? `${label} answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`;
  return { kind: 'all', ok: false, retryable: true, error };
}
