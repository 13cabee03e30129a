// Splunk HTTP Event Collector: concatenated JSON envelopes to /services/collector/event.
import { SPLUNK_DEFAULT_SOURCE, SPLUNK_DEFAULT_SOURCETYPE } from './form.js';
import { eventIdOf } from '../storedEvent.js';
import type { DeliveryVerdict, EncodeContext, SiemEncoder, SiemEvent, SiemResponse } from '../types.js';
import { byteLength, epochMillis, bodyJson, is2xx, isRecord, optionString, parseJson, snippet, wholeVerdict } from '../types.js';

/** HEC status codes (Splunk's own table) and what to do about each. */
export const SPLUNK_HEC_CODES: Readonly<Record<number, { text: string; hint: string }>> = {
  1: { text: 'Token disabled', hint: 'The HEC token is disabled: enable it in Settings → Data inputs → HTTP Event Collector, or paste a new token.' },
  2: { text: 'Token is required', hint: 'Splunk received no token: paste your HEC token and keep the Authorization header.' },
  3: {
    text: 'Invalid authorization',
    hint: 'Authentication failed: the token must be sent as "Splunk <token>" — check the Splunk prefix.',
  },
  4: {
    text: 'Invalid token',
    hint: "Splunk does not know this HEC token: check it hasn't been deleted or regenerated, and that it belongs to this Splunk instance.",
  },
  5: { text: 'No data', hint: 'Splunk received an empty request; this is an Aegis bug, please report it.' },
  6: { text: 'Invalid data format', hint: 'Splunk could not parse an event; check the HEC endpoint is /services/collector/event, not /raw.' },
  7: {
    text: 'Incorrect index',
    hint: "The index is not allowed for this token: add it to the token's allowed indexes in Splunk, or change the index in Aegis.",
  },
  8: { text: 'Internal server error', hint: 'Splunk reported an internal error; check splunkd.log if it persists. Aegis will retry.' },
  9: { text: 'Server is busy', hint: 'Splunk HEC is busy (queues full); Aegis will retry.' },
  10: {
    text: 'Data channel is missing',
    hint: 'Indexer acknowledgement is on for this token: turn on indexer acknowledgement for this destination (options.indexer_ack), or turn off "Enable indexer acknowledgement" for the token.',
  },
  11: {
    text: 'Invalid data channel',
    hint: 'Splunk refused the request channel: check indexer acknowledgement is on for this token and the destination, and that no proxy rewrites the X-Splunk-Request-Channel header.',
  },
  12: { text: 'Event field is required', hint: 'Splunk found an envelope without an event field; check the URL ends in /services/collector/event.' },
  13: { text: 'Event field cannot be blank', hint: 'Splunk found an empty event field; this is an Aegis bug, please report it.' },
  14: {
    text: 'ACK is disabled',
    hint: 'Acknowledgement is disabled for this token: turn on "Enable indexer acknowledgement" for the token in Splunk, or turn off indexer acknowledgement for this destination.',
  },
  15: {
    text: 'Error in handling indexed fields',
    hint: "Splunk could not index the fields of an event; check the token's source type settings (INDEXED_EXTRACTIONS) for aegis:audit.",
  },
};

interface HecAnswer {
  code?: number;
  text?: string;
  invalidEventNumber?: number;
}

function readAnswer(body: string): HecAnswer {
  const parsed = parseJson(body);
  if (!isRecord(parsed)) return {};
  const out: HecAnswer = {};
  if (typeof parsed.code === 'number') out.code = parsed.code;
  if (typeof parsed.text === 'string') out.text = parsed.text;
  const n = parsed['invalid-event-number'];
  if (typeof n === 'number' && Number.isInteger(n)) out.invalidEventNumber = n;
  return out;
}

export function describeSplunkError(status: number, body: string): string | undefined {
  const answer = readAnswer(body);
  if (answer.code !== undefined && answer.code !== 0) {
    const entry = SPLUNK_HEC_CODES[answer.code];
    if (entry) return `Splunk HEC code ${answer.code} (${entry.text}): ${entry.hint}`;
    return `Splunk HEC code ${answer.code}${answer.text ? ` (${answer.text})` : ''}.`;
  }
  if (status === 404)
    return 'Splunk answered 404: check the URL ends in /services/collector/event and that HEC is enabled (Global Settings → All Tokens: Enabled).';
  if (status === 413)
    return 'Splunk refused the request as too large: raise max_content_length in limits.conf, or report it (Aegis keeps requests under 1 MB).';
  return undefined;
}

