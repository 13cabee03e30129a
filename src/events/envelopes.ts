/**
 * The request bodies this service sends wrap each audit event in a SIEM's envelope. An operator who
 * captured one (from a SIEM's raw view or a proxy) and runs `validate-event` on it means the events
 * inside: this recognises each envelope the encoders in src/siem/ produce and returns those events.
 * Sumo Logic and custom webhooks send the events themselves (NDJSON / JSON), so they need nothing.
 * Both formats a destination can send are recognised: ECS wire events (an `aegis` object) and OCSF
 * events (looksLikeOcsf: a metadata object and a class_uid that is a number or a numeric string), each in
 * its own envelope shape.
 */
import { DATADOG_ITEM_ATTRIBUTES, DATADOG_OCSF_ITEM_ATTRIBUTES } from '../siem/datadog/encoder.js';
import { looksLikeOcsf } from './ocsfSchema.js';

export type EnvelopeName = 'Splunk HEC' | 'Datadog log item' | 'Elastic _bulk' | 'Elastic document' | 'New Relic Logs' | 'Microsoft Sentinel record';

/**
 * What a Datadog OCSF item adds beside the OCSF event (DATADOG_OCSF_ITEM_ATTRIBUTES) but `message`:
 * that is the OCSF event's own too (the same summary). `status` is Datadog's log level, sent in place
 * of OCSF's optional status caption (status_id keeps the status), so it is dropped, not validated.
 */
export const DATADOG_OCSF_ADDED: readonly string[] = DATADOG_OCSF_ITEM_ATTRIBUTES.filter((k) => k !== 'message');

export interface Unwrapped {
  /** null: the document is an event itself. */
  envelope: EnvelopeName | null;
  events: unknown[];
  /** Where the events sit inside the envelope, for the CLI's note, e.g. "event". */
  inside?: string;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A wire event is recognised by its `aegis` object; an envelope holds one where the event is. */
const holdsWire = (x: unknown) => isRecord(x) && isRecord(own(x, 'aegis'));
/** An event in either format. */
const holdsEvent = (x: unknown) => holdsWire(x) || looksLikeOcsf(x);

/** Own properties only: a captured document's "__proto__" or "constructor" key is data, nothing more. */
function own(o: Record<string, unknown>, k: string): unknown {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}
const has = (o: Record<string, unknown>, k: string) => Object.hasOwn(o, k);

/** The document without the keys an envelope added (own-property copy: no prototype is ever set). */
function without(doc: Record<string, unknown>, drop: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc))
    if (!drop.includes(k)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

export function unwrapEnvelope(doc: unknown): Unwrapped {
  if (!isRecord(doc)) return { envelope: null, events: [doc] };
  const keys = Object.keys(doc);
  // Splunk HEC: {"time", "host", "source", "sourcetype", ["index",] "event": <the event>}.
  if (!holdsEvent(doc) && holdsEvent(own(doc, 'event')) && (has(doc, 'sourcetype') || has(doc, 'time'))) {
    return { envelope: 'Splunk HEC', events: [own(doc, 'event')], inside: 'event' };
  }
  // Elastic _bulk: an action line {"create": {"_index", "_id"}} before each event line.
  const action = keys.length === 1 && (keys[0] === 'create' || keys[0] === 'index') ? own(doc, keys[0]) : undefined;
  if (isRecord(action) && has(action, '_index')) {
    return { envelope: 'Elastic _bulk', events: [], inside: 'the line after each action line' };
  }
  // New Relic Logs: {"common": {...}, "logs": [{"timestamp", "message", "attributes": <the event>}]}.
  const logs = own(doc, 'logs');
  if (!holdsEvent(doc) && Array.isArray(logs) && has(doc, 'common')) {
    return { envelope: 'New Relic Logs', events: (logs as unknown[]).map((l) => (isRecord(l) ? own(l, 'attributes') : l)), inside: 'logs[].attributes' };
  }
  // Datadog: the event's own fields plus the item's attributes (DATADOG_ITEM_ATTRIBUTES: ddsource, ddtags, timestamp...).
  if (holdsWire(doc) && has(doc, 'ddsource') && has(doc, 'ddtags')) {
    return { envelope: 'Datadog log item', events: [without(doc, DATADOG_ITEM_ATTRIBUTES)], inside: `the item, without ${DATADOG_ITEM_ATTRIBUTES.join(', ')}` };
  }
  // Datadog, OCSF: the same item, but its message is the OCSF event's own (DATADOG_OCSF_ADDED).
  if (looksLikeOcsf(doc) && has(doc, 'ddsource') && has(doc, 'ddtags')) {
    return { envelope: 'Datadog log item', events: [without(doc, DATADOG_OCSF_ADDED)], inside: `the item, without ${DATADOG_OCSF_ADDED.join(', ')}` };
  }
  // Microsoft Sentinel, OCSF: {"TimeGenerated", "ocsf": <the event>}, the OCSF object in its own column.
  if (!holdsEvent(doc) && has(doc, 'TimeGenerated') && looksLikeOcsf(own(doc, 'ocsf'))) {
    return { envelope: 'Microsoft Sentinel record', events: [own(doc, 'ocsf')], inside: 'ocsf' };
  }
  // Elastic, OCSF: the document adds @timestamp, Elastic's time field, which OCSF does not have. The
  // encoder puts it first, but a tool that re-serialised the document may not: key order is not read
  // (after an action line the report names the _bulk body instead).
  if (looksLikeOcsf(doc) && has(doc, '@timestamp')) {
    return { envelope: 'Elastic document', events: [without(doc, ['@timestamp'])], inside: 'the document, without its @timestamp' };
  }
  // Microsoft Sentinel (Logs Ingestion API): the event with @timestamp renamed TimeGenerated, the
  // table's required time column (siem/microsoft-sentinel/encoder.ts).
  if (holdsWire(doc) && has(doc, 'TimeGenerated') && !has(doc, '@timestamp')) {
    const { TimeGenerated, ...rest } = doc;
    return {
      envelope: 'Microsoft Sentinel record',
      events: [{ '@timestamp': TimeGenerated, ...rest }],
      inside: 'the record, with TimeGenerated read as @timestamp',
    };
  }
  return { envelope: null, events: [doc] };
}
