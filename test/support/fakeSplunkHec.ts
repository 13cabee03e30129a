// A stand-in Splunk HTTP Event Collector with indexer acknowledgement, as a handler for the real HTTPS
// receiver (httpsReceiver.ts). What it implements, after Splunk's "About HTTP Event Collector Indexer
// Acknowledgment" and public HEC clients:
//   POST /services/collector/event  without X-Splunk-Request-Channel -> 400 {"text":"Data channel is missing","code":10}
//                                   with one -> 200 {"text":"Success","code":0,"ackId":N}, N counting from 0 per channel
//   POST /services/collector/ack    channel from the header or ?channel=, body {"acks":[N,...]}
//                                   -> 200 {"acks":{"N":true|false,...}} (false for unknown ids too)
// When an ackId turns true is the test's choice (`indexed`); `ackEnabled: false` answers like a token
// without acknowledgement (no ackId; /ack -> 400 code 14).
import type { ReceivedRequest, ReceiverHandler, ReceiverResponse } from './httpsReceiver.js';

export interface HecRequest {
  channel: string;
  ackId: number;
  eventIds: string[];
  receivedAt: number;
}

export interface AckPollRecord {
  channel: string;
  ids: number[];
  answered: Record<string, boolean>;
}

export interface FakeSplunkHec {
  handler: ReceiverHandler;
  /** Accepted event requests, in order. */
  accepted: HecRequest[];
  polls: AckPollRecord[];
  /** Decides whether a request's events count as indexed when polled (default: at once). */
  indexed: (req: HecRequest) => boolean;
  ackEnabled: boolean;
  /** Rewrites the answer to an accepted event request (default: Splunk's own). */
  answer: (req: HecRequest, splunks: ReceiverResponse) => ReceiverResponse;
}

function header(req: ReceivedRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function fakeSplunkHec(eventIdsOf: (req: ReceivedRequest) => string[]): FakeSplunkHec {
  const nextAck = new Map<string, number>();
  const byChannel = new Map<string, Map<number, HecRequest>>();
  const fake: FakeSplunkHec = {
    accepted: [],
    polls: [],
    indexed: () => true,
    ackEnabled: true,
    answer: (_req, splunks) => splunks,
    handler: (req) => {
      const json = (status: number, body: unknown) => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const url = new URL(req.path, 'https://splunk.invalid');
      const channel = header(req, 'x-splunk-request-channel') ?? url.searchParams.get('channel') ?? undefined;
      if (url.pathname.endsWith('/services/collector/ack')) {
        if (!fake.ackEnabled) return json(400, { text: 'ACK is disabled', code: 14 });
        if (!channel) return json(400, { text: 'Data channel is missing', code: 10 });
        const ids = (JSON.parse(req.body.toString('utf8')) as { acks: number[] }).acks;
        const known = byChannel.get(channel) ?? new Map<number, HecRequest>();
        const answered: Record<string, boolean> = {};
        for (const id of ids) {
          const r = known.get(id);
          answered[String(id)] = r !== undefined && fake.indexed(r);
          // Splunk forgets an ack once it has reported it true.
          if (answered[String(id)]) known.delete(id);
        }
        fake.polls.push({ channel, ids, answered });
        return json(200, { acks: answered });
      }
      if (!fake.ackEnabled) return json(200, { text: 'Success', code: 0 });
      if (!channel) return json(400, { text: 'Data channel is missing', code: 10 });
      const ackId = nextAck.get(channel) ?? 0;
      nextAck.set(channel, ackId + 1);
      const r: HecRequest = { channel, ackId, eventIds: eventIdsOf(req), receivedAt: Date.now() };
      fake.accepted.push(r);
      if (!byChannel.has(channel)) byChannel.set(channel, new Map());
      byChannel.get(channel)!.set(ackId, r);
      return fake.answer(r, json(200, { text: 'Success', code: 0, ackId }));
    },
  };
  return fake;
}
