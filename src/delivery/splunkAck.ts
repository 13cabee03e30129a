// Splunk HEC indexer acknowledgement, the protocol side: the destination's channel, the ack URL, the
// ackId of an accepted request, and one poll of POST /services/collector/ack. What to do with the
// answers (keeping jobs claimed, settling, timing out) is ackTracker.ts.
import { createHash, randomUUID } from 'node:crypto';
import type { DeliveryDeps, DeliveryTarget } from './deliverBatch.js';
import { targetPool, targetSecrets } from './target.js';
import { classifyResult } from './failure.js';
import { scrubberFor } from './scrubberCache.js';
import { cutAnswer, scrubResult } from './outbound/credentialScrub.js';
import type { OutboundResult } from './outbound/types.js';
import { describeSplunkError } from '../siem/splunk-hec/encoder.js';
import { DEFAULT_MAX_ANSWER_BYTES, isRecord, parseJson } from '../siem/types.js';

export const SPLUNK_CHANNEL_HEADER = 'X-Splunk-Request-Channel';

/** ackIds per POST /services/collector/ack: keeps the answer (~15 bytes an id) far below the client's read cap. */
export const ACK_QUERY_MAX_IDS = 1000;

/** Whether this destination asks Splunk for indexer acknowledgement (options.indexer_ack: true). */
export function indexerAckOn(target: Pick<DeliveryTarget, 'siem' | 'options'>): boolean {
  return target.siem === 'splunk_hec' && target.options['indexer_ack'] === true;
}

/**
 * This process's instance id: random, made when the process starts. Each worker process has channels
 * of its own (see splunkChannel).
 */
export const PROCESS_INSTANCE_ID: string = randomUUID();

/**
 * The destination's HEC channel in this worker process: a GUID (Splunk refuses anything else, code
 * 11) derived from the destination id and the process's instance id, so it is the same for every
 * request and ack poll of the process, and never another process's. Splunk numbers ackIds per channel
 * from 0 and starts again at 0 when it restarts: two processes sharing a channel would share one
 * ackId sequence, and after a restart one's ackId 7 would confirm the other's lost ackId 7. Splunk
 * holds ack state per channel: one per destination and worker process (a restarted process uses a new
 * one; Splunk drops idle channels).
 */
