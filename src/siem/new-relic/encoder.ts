// New Relic Log API: detailed JSON format with common attributes.
import { eventIdOf } from '../storedEvent.js';
import type { DeliveryVerdict, EncodeContext, SiemEncoder, SiemEvent, SiemResponse } from '../types.js';
import { epochMillis, bodyJson, isRecord, optionString, parseJson, wholeVerdict } from '../types.js';

function commonAttributes(ctx: EncodeContext): Record<string, unknown> {
  return {
    service: optionString(ctx.options, 'service') ?? 'aegis-audit-stream',
    // Parsing rules key on logtype: the OCSF shape gets its own.
    logtype: optionString(ctx.options, 'logtype') ?? (ctx.format === 'ocsf' ? 'aegis.audit.ocsf' : 'aegis.audit'),
  };
}

function errorMessage(body: string): string | undefined {
  const parsed = parseJson(body);
  if (!isRecord(parsed)) return undefined;
  const err = parsed.error;
  if (isRecord(err) && typeof err.message === 'string') return err.message;
  if (typeof err === 'string') return err;
  return undefined;
}

export function describeNewRelicError(status: number, body: string): string | undefined {
  const detail = errorMessage(body);
  const suffix = detail ? ` (New Relic: ${detail})` : '';
  switch (status) {
    case 401:
    case 403:
      return `New Relic refused the key: use an INGEST - LICENSE key (ends in NRAL) of this account's region, in the Api-Key header, and check it hasn't been deleted${suffix}.`;
    case 413:
      return `New Relic refused the request as over 1 MB; Aegis keeps batches smaller, so report this${suffix}.`;
    case 429:
      return `New Relic is rate limiting this account${suffix}; Aegis will retry later, honouring Retry-After.`;
    case 400:
      return detail ? `New Relic refused the payload: ${detail}.` : undefined;
    default:
      return undefined;
  }
}

export const newRelicEncoder: SiemEncoder = {
  id: 'new_relic',
  maxBatchEvents: 10_000,
  maxBatchBytes: 1_000_000,
  maxEventBytes: 1_000_000,
  gzip: true,
  maxEventAgeMs: 48 * 60 * 60 * 1000,
  encode(events, ctx) {
    // [{"logs":[{message, timestamp, attributes: event}, ...],"common":{...}}], with each event's
    // cached JSON spliced in as its attributes. The key order is @newrelic/telemetry-sdk's (LogBatch,
    // Log), so the body is byte for byte what New Relic's own client sends (src/siem/vendorClients.test.ts).
    const logs = events.map(
      (e) => `{"message":${JSON.stringify(e.aegis.summary)},"timestamp":${JSON.stringify(epochMillis(e['@timestamp']))},"attributes":${bodyJson(e, ctx)}}`,
    );
    return {
      body: `[{"logs":[${logs.join(',')}],"common":${JSON.stringify({ attributes: commonAttributes(ctx) })}}]`,
      contentType: 'application/json',
      headers: {},
      eventIds: events.map(eventIdOf),
    };
  },
  interpret(response: SiemResponse, _events: SiemEvent[]): DeliveryVerdict {
    return wholeVerdict('New Relic', response, describeNewRelicError);
  },
  describeError: describeNewRelicError,
};
