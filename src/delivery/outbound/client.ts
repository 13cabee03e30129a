// The outbound HTTP layer shared by the delivery worker and the synchronous test probe.
// One undici Agent (keep-alive, no pipelining). Every new connection resolves DNS in our own lookup,
// which fails the connection when ANY resolved address is forbidden, so DNS rebinding cannot slip
// through between a check and the connect. IP literals (which never reach a lookup) and localhost are
// refused before dispatch. Redirects are never followed; the response body read is capped, and so is
// the number of informational (1xx) answers before the final one; network problems never throw:
// send() always resolves an OutboundResult.
// Its parts: guardedLookup.ts (the address guard), agents.ts (how a connection is made), pools.ts
// (the shared and per-destination pools), responseBody.ts (the capped read), networkFailure.ts (an
// error's failure class, the 1xx cap), credentialScrub.ts (credentials out of what is handed back).
import { promisify } from 'node:util';
import { gzip as gzipCb, gzipSync } from 'node:zlib';
import { agentFactory } from './agents.js';
import { isCredentialHeader, scrubbedResponseHeaders, scrubMessage } from './credentialScrub.js';
import { FORBIDDEN_ERROR_CODE, type ResolveAddresses } from './guardedLookup.js';
import { failureFor, innermost, MAX_INFORMATIONAL_ANSWERS, TOO_MANY_INFORMATIONAL_CODE } from './networkFailure.js';
import { createDestinationPools } from './pools.js';
import { readCappedBody } from './responseBody.js';
import { isDroppedOutbound } from '../../destinations/headerRules.js';
import { scrubberFor } from '../scrubberCache.js';
import type { NetworkFailure, NetworkResult, OutboundResult, ResponseResult } from './types.js';
import { urlChecker } from './url.js';

export type { NetworkFailure, OutboundResult } from './types.js';
export type { ResolveAddresses } from './guardedLookup.js';

const gzip = promisify(gzipCb);

/**
 * Bodies up to this size are gzipped on the event loop, bigger ones in the thread pool. A trip
 * through the pool (a zlib stream, a task, a wake-up) costs about 100 µs of CPU a call whatever the
 * size, more than compressing a small body: the requests of a destination sending as events come (a
 * few to a few dozen events) cost the worker 6-8 µs per event in gzip that way, against 2-4 on the
 * loop (docs/BENCHMARKS.md). The bound is what a tenant can make the loop wait: 16 KiB of the least
 * compressible text a record allows takes up to about 0.7 ms (64 KiB took 1.5-2.9 ms in an attacker
 * review), typical events about 0.1 ms; a big batch (a Splunk HEC request is up to 1 MB) stays off
 * the loop, so that it cannot stall every other destination's requests.
 */
export const GZIP_ON_LOOP_MAX_BYTES = 16 * 1024;

export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
/** The overall cap on one request, in units of the timeout: queueing for a connection plus each phase. */
export const OVERALL_TIMEOUT_FACTOR = 3;

export interface OutboundClientOptions {
  /** AEGIS_ALLOW_PRIVATE_DESTINATIONS: allow http://, loopback and private addresses. */
  allowPrivate: boolean;
  /**
   * AEGIS_HTTP_TIMEOUT_MS, for each phase on its own: connect and TLS, the answer's headers after the
   * request is sent, the body. Queueing for a pooled connection is bounded by 3x this overall.
   */
  timeoutMs: number;
  /** How much of the response body to read when a request names no cap of its own (default 64 KiB); the rest is discarded. */
  maxResponseBytes?: number;
  userAgent: string;
  /** Extra CA certificates (PEM) trusted in addition to Node's defaults and NODE_EXTRA_CA_CERTS. */
  ca?: string | string[];
  /** Connections per origin of the shared pool, and of a destination's own pool without `connections` (default 16). */
  connections?: number;
  /** Destinations with connection pools of their own at once (default DEFAULT_MAX_POOLS). */
  maxPools?: number;
  /** DNS resolution, replaceable in tests; the forbidden-address check applies to whatever it returns. */
  resolveAddresses?: ResolveAddresses;
}