export function splunkChannel(destinationId: string, instanceId: string = PROCESS_INSTANCE_ID): string {
  const h = createHash('sha256').update(`aegis-splunk-hec-channel:${instanceId}:${destinationId}`).digest('hex');
  // Formatted as a name-based UUID (version 5 nibble, RFC 4122 variant), lowercase.
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The channel of requests whose ackId nobody polls (Save & test): never the channel whose ackIds the
 * worker tracks, where such a request's ackId, unknown to the tracker, could be mistaken after a
 * Splunk restart for a tracked request's.
 */
export function splunkUntrackedChannel(destinationId: string): string {
  return splunkChannel(destinationId, `${PROCESS_INSTANCE_ID}:untracked`);
}

/**
 * The ack endpoint for an event URL: the same origin and path prefix (a proxy may mount HEC under a
 * prefix), `/services/collector/ack`, and the channel also as the `channel` query parameter, which
 * Splunk accepts in place of the header.
 */
export function splunkAckUrl(eventUrl: string, channel: string): string {
  const u = new URL(eventUrl);
  const at = u.pathname.indexOf('/services/collector');
  const prefix = at >= 0 ? u.pathname.slice(0, at) : '';
  u.pathname = `${prefix}/services/collector/ack`;
  u.search = '';
  u.hash = '';
  u.searchParams.set('channel', channel);
  return u.toString();
}

/** Why a 2xx under indexer acknowledgement is a failed attempt when its ackId cannot be read. */
export const ACK_UNREADABLE_ERROR =
  'Splunk accepted the request, but its answer carries no ackId that can be read (compressed, empty, cut short or malformed), so nothing confirms the events were indexed (indexer acknowledgement is on); Aegis will send them again.';

/**
 * What an accepted HEC request's answer says about acknowledgement: its ackId
 * (`{"text":"Success","code":0,"ackId":N}`); `off` for the answer of a token without acknowledgement
 * (`{"text":"Success","code":0}`: a readable success with no ackId at all); `unreadable` for anything
 * else. A 2xx that cannot be read (compressed, empty, cut short, an ackId that is no count) confirms
 * nothing, and must not pass for a token with acknowledgement off: that would count events delivered
 * that Splunk never said it indexed.
 */
export type AckAnswer = { kind: 'ack_id'; ackId: number } | { kind: 'off' } | { kind: 'unreadable' };

export function readAckAnswer(body: string): AckAnswer {
  const parsed = parseJson(body);
  if (!isRecord(parsed)) return { kind: 'unreadable' };
  if (!Object.hasOwn(parsed, 'ackId')) return parsed['code'] === 0 ? { kind: 'off' } : { kind: 'unreadable' };
  const id = parsed['ackId'];
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? { kind: 'ack_id', ackId: id } : { kind: 'unreadable' };
}

export interface AckPoll {
  /** ackIds Splunk reported indexed. Everything else asked about is not (yet): Splunk says false for unknown ids too. */
  acked: Set<number>;
  /** Why the poll failed (scrubbed, action-oriented), or null when Splunk answered the poll. */
  error: string | null;
}

/**
 * How much of a poll's answer is read: an error's text, and an entry per id ("123456789":false,).
 * Every byte read is scrubbed on the worker's one thread, and a poll runs every 2 s per destination
 * for as long as its acknowledgements are awaited: the client's default 64 KiB of a hostile answer
 * cost each poll several ms, for an answer that needs a few hundred bytes.
 */
const ackAnswerBytes = (ids: number) => DEFAULT_MAX_ANSWER_BYTES + 32 * ids;

/** How much of a refused ack poll is read: Splunk's error answers are a line of JSON. */
const ACK_REFUSAL_READ_CHARS = 4096;

/** One POST /services/collector/ack for up to ACK_QUERY_MAX_IDS ackIds of this destination's channel in this process. Never throws: a failed poll is its scrubbed error. */
export async function queryAcks(deps: Pick<DeliveryDeps, 'client'>, target: DeliveryTarget, ackIds: number[]): Promise<AckPoll> {
  const channel = splunkChannel(target.id);
  const headers: Record<string, string> = { 'content-type': 'application/json', [SPLUNK_CHANNEL_HEADER]: channel };
  if (target.authHeaderName && target.authHeaderValue) headers[target.authHeaderName] = target.authHeaderValue;
  const scrub = scrubberFor(target.id, targetSecrets(target), target.orgId);
  const acked = new Set<number>();
  const failed = (why: string): AckPoll => ({ acked, error: scrub(`Polling Splunk for acknowledgements failed: ${why}`) });
  let sent: OutboundResult;
  try {
    sent = await deps.client.send({
      url: splunkAckUrl(target.url, channel),
      headers,
      body: JSON.stringify({ acks: ackIds }),
      gzip: false,
      maxResponseBytes: ackAnswerBytes(ackIds.length),
      ...targetPool(target),
    });
  } catch (err) {
    // The client resolves every network failure; anything else is unexpected, and said scrubbed too.
    return failed((err as Error).message);
  }
  // A refusal is scrubbed before it is read: the error sentences below clip the body, and a secret the
  // clip cut would no longer match a scrub of the sentence. Its start only: scrubbed here on the loop,
  // every poll. An acceptance is not scrubbed at all (up to 40 KiB every 2 s a destination, a review's
  // hostile Splunk made slow to scrub): nothing of it is kept or shown but the ackIds it confirms.
  if (sent.kind === 'network' || sent.status < 200 || sent.status >= 300) {
    const result = scrubResult(cutAnswer(sent, ACK_REFUSAL_READ_CHARS), scrub);
    if (result.kind === 'network') return failed(classifyResult(result).error ?? 'network error');
    return failed(classifyResult(result, describeSplunkError(result.status, result.body)).error ?? `HTTP ${result.status}`);
  }
  const parsed = parseJson(sent.body);
  const acks = isRecord(parsed) ? parsed['acks'] : undefined;
  if (!isRecord(acks)) return { acked, error: 'Splunk answered the acknowledgement poll without an "acks" object; check the URL is Splunk HEC.' };
  for (const id of ackIds) if (acks[String(id)] === true) acked.add(id);
  return { acked, error: null };
}
