/**
 * The request bodies this service sends wrap each audit event in a SIEM's envelope. An operator who
 * captured one (from a SIEM's raw view or a proxy) and runs `validate-event` on it means the events
 * inside: this recognises each envelope the encoders in src/siem/ produce and returns those events.
 * Sumo Logic and custom webhooks send the events themselves (NDJSON / JSON), so they need nothing.
 */
import { DATADOG_ITEM_ATTRIBUTES } from '../siem/datadog/encoder.js';

export type EnvelopeName = 'Splunk HEC' | 'Datadog log item' | 'Elastic _bulk' | 'New Relic Logs' | 'Microsoft Sentinel record';

export interface Unwrapped {
  /** null: the document is an event itself. */
  envelope: EnvelopeName | null;
  events: unknown[];
  /** Where the events sit inside the envelope, for the CLI's note, e.g. "event". */
  inside?: string;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A wire event is recognised by its `aegis` object; an envelope holds one where the event is. */
const holdsEvent = (x: unknown) => isRecord(x) && isRecord(x.aegis);

export function unwrapEnvelope(doc: unknown): Unwrapped {
  if (!isRecord(doc)) return { envelope: null, events: [doc] };
  const keys = Object.keys(doc);
  // Splunk HEC: {"time", "host", "source", "sourcetype", ["index",] "event": <the event>}.
  if (!holdsEvent(doc) && holdsEvent(doc.event) && ('sourcetype' in doc || 'time' in doc)) {
    return { envelope: 'Splunk HEC', events: [doc.event], inside: 'event' };
  }
  // Elastic _bulk: an action line {"create": {"_index", "_id"}} before each event line.
  if (keys.length === 1 && (keys[0] === 'create' || keys[0] === 'index') && isRecord(doc[keys[0]]) && '_index' in (doc[keys[0]] as object)) {
    return { envelope: 'Elastic _bulk', events: [], inside: 'the line after each action line' };
  }
  // New Relic Logs: {"common": {...}, "logs": [{"timestamp", "message", "attributes": <the event>}]}.
  if (!holdsEvent(doc) && Array.isArray(doc.logs) && 'common' in doc) {
    return { envelope: 'New Relic Logs', events: (doc.logs as unknown[]).map((l) => (isRecord(l) ? l.attributes : l)), inside: 'logs[].attributes' };
  }
  // Datadog: the event's own fields plus the item's attributes (DATADOG_ITEM_ATTRIBUTES: ddsource, ddtags, timestamp...).
  if (holdsEvent(doc) && 'ddsource' in doc && 'ddtags' in doc) {
    const event = { ...doc };
    for (const k of DATADOG_ITEM_ATTRIBUTES) delete event[k];
    return { envelope: 'Datadog log item', events: [event], inside: `the item, without ${DATADOG_ITEM_ATTRIBUTES.join(', ')}` };
  }
  // Microsoft Sentinel (Logs Ingestion API): the event with @timestamp renamed TimeGenerated, the
  // table's required time column (siem/microsoft-sentinel/encoder.ts).
  if (holdsEvent(doc) && 'TimeGenerated' in doc && !('@timestamp' in doc)) {
    const { TimeGenerated, ...rest } = doc;
    return {
      envelope: 'Microsoft Sentinel record',
      events: [{ '@timestamp': TimeGenerated, ...rest }],
      inside: 'the record, with TimeGenerated read as @timestamp',
    };
  }
  return { envelope: null, events: [doc] };
}
