// Custom HTTPS webhook: one plain ECS object per POST, event.id in Idempotency-Key,
// optionally signed per Standard Webhooks when options.signingSecret is set.
import { eventIdOf } from '../storedEvent.js';
import type { DeliveryVerdict, SiemEncoder, SiemEvent, SiemResponse } from '../types.js';
import { bodyJson, optionString, wholeVerdict } from '../types.js';
import { standardWebhookHeaders } from '../standardWebhooks.js';

export function describeCustomError(status: number, _body: string): string | undefined {
  if (status === 410) return 'The receiver answered 410 Gone, which Standard Webhooks uses to say "stop sending": check the URL or disable this destination.';
  return undefined;
}

export const customEncoder: SiemEncoder = {
  id: 'custom',
  maxBatchEvents: 1,
  maxBatchBytes: 1_000_000,
  // No documented limit: the receiver decides (a 413 for the event alone dead-letters it).
  maxEventBytes: Number.POSITIVE_INFINITY,
  gzip: false,
  encode(events, ctx) {
    if (events.length !== 1) throw new Error(`custom webhook sends one event per request, got ${events.length}`);
    const event = events[0]!;
    const body = bodyJson(event, ctx);
    const id = eventIdOf(event);
    const headers: Record<string, string> = { 'Idempotency-Key': id };
    const secret = optionString(ctx.options, 'signingSecret');
    if (secret && !id.includes('.')) {
      const timestamp = Math.floor((ctx.now ?? Date.now)() / 1000);
      Object.assign(headers, standardWebhookHeaders({ secret, id, timestamp, body }));
    }
    return { body, contentType: 'application/json', headers, eventIds: [id] };
  },
  interpret(response: SiemResponse, _events: SiemEvent[]): DeliveryVerdict {
    return wholeVerdict('The webhook', response, describeCustomError);
  },
  describeError: describeCustomError,
};
