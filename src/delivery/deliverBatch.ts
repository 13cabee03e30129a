import type { Db } from '../db/types.js';
import type { KeyRing } from '../crypto/keyring.js';
import type { OutboundClient } from './outbound/client.js';
import type { DeliveryOutcome, RequestResult } from './outcome.js';
import { interpretAnswer } from './interpretAnswer.js';
import { getEncoder } from '../siem/registry.js';
import { eventIdOf } from '../siem/storedEvent.js';
import type { SiemId } from '../siem/catalog.js';
import { maxAnswerBytesOf, type EncodeContext, type SiemEvent } from '../siem/types.js';
import type { OutputFormat } from '../siem/outputFormat.js';
import { standardWebhookHeaders } from '../siem/standardWebhooks.js';
import { scrubAnswer, scrubTexts, type ScrubOwner } from './scrubThread.js';
import { clip } from './failure.js';
import type { Scrubber } from './scrubSecrets.js';
import type { AnswerText } from './outbound/credentialScrub.js';
import { scrubberFor } from './scrubberCache.js';
import { targetPool, targetSecrets } from './target.js';
import { indexerAckOn, SPLUNK_CHANNEL_HEADER, splunkUntrackedChannel } from './splunkAck.js';
import { TokenCache } from './oauth2/tokenCache.js';
import { requestToken, type OAuth2ClientCredentials, type TokenResult } from './oauth2/tokenRequest.js';

/** Everything needed to send to SIEMs, shared by the worker and the synchronous test probe. */
export interface DeliveryDeps {
  db: Db;
  keyRing: KeyRing;
  client: OutboundClient;
  /** Reported to SIEMs as the sending host (Splunk host, Datadog hostname). */
  hostname: string;
  userAgent: string;
  /** OAuth2 access tokens per destination (delivery/oauth2/); one per process, shared by worker and probe. */
  tokens?: TokenCache;
}

/** What sending one request needs: no database, no key ring (the target's credentials are open). */
export type SendDeps = Pick<DeliveryDeps, 'client' | 'hostname' | 'userAgent' | 'tokens'>;

/** A destination with its credentials opened, ready to send to. Lives only in memory. */
export interface DeliveryTarget {
  orgId: string;
  id: string;
  siem: SiemId;
  url: string;
  authHeaderName: string | null;
  authHeaderValue: string | null;
  signingSecret: string | null;
  /** A rotated-out signing secret that still signs until `until` (AEGIS_SIGNING_OVERLAP_HOURS). */
  previousSigningSecret: { secret: string; until: Date } | null;
  /** OAuth2 client credentials (Microsoft Sentinel, or a custom webhook): a Bearer token per request. */
  oauth: OAuth2ClientCredentials | null;
  options: Record<string, string | number | boolean>;
  /** The object sent: the ECS wire event or its OCSF form. */
  format: OutputFormat;
}

/** One request's result: every event's outcome (outcome.ts), and what the delivery log records. */
export interface RequestOutcome extends RequestResult {
  durationMs: number;
  responseSnippet: string | null;
  /**
   * Splunk indexer acknowledgement: the request was accepted under this ackId, and its events are
   * delivered only once Splunk confirms it (ackTracker.ts). Absent when acknowledgement is off, or
   * when the token answered without one (acknowledgement disabled for it: delivered on the 2xx).
   */
  ackId?: number;
}

/**
 * The context the encoder sees for this destination. planBatches must size groups with this same
 * context (preset options such as a Splunk index or Elastic data stream change every line's length).
 */
export function encodeContext(deps: Pick<DeliveryDeps, 'hostname' | 'userAgent'>, target: DeliveryTarget): EncodeContext {
  return { hostname: deps.hostname, options: target.options, userAgent: deps.userAgent, format: target.format };
}

export interface SendOptions {
  /**
   * Splunk indexer acknowledgement: the channel whose ackIds this worker process tracks
   * (splunkChannel). Without it a request goes on a channel no one polls (splunkUntrackedChannel).
   */
  ackChannel?: string;
}

/**
 * sendUnscrubbed, with the destination's credentials scrubbed
 * (every spelling: see scrubSecrets.ts) from everything the answer could carry into storage or onto
 * a screen: the response is scrubbed before the preset reads it, and the texts derived from it are
 * scrubbed again on the way out, so a preset that decodes an escaped body cannot bring one back.
 */