export interface OutboundRequest {
  url: string;
  headers: Record<string, string>;
  body: string | Buffer;
  gzip?: boolean;
  signal?: AbortSignal;
  /**
   * The destination this request is for: its requests get connections of their own (up to
   * `connections`), so a destination whose SIEM holds every socket open, or a tenant with a huge
   * backlog, never queues another destination's requests to the same origin (two customers of one
   * Datadog site share an origin). Without it the request uses the shared pool.
   */
  poolKey?: string;
  /** The organization of the destination: its share of the scrubber cache (scrubberCache.ts). */
  orgId?: string;
  /**
   * Read at most this much of the answer, instead of the client's maxResponseBytes; more than that
   * only of a 2xx (a refusal is read up to the client's cap at most). A delivery names its preset's
   * share for the batch (an Elastic _bulk answer grows with its items: siem/types.ts maxAnswerBytesOf),
   * an ack poll what its ids need; other callers (token requests, alert webhooks) read the default.
   */
  maxResponseBytes?: number;
  /**
   * Connections of the destination's own pool: its max_concurrent_requests, so a destination allowed
   * 2 requests at once never holds 16 sockets (and one allowed 64 is not held to 16). A changed value
   * applies once the pool is idle.
   */
  connections?: number;
}

export interface OutboundClient {
  send(req: OutboundRequest): Promise<OutboundResult>;
  /** Destinations holding a connection pool of their own now (bounded by maxPools). */
  poolCount(): number;
  close(): Promise<void>;
}

