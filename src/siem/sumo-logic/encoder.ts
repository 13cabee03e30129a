// Sumo Logic HTTP Logs and Metrics Source: newline-delimited compact JSON.
import { eventIdOf } from '../storedEvent.js';
import type { DeliveryVerdict, EncodeContext, SiemEncoder, SiemEvent, SiemResponse } from '../types.js';
import { bodyJson, isRecord, optionString, safeHeaderValue, wholeVerdict } from '../types.js';

/** X-Sumo-Fields value from options.fields: either "k=v,k2=v2" or an object of strings. */
function sumoFields(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v.trim();
  if (isRecord(v)) {
    const parts = Object.entries(v)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .map(([k, val]) => `${k}=${val}`);
    return parts.length > 0 ? parts.join(',') : undefined;
  }
  return undefined;
}

export function sumoHeaders(ctx: EncodeContext): Record<string, string> {
  const headers: Record<string, string> = {};
  const add = (name: string, value: string | undefined) => {
    const safe = safeHeaderValue(value);
    if (safe !== undefined) headers[name] = safe;
  };
  add('X-Sumo-Category', optionString(ctx.options, 'category'));
  add('X-Sumo-Name', optionString(ctx.options, 'sourceName'));
  add('X-Sumo-Host', optionString(ctx.options, 'sourceHost'));
  add('X-Sumo-Fields', sumoFields(ctx.options.fields));
  return headers;
}

export function describeSumoError(status: number, _body: string): string | undefined {
  switch (status) {
    case 401:
      return 'Sumo Logic refused the source URL token: copy the HTTP Source URL again (it changes when the URL is regenerated), or check the x-sumo-token value.';
    case 404:
      return 'Sumo Logic does not know this address: copy the HTTP Source URL again from Collection → your source → Show URL.';
    case 429:
      return 'Sumo Logic is throttling this account (ingest quota); Aegis will retry.';
    default:
      return undefined;
  }
}

export const sumoLogicEncoder: SiemEncoder = {
  id: 'sumo_logic',
  maxBatchEvents: 10_000,
  maxBatchBytes: 1_000_000,
  maxEventBytes: 1_000_000,
  gzip: true,
  encode(events, ctx) {
    return {
      body: events.map((e) => `${bodyJson(e, ctx)}\n`).join(''),
      contentType: 'application/json',
      headers: sumoHeaders(ctx),
      eventIds: events.map(eventIdOf),
    };
  },
  interpret(response: SiemResponse, _events: SiemEvent[]): DeliveryVerdict {
    return wholeVerdict('Sumo Logic', response, describeSumoError);
  },
  describeError: describeSumoError,
};