export async function sendRequest(deps: SendDeps, target: DeliveryTarget, events: SiemEvent[], opts: SendOptions = {}): Promise<RequestOutcome> {
  // The access tokens used are secrets too; they join the list as they are fetched.
  const secrets = targetSecrets(target);
  let built: { n: number; scrub: Scrubber } | null = null;
  const scrub: Scrubber = (text, cut) => {
    if (built?.n !== secrets.length) built = { n: secrets.length, scrub: scrubberFor(target.id, secrets, target.orgId) };
    return built.scrub(text, cut);
  };
  try {
    const owner: ScrubOwner = { orgId: target.orgId, destinationId: target.id, secrets };
    return await scrubOutcome(await sendUnscrubbed(deps, target, events, scrub, secrets, opts), scrub, owner);
  } catch (err) {
    // An internal error's message may quote the answer (JSON.parse quotes its input). Its stack too:
    // it starts with the message as it was when first read, and the API's error handler logs it.
    if (err instanceof Error) {
      err.message = scrub(err.message);
      if (typeof err.stack === 'string') err.stack = scrub(err.stack);
    }
    throw err;
  }
}

/**
 * The texts of an outcome scrubbed again (scrubTexts: a thousand refused items' reasons are a large
 * scrub, done off the event loop like a large answer).
 */
async function scrubOutcome(out: RequestOutcome, scrub: Scrubber, owner: ScrubOwner): Promise<RequestOutcome> {
  const texts: AnswerText[] = [];
  const add = (text: string) => texts.push({ text, cut: false });
  for (const item of out.items) if (!item.ok) add(item.reason);
  if (out.error !== null) add(out.error);
  if (out.responseSnippet !== null) add(out.responseSnippet);
  const scrubbed = await scrubTexts(texts, scrub, owner);
  let i = 0;
  return {
    ...out,
    items: out.items.map((item) => (item.ok ? item : { ...item, reason: scrubbed[i++]! })),
    error: out.error === null ? null : scrubbed[i++]!,
    responseSnippet: out.responseSnippet === null ? null : scrubbed[i++]!,
  };
}

/** Token caches of deps built without one (kept with them). */
const fallbackTokens = new WeakMap<SendDeps, TokenCache>();

/** The deps' token cache (one is made for deps built without one, and kept with them). */
function tokenCache(deps: SendDeps): TokenCache {
  if (deps.tokens) return deps.tokens;
  let cache = fallbackTokens.get(deps);
  if (!cache) fallbackTokens.set(deps, (cache = new TokenCache()));
  return cache;
}

/** Adds `secret` to the request's secrets once (a repeat would only make the scrubber's list longer). */
function addSecret(secrets: Array<string | null>, secret: string): void {
  if (!secrets.includes(secret)) secrets.push(secret);
}

/**
 * Every access token this process handed out for the target and not yet expired joins the request's
 * secrets (TokenCache.liveTokens), not only the one the request carries: the one it replaced is still
 * valid, and a token endpoint or a SIEM may quote it.
 */
function addLiveTokens(deps: SendDeps, target: DeliveryTarget, secrets: Array<string | null>): void {
  for (const token of tokenCache(deps).liveTokens(`${target.orgId}/${target.id}`)) addSecret(secrets, token);
}

/** An access token for the target: cached, or fetched from its token endpoint. */
function accessToken(
  deps: SendDeps,
  target: DeliveryTarget & { oauth: OAuth2ClientCredentials },
): Promise<TokenResult & { cached?: boolean; refusedRecently?: true }> {
  const oauth = target.oauth;
  return tokenCache(deps).get(`${target.orgId}/${target.id}`, oauth, () => requestToken(deps.client, oauth));
}

/**
 * The outcome when no token could be had: every event is retried (the product's rule), with the
 * token endpoint's sentence; the SIEM was not reached, so there is no status code. The sentence
 * (already scrubbed) is clipped again here: it becomes every job's last_error, each attempt's error,
 * the destination's last_error and an alert's hint, so whatever requestToken let through, it is one
 * line of at most MAX_ERROR_LENGTH characters.
 */
function tokenFailure(events: SiemEvent[], sentence: string, durationMs: number, rateLimited?: { retryAfterMs?: number }): RequestOutcome {
  const error = clip(sentence);
  // A token endpoint's 429 paces the destination as a SIEM's would: every event "shed", so the request
  // is given back without an attempt and nothing is sent before its Retry-After (outcome.ts decide).
  const item: DeliveryOutcome = {
    ok: false,
    stage: 'before_send',
    reason: error,
    statusCode: null,
    permanent: false,
    ...(rateLimited ? { throttled: true, ...(rateLimited.retryAfterMs !== undefined ? { retryAfterMs: rateLimited.retryAfterMs } : {}) } : {}),
  };
  return { items: events.map(() => item), statusCode: null, error, durationMs, responseSnippet: null };
}

/**
 * Sends one request carrying `events` (already sized by planBatches) and reports how each event
 * fared (interpretAnswer.ts).
 */