/**
 * The default sourcetype of OCSF destinations. Splunk's convention for OCSF data is an `ocsf:` prefix
 * on the sourcetype (Edge Processor's `ocsf` command adds it), which is what the OCSF-CIM Add-on and
 * Enterprise Security recognise; ECS destinations keep `aegis:audit`.
 */
export const SPLUNK_OCSF_SOURCETYPE = `ocsf:${SPLUNK_DEFAULT_SOURCETYPE}`;

/** Epoch seconds with milliseconds, as HEC's `time` expects. */
export function hecTime(timestamp: string): number {
  return epochMillis(timestamp) / 1000;
}

/**
 * What every envelope of a request shares: `{"time":` comes first, then these fields as JSON, then
 * the event. Built once per request, not per event: an envelope is then three concatenations.
 */
function envelopeFields(ctx: EncodeContext): string {
  const index = optionString(ctx.options, 'index');
  const fields: Record<string, unknown> = {
    host: optionString(ctx.options, 'host') ?? ctx.hostname,
    source: optionString(ctx.options, 'source') ?? SPLUNK_DEFAULT_SOURCE,
    sourcetype: optionString(ctx.options, 'sourcetype') ?? (ctx.format === 'ocsf' ? SPLUNK_OCSF_SOURCETYPE : SPLUNK_DEFAULT_SOURCETYPE),
  };
  if (index) fields.index = index;
  // `{"host":...}` without its braces, between the time and the event.
  return JSON.stringify(fields).slice(1, -1);
}

/** One envelope: time, the shared fields, and `event` last, spliced in as the event's JSON (the bytes JSON.stringify would write). */
function envelope(event: SiemEvent, ctx: EncodeContext, fields: string): string {
  return `{"time":${JSON.stringify(hecTime(event['@timestamp']))},${fields},"event":${bodyJson(event, ctx)}}`;
}

/** What an envelope holds besides its time, its fields and its event: `{"time":`, two commas, `"event":` and `}`. */
const ENVELOPE_PUNCTUATION = '{"time":,,"event":}'.length;

export const splunkHecEncoder: SiemEncoder = {
  id: 'splunk_hec',
  maxBatchEvents: 1000,
  maxBatchBytes: 1_000_000,
  // Nothing smaller per event is documented for HEC: an event must fit in one request.
  maxEventBytes: 1_000_000,
  gzip: true,
  encode(events, ctx) {
    const fields = envelopeFields(ctx);
    return {
      body: events.map((e) => envelope(e, ctx, fields)).join('\n'),
      contentType: 'application/json',
      headers: {},
      eventIds: events.map(eventIdOf),
    };
  },
  eventBytes(ctx) {
    const fixed = ENVELOPE_PUNCTUATION + byteLength(envelopeFields(ctx));
    return (e) => {
      // Read as encode reads it, so an event encode cannot take (no event.id) throws here too and is
      // dead-lettered alone by the planner, not found out when its whole request is built.
      eventIdOf(e);
      // The time's JSON is ASCII: its length is its bytes.
      return fixed + JSON.stringify(hecTime(e['@timestamp'])).length + byteLength(bodyJson(e, ctx));
    };
  },
  interpret(response: SiemResponse, events: SiemEvent[]): DeliveryVerdict {
    const answer = readAnswer(response.body);
    if (is2xx(response.status)) {
      // A 2xx whose answer names a HEC error (a code other than 0): Splunk itself answers its errors
      // with a 4xx or 5xx, but a proxy or a HEC-compatible receiver in front of it may not, and counted
      // delivered, the events would be lost. Sent again; the hold limit pauses a destination for ever
      // answering so. No code at all (an empty or non-JSON 2xx) stays an acceptance.
      if (answer.code === undefined || answer.code === 0) return { kind: 'all', ok: true, retryable: false };
      return {
        kind: 'all',
        ok: false,
        retryable: true,
        error: `the answer names an error, so its events are sent again: ${describeSplunkError(response.status, response.body)}`,
      };
    }
    const n = answer.invalidEventNumber;
    if (response.status === 400 && answer.code === 6 && n !== undefined && n >= 0 && n < events.length) {
      // Objects before N were indexed; N is bad data; the rest were never read.
      const badError = `Splunk could not parse event ${n} of the batch (HEC code 6, invalid data format)${answer.text ? `: ${snippet(answer.text)}` : ''}.`;
      return {
        kind: 'per_item',
        items: events.map((_, i) =>
          i < n
            ? { outcome: 'done' as const }
            : i === n
              ? { outcome: 'failed' as const, error: badError }
              : { outcome: 'retry' as const, error: `Not indexed: Splunk stopped at event ${n} of the batch.` },
        ),
      };
    }
    return wholeVerdict('Splunk HEC', response, describeSplunkError);
  },
  describeError: describeSplunkError,
};