/** Informational answers that outlast the headers' timeout: reported as that timeout (see send). */
function informationalTimeout(): Error {
  return Object.assign(new Error('only informational (1xx) answers within the headers timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
}

/** Said of "the peer", as BAD_RESPONSE below; failure.ts names the SIEM, token endpoint or webhook and its host. */
const TOO_MANY_INFORMATIONAL = `the peer sent more than ${MAX_INFORMATIONAL_ANSWERS} informational (1xx) answers without a final one`;

/** Thrown from onInfo past MAX_INFORMATIONAL_ANSWERS: undici drops the connection and rejects with it. */
function tooManyInformational(): Error {
  return Object.assign(new Error(TOO_MANY_INFORMATIONAL), { code: TOO_MANY_INFORMATIONAL_CODE });
}

/**
 * Why undici dropped a connection with "bad response": a 100 Continue, which it never asked for (it
 * sends no Expect header) and does not accept unasked, or bytes that answer no request. Said of "the
 * peer", with no retry promised: this client also sends alert webhooks and OAuth2 token requests, and
 * whether anything is retried is each caller's to say (delivery retries every network error).
 */
const BAD_RESPONSE =
  'the peer answered something that is not a valid HTTP response (an unasked 100 Continue, or an answer to no request); check any proxy or load balancer in front of it.';

export function createOutboundClient(opts: OutboundClientOptions): OutboundClient {
  const { allowPrivate, timeoutMs, userAgent } = opts;
  const maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const newAgent = agentFactory({ allowPrivate, timeoutMs, ca: opts.ca, resolveAddresses: opts.resolveAddresses });
  const pools = createDestinationPools(newAgent, { connections: opts.connections, maxPools: opts.maxPools });
  const checkUrl = urlChecker(allowPrivate);
  let closed = false;

  async function send(req: OutboundRequest): Promise<OutboundResult> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    // One pass over the caller's headers: the values that may be credentials (scrubbed from whatever
    // comes back), and the headers sent. HTTP-layer headers are ours to set; proxy and cookie headers
    // are never ours to send.
    const callerHeaders = req.headers ?? {};
    const credentials: string[] = [];
    const headers: Record<string, string> = {};
    for (const name of Object.keys(callerHeaders)) {
      const value = callerHeaders[name]!;
      const lower = name.toLowerCase();
      if (isCredentialHeader(lower, value)) credentials.push(value);
      if (!isDroppedOutbound(lower)) headers[lower] = value;
    }
    // Built once per destination and credentials (scrubberCache.ts), not per request.
    const scrubber = scrubberFor(req.poolKey ?? '', credentials, req.orgId);
    const target: { host?: string } = {};
    const fail = (failure: NetworkFailure, code: string | undefined, message: string): NetworkResult => {
      const result: NetworkResult = { kind: 'network', failure, message: scrubMessage(message, scrubber), durationMs: elapsed() };
      if (code !== undefined) result.code = code;
      if (target.host !== undefined) result.host = target.host;
      return result;
    };

    if (closed) return fail('other', 'ECLIENTCLOSED', 'the outbound client is closed');
    const checked = checkUrl(req.url);
    if (!checked.ok) {
      if (checked.host !== undefined) target.host = checked.host;
      return checked.code === 'forbidden_address'
        ? fail('forbidden_address', FORBIDDEN_ERROR_CODE, checked.message)
        : fail('other', checked.code, checked.message);
    }
    const { origin, path } = checked.target;
    target.host = checked.target.host;

    // Each phase has its own clock, started when the phase starts: connecting (connect.timeout),
    // waiting for the answer's headers once the request is on the wire (headersTimeout), reading the
    // body (readCappedBody's deadline). Time spent queued for one of this origin's pooled connections
    // is not charged to the SIEM: a healthy SIEM answering in 2.8 s of a 3 s timeout, behind 32 other
    // requests to the same origin, is not a timeout. Only an overall cap bounds the queueing, so a
    // claim can never wait forever. It is armed only for a request that may queue: an AbortController,
    // its timer and undici's listener on the signal cost about a fifth of a request's CPU on the
    // client, and a request with a connection free is bounded by its phases alone.
    if (req.signal?.aborted) return fail('other', 'ABORTED', 'the request was cancelled before it was sent');
    const pool = pools.acquire(req.poolKey, req.connections);
    const overallMs = timeoutMs * OVERALL_TIMEOUT_FACTOR;
    let timedOut = false;
    const overallTimeout = (code: string) => fail('timeout', code, `no complete answer within ${overallMs} ms, waiting for a free connection included`);
    let timer: NodeJS.Timeout | undefined;
    let onCallerAbort: (() => void) | undefined;
    let signal = req.signal;
    if (pool.mayQueue) {
      const controller = new AbortController();
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new DOMException('The outbound request timed out', 'TimeoutError'));
      }, overallMs);
      const callerSignal = req.signal;
      if (callerSignal) {
        onCallerAbort = () => controller.abort(callerSignal.reason);
        callerSignal.addEventListener('abort', onCallerAbort, { once: true });
      }
      signal = controller.signal;
    }

    try {
      const raw = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
      const body = req.gzip ? (raw.length <= GZIP_ON_LOOP_MAX_BYTES ? gzipSync(raw) : await gzip(raw)) : raw;
      headers['user-agent'] = userAgent;
      headers['content-length'] = String(body.length);
      if (headers['content-type'] === undefined) headers['content-type'] = 'application/json';
      if (req.gzip) headers['content-encoding'] = 'gzip';

      // The pool's own request(), with the options as one literal: undici's top-level request(url, opts)
      // copies them with a spread ({ ...opts, origin, path, method }), which cost 25-40 µs of CPU per
      // request here (interleaved A/B, bare undici too); an absent signal is undefined, not left out.
      let firstInfoAt = 0;
      let informational = 0;
      const res = await pool.dispatcher.request({
        origin,
        path,
        method: 'POST',
        headers,
        body,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        // Each informational answer (102 Processing, 103 Early Hints) restarts undici's headers timeout,
        // so a SIEM sending one every few hundred ms would hold the request, and the claim, lease and
        // event budget behind it, forever. The first one starts a clock of the headers' length (not the
        // call: time queued for a connection is not the SIEM's); a later one past it ends the request,
        // thrown here, undici aborting it as a headers timeout. At most about twice the timeout.
        // Nor may they come in any number: past MAX_INFORMATIONAL_ANSWERS (networkFailure.ts) the
        // request ends at once, with the connection, whatever the time (a peer sending them back to
        // back had the worker parse them for the whole timeout, every other destination waiting).
        onInfo: () => {
          if (++informational > MAX_INFORMATIONAL_ANSWERS) throw tooManyInformational();
          const now = performance.now();
          if (firstInfoAt === 0) firstInfoAt = now;
          else if (now - firstInfoAt > timeoutMs) throw informationalTimeout();
        },
      });

      // Read at most maxResponseBytes, then drop the rest, within one deadline for the whole body. A
      // request's larger cap is for an acceptance (an Elastic _bulk answer has an item per event); a
      // refusal's status is the answer and only a sentence of its body is kept, while every byte read
      // is scrubbed on the worker's one thread: a SIEM answering each 1,000-event request with a
      // megabyte of refusal held every tenant's deliveries up to 0.7 s a time.
      const asked = req.maxResponseBytes ?? maxResponseBytes;
      const cap = res.statusCode >= 200 && res.statusCode < 300 ? asked : Math.min(asked, maxResponseBytes);
      const read = await readCappedBody(res.body, cap, timeoutMs);
      // A 2xx is an acceptance only when the whole answer arrived. A SIEM (or a proxy in front of it)
      // that sends "200" and then resets, or drips its body past the deadline, may not have kept the
      // events: at least once means sending them again. A refusal stays a refusal, torn or not: its
      // status (and Retry-After) came whole in the headers.
      if (res.statusCode >= 200 && res.statusCode < 300 && (read.end === 'broken' || read.end === 'deadline')) {
        // Torn by our own abort: say so, as for an abort before the answer.
        if (timedOut) return overallTimeout('ETIMEDOUT');
        if (req.signal?.aborted) return fail('other', 'ABORTED', 'the request was cancelled');
        return read.end === 'broken'
          ? fail('reset', 'EBODYCUT', `the connection ended after the ${res.statusCode} status, before the whole answer arrived`)
          : fail('timeout', 'UND_ERR_BODY_TIMEOUT', `the ${res.statusCode} answer's body did not arrive within ${timeoutMs} ms`);
      }
      const result: ResponseResult = {
        kind: 'response',
        status: res.statusCode,
        headers: scrubbedResponseHeaders(res.headers, scrubber),
        body: encodedAnswer(res.headers['content-encoding']) ?? read.text,
        durationMs: elapsed(),
      };
      if (read.end !== 'complete') result.truncated = true;
      return result;
    } catch (err) {
      const inner = innermost(err);
      const code = typeof inner.code === 'string' ? inner.code : undefined;
      const name = typeof inner.name === 'string' ? inner.name : undefined;
      const message = typeof inner.message === 'string' ? inner.message : String(err);
      if (timedOut) return overallTimeout(code ?? 'ETIMEDOUT');
      if (code === TOO_MANY_INFORMATIONAL_CODE) return fail('other', code, TOO_MANY_INFORMATIONAL);
      if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
        return fail(
          'timeout',
          code,
          code === 'UND_ERR_CONNECT_TIMEOUT' ? `could not connect within ${timeoutMs} ms` : `no answer within ${timeoutMs} ms of sending`,
        );
      }
      if (req.signal?.aborted) return fail('other', 'ABORTED', 'the request was cancelled');
      // undici's "bad response": an answer HTTP/1.1 does not allow here, on which it drops the
      // connection. A reset's advice (the connection closed early) would send the user the wrong way.
      if (code === 'UND_ERR_SOCKET' && inner.message === 'bad response') return fail('other', code, BAD_RESPONSE);
      const failure = failureFor(code, name);
      const prefixed = code && failure !== 'forbidden_address' && !message.includes(code) ? `${code}: ${message}` : message;
      return fail(failure, code ?? name, prefixed);
    } finally {
      pool.release();
      clearTimeout(timer);
      if (onCallerAbort) req.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  return {
    send,
    poolCount: () => pools.count(),
    async close() {
      if (closed) return;
      closed = true;
      await pools.close();
    },
  };
}

/**
 * What stands for an answer body compressed although the request asked for none (it sends no
 * Accept-Encoding): never decompressed (a small answer can expand to gigabytes), and shown as a
 * sentence instead of its bytes read as text, which showed as garbage in the delivery log and the
 * destination's last error (an attacker review). Null for an answer as it came.
 */
function encodedAnswer(encoding: string | string[] | undefined): string | null {
  const value = (Array.isArray(encoding) ? encoding.join(', ') : (encoding ?? '')).trim().toLowerCase();
  // Only a compression: a proxy's "none" or a misconfigured "utf-8" leaves the body as it is, and a
  // 2xx's body is read (Elastic's _bulk errors, a Splunk ack id, an access token).
  const named = COMPRESSION.exec(value);
  // The compression's own name only: the rest of the header is the peer's text, which could carry an
  // echoed credential past the scrubber once letters were dropped from it.
  return named ? `(an answer compressed with ${named[1]}, not read: we ask for none)` : null;
}
const COMPRESSION = /(?:^|[\s,])((?:x-)?(?:gzip|deflate|br|zstd|compress))(?:$|[\s,;])/;