async function sendUnscrubbed(
  deps: SendDeps,
  target: DeliveryTarget,
  events: SiemEvent[],
  scrub: Scrubber,
  secrets: Array<string | null>,
  opts: SendOptions,
): Promise<RequestOutcome> {
  const encoder = getEncoder(target.siem);
  const encoded = encoder.encode(events, encodeContext(deps, target));
  // Copied, then added to; not `{ ...encoded.headers, 'content-type': ... }`: once optimised, V8 gives
  // each object spread that adds a key a hidden class of its own, and every later key added, and every
  // read of the headers in the outbound client, then pays for a class never seen before (3.6 against
  // 1.0 µs to build these headers and list them once, in a loop).
  const headers: Record<string, string> = Object.assign({}, encoded.headers);
  headers['content-type'] = encoded.contentType;
  if (target.authHeaderName && target.authHeaderValue) headers[target.authHeaderName] = target.authHeaderValue;
  const ack = indexerAckOn(target);
  // The channel whose ackIds the worker's tracker polls (deliverClaim.ts), or one no one polls.
  if (ack) headers[SPLUNK_CHANNEL_HEADER] = opts.ackChannel ?? splunkUntrackedChannel(target.id);
  if (target.signingSecret && events.length === 1) {
    const now = Date.now();
    // Checked per request: a worker holds its target across many requests, past the overlap's end.
    const previous = target.previousSigningSecret && target.previousSigningSecret.until.getTime() > now ? target.previousSigningSecret.secret : null;
    Object.assign(
      headers,
      standardWebhookHeaders({ secret: target.signingSecret, id: eventIdOf(events[0]!), timestamp: Math.floor(now / 1000), body: encoded.body }, previous),
    );
  }
  let tokenMs = 0;
  let bearer: string | null = null;
  let bearerWasCached = false;
  const withOAuth = target.oauth ? (target as DeliveryTarget & { oauth: OAuth2ClientCredentials }) : null;
  if (withOAuth) {
    // Before the token request: a refused refresh may quote the token it would have replaced.
    addLiveTokens(deps, target, secrets);
    const token = await accessToken(deps, withOAuth);
    tokenMs += token.durationMs;
    if (!token.ok) return tokenFailure(events, scrub(token.error), tokenMs, token.rateLimited);
    bearer = token.token;
    bearerWasCached = token.cached === true;
    addSecret(secrets, bearer);
    headers['authorization'] = `Bearer ${bearer}`;
  }
  const pool = targetPool(target);
  const maxResponseBytes = maxAnswerBytesOf(encoder, events.length);
  const url = encoder.requestUrl ? encoder.requestUrl(target.url) : target.url;
  let sent = await deps.client.send({ url, headers, body: encoded.body, gzip: encoder.gzip, maxResponseBytes, ...pool });
  if (withOAuth && bearer !== null && sent.kind === 'response' && sent.status === 401) {
    // A cached token was revoked or expired early (a key rollover, a clock skew): drop it and try
    // once more with a fresh one. A token fetched for this very request is not fetched again: a SIEM
    // that refuses every token would otherwise cost a token request and a resend on each request.
    // Either way it is dropped, and a second 401 is the SIEM's answer, reported as usual.
    tokenCache(deps).invalidate(`${target.orgId}/${target.id}`, bearer);
  }
  const refusedToken = withOAuth && bearerWasCached && sent.kind === 'response' && sent.status === 401;
  const token = refusedToken ? await accessToken(deps, withOAuth) : null;
  // No new token now (TokenCache: tokens refused one after another are replaced at a bounded pace):
  // the SIEM's 401 is the answer.
  if (token && !(!token.ok && token.refusedRecently)) {
    tokenMs += token.durationMs + sent.durationMs;
    if (!token.ok) return tokenFailure(events, scrub(token.error), tokenMs, token.rateLimited);
    addSecret(secrets, token.token);
    headers['authorization'] = `Bearer ${token.token}`;
    sent = await deps.client.send({ url, headers, body: encoded.body, gzip: encoder.gzip, maxResponseBytes, ...pool });
  }
  if (tokenMs > 0) sent = { ...sent, durationMs: sent.durationMs + tokenMs };
  // And after it: a request of the destination that ran meanwhile may have fetched a newer token,
  // which this answer may quote as well (an attacker review).
  if (withOAuth) addLiveTokens(deps, target, secrets);
  // A large answer (an Elastic _bulk answer may be a megabyte) is scrubbed off the event loop.
  const result = await scrubAnswer(sent, scrub, { orgId: target.orgId, destinationId: target.id, secrets });
  return interpretAnswer(result, encoder, events, ack);
}
