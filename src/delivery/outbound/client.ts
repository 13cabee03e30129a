// The outbound HTTP layer shared by the delivery worker and the synchronous test probe.
// One undici Agent (keep-alive, no pipelining). Every new connection resolves DNS in our own lookup,
// which fails the connection when ANY resolved address is forbidden, so DNS rebinding cannot slip
// through between a check and the connect. IP literals (which never reach a lookup) and localhost are
// refused before dispatch. Redirects are never followed; the response body read is capped; network
// problems never throw: send() always resolves an OutboundResult.
import { promises as dnsPromises, type LookupAddress, type LookupOptions } from 'node:dns';
import { readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { rootCertificates } from 'node:tls';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { Agent, request } from 'undici';
import { isForbiddenAddress } from './addresses.js';
import { isDroppedOutbound, NON_CREDENTIAL_REQUEST_HEADERS } from '../../destinations/headerRules.js';
import type { Scrubber } from '../scrubSecrets.js';
import { scrubberFor } from '../scrubberCache.js';
import type { NetworkFailure, NetworkResult, OutboundResult } from './types.js';
import { bareHostname, checkDestinationUrl } from './url.js';

export type { NetworkFailure, OutboundResult } from './types.js';

const gzip = promisify(gzipCb);

export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
export const DEFAULT_CONNECTIONS_PER_ORIGIN = 16;
/** The overall cap on one request, in units of the timeout: queueing for a connection plus each phase. */
const OVERALL_TIMEOUT_FACTOR = 3;
/** A destination's own connections are closed after this long without a request. */
const POOL_IDLE_MS = 60_000;
/**
 * Destinations with connections of their own at once (default). Past it the least recently used idle
 * one is closed; when every one is busy, the request uses the shared pool. Above the worker's
 * destinations served at once (1,000), so in normal operation every sending destination has its own.
 */
export const DEFAULT_MAX_POOLS = 2048;
export const FORBIDDEN_ERROR_CODE = 'EAEGISFORBIDDEN';

/** Resolves a host name to every address (dns.lookup with all: true by default). */
export type ResolveAddresses = (hostname: string) => Promise<LookupAddress[]>;

export interface OutboundClientOptions {
  /** AEGIS_ALLOW_PRIVATE_DESTINATIONS: allow http://, loopback and private addresses. */
  allowPrivate: boolean;
  /**
   * AEGIS_HTTP_TIMEOUT_MS, for each phase on its own: connect and TLS, the answer's headers after the
   * request is sent, the body. Queueing for a pooled connection is bounded by 3x this overall.
   */
  timeoutMs: number;
  /** How much of the response body to read (default 64 KiB); the rest is discarded. */
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

class ForbiddenAddressError extends Error {
  readonly code = FORBIDDEN_ERROR_CODE;
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(`${hostname} resolves to ${address} (${reason})`);
    this.name = 'ForbiddenAddressError';
  }
}

function dnsError(hostname: string, code: string): Error {
  return Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, hostname });
}

const defaultResolve: ResolveAddresses = (hostname) => dnsPromises.lookup(hostname, { all: true });

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A net/tls `lookup` that refuses the connection if any resolved address is forbidden. */
export function createGuardedLookup(allowPrivate: boolean, resolve: ResolveAddresses = defaultResolve) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname).then(
      (resolved) => {
        if (!allowPrivate) {
          for (const { address } of resolved) {
            const reason = isForbiddenAddress(address);
            if (reason !== null) {
              callback(new ForbiddenAddressError(hostname, address, reason), '');
              return;
            }
          }
        }
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const usable = family === 4 || family === 6 ? resolved.filter((a) => a.family === family) : resolved;
        const first = usable[0];
        if (!first) {
          callback(dnsError(hostname, 'ENOTFOUND'), '');
          return;
        }
        if (options.all) callback(null, usable);
        else callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}

function buildCa(extra: string | string[] | undefined): string[] | undefined {
  if (extra === undefined) return undefined; // Node's defaults, which already include NODE_EXTRA_CA_CERTS
  const list = Array.isArray(extra) ? extra : [extra];
  if (list.length === 0) return undefined;
  // Passing `ca` replaces Node's store, so rebuild it: bundled roots + NODE_EXTRA_CA_CERTS + ours.
  const fromEnv: string[] = [];
  const envPath = process.env['NODE_EXTRA_CA_CERTS'];
  if (envPath) {
    try {
      fromEnv.push(readFileSync(envPath, 'utf8'));
    } catch {
      // Node itself warns about an unreadable NODE_EXTRA_CA_CERTS at start-up.
    }
  }
  return [...rootCertificates, ...fromEnv, ...list];
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
  'EPROTO',
  'HOSTNAME_MISMATCH',
]);

function failureFor(code: string | undefined, name: string | undefined): NetworkFailure {
  if (code === FORBIDDEN_ERROR_CODE) return 'forbidden_address';
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  if (!code) return 'other';
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
    case 'EAI_NONAME':
    case 'ENODATA':
    case 'ESERVFAIL':
    case 'ECONNREFUSED_DNS':
      return 'dns';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ABORT_ERR':
      return 'timeout';
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'ECONNABORTED':
      return 'reset';
    default:
      break;
  }
  if (TLS_CODES.has(code) || code.startsWith('CERT_') || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return 'tls';
  }
  return 'other';
}

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The most telling error: the cause of a wrapper, the first of an AggregateError (happy eyeballs). */
function innermost(err: unknown): ErrorLike {
  let current = (err ?? {}) as ErrorLike;
  for (let depth = 0; depth < 5; depth++) {
    if (Array.isArray(current.errors) && current.errors.length > 0 && typeof current.code !== 'string') {
      current = current.errors[0] as ErrorLike;
      continue;
    }
    const cause = current.cause as ErrorLike | undefined;
    if (cause && typeof cause === 'object' && (typeof cause.code === 'string' || typeof current.code !== 'string')) {
      // Prefer a coded cause (e.g. UND_ERR_SOCKET caused by ECONNRESET keeps the socket code).
      if (typeof current.code === 'string' && current.code.startsWith('UND_ERR_SOCKET') && typeof cause.code === 'string') {
        current = cause;
        continue;
      }
      if (typeof current.code !== 'string') {
        current = cause;
        continue;
      }
    }
    break;
  }
  return current;
}

/**
 * The values of the request's headers that may carry a credential: all but the ones Aegis sets that
 * never do (headerRules.ts), whatever a credential header is called (a custom webhook's may be
 * called anything).
 */
export function credentialValues(headers: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string' && value.length >= 4 && !NON_CREDENTIAL_REQUEST_HEADERS.has(name.toLowerCase())) out.push(value);
  }
  return out;
}

/**
 * A network error's message, safe to store and show: every credential header value removed in every
 * spelling (the same scrubber the delivery path uses: escaped, encoded, case-changed), on one line,
 * bounded.
 */
function scrub(message: string, scrubber: Scrubber): string {
  const out = scrubber(message).replace(/[\r\n]+/g, ' ');
  return out.length > 300 ? `${out.slice(0, 299)}…` : out;
}

/**
 * The answer's headers, lower-cased and flattened, each value scrubbed of our credentials: a receiver
 * (or a proxy) that echoes the Authorization header back in a response header hands it to no caller.
 * Values that carry none (Retry-After, Content-Type, Location, request ids) are kept as sent, since
 * callers read them: the retry schedule, redirect hints, a request id to quote to the SIEM's support.
 */
function responseHeaders(headers: Record<string, string | string[] | undefined>, scrubber: Scrubber): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    const flat = Array.isArray(value) ? value.join(', ') : value;
    out[name.toLowerCase()] = flat === undefined ? undefined : scrubber(flat);
  }
  return out;
}

export function createOutboundClient(opts: OutboundClientOptions): OutboundClient {
  const { allowPrivate, timeoutMs, userAgent } = opts;
  const maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const ca = buildCa(opts.ca);
  const defaultConnections = opts.connections ?? DEFAULT_CONNECTIONS_PER_ORIGIN;
  const maxPools = Math.max(1, opts.maxPools ?? DEFAULT_MAX_POOLS);
  const newAgent = (connections: number) =>
    new Agent({
      connections,
      pipelining: 1,
      // Idle sockets are kept briefly (or as long as the server's Keep-Alive hint allows, minus a margin),
      // so we rarely POST onto a socket the SIEM is just closing.
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: {
        timeout: timeoutMs,
        rejectUnauthorized: true,
        lookup: createGuardedLookup(allowPrivate, opts.resolveAddresses),
        ...(ca ? { ca } : {}),
      },
    });
  const agent = newAgent(defaultConnections);
  // One Agent per destination that is sending, sized to its own concurrency; one left idle for
  // POOL_IDLE_MS is closed, and at most maxPools exist at once (least recently used idle ones are
  // closed first), so sockets and memory follow the destinations with traffic, within a bound, not
  // every destination configured. The Map's order is the recency order: a use moves a pool last.
  const pools = new Map<string, { agent: Agent; connections: number; active: number; lastUsed: number }>();
  const closePool = (key: string, p: { agent: Agent }) => {
    pools.delete(key);
    void p.agent.close().catch(() => undefined);
  };
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [key, p] of pools) if (p.active === 0 && now - p.lastUsed > POOL_IDLE_MS) closePool(key, p);
  }, POOL_IDLE_MS);
  sweep.unref();
  /** Makes room for one more pool: closes the least recently used idle one; false when all are busy. */
  const makeRoom = (): boolean => {
    if (pools.size < maxPools) return true;
    for (const [key, p] of pools) {
      if (p.active === 0) {
        closePool(key, p);
        return true;
      }
    }
    return false;
  };
  const acquire = (key: string | undefined, wanted: number | undefined): { dispatcher: Agent; release: () => void } => {
    const shared = { dispatcher: agent, release: () => undefined };
    if (key === undefined) return shared;
    const connections = wanted !== undefined && Number.isInteger(wanted) && wanted > 0 ? wanted : defaultConnections;
    let p = pools.get(key);
    // Resized (the destination's max_concurrent_requests changed): a new pool once the old one is idle.
    if (p && p.active === 0 && p.connections !== connections) {
      closePool(key, p);
      p = undefined;
    }
    if (p) {
      pools.delete(key);
      pools.set(key, p);
    } else {
      // Every pool busy at the cap: this request shares the common pool rather than open more sockets.
      if (!makeRoom()) return shared;
      pools.set(key, (p = { agent: newAgent(connections), connections, active: 0, lastUsed: Date.now() }));
    }
    const pool = p;
    pool.active++;
    return {
      dispatcher: pool.agent,
      release: () => {
        pool.active--;
        pool.lastUsed = Date.now();
      },
    };
  };
  let closed = false;

  async function send(req: OutboundRequest): Promise<OutboundResult> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    // Built once per destination and credentials (scrubberCache.ts), not per request.
    const scrubber = scrubberFor(req.poolKey ?? '', credentialValues(req.headers ?? {}));
    const target: { host?: string } = {};
    const fail = (failure: NetworkFailure, code: string | undefined, message: string): NetworkResult => {
      const result: NetworkResult = { kind: 'network', failure, message: scrub(message, scrubber), durationMs: elapsed() };
      if (code !== undefined) result.code = code;
      if (target.host !== undefined) result.host = target.host;
      return result;
    };

    if (closed) return fail('other', 'ECLIENTCLOSED', 'the outbound client is closed');
    if (URL.canParse(req.url)) target.host = bareHostname(new URL(req.url));
    const checked = checkDestinationUrl(req.url, { allowPrivate });
    if (!checked.ok) {
      return checked.code === 'forbidden_address'
        ? fail('forbidden_address', FORBIDDEN_ERROR_CODE, checked.message)
        : fail('other', checked.code, checked.message);
    }
    const url = checked.url;
    target.host = bareHostname(url);

    // Each phase has its own clock, started when the phase starts: connecting (connect.timeout),
    // waiting for the answer's headers once the request is on the wire (headersTimeout), reading the
    // body (bodyDeadline below). Time spent queued for one of this origin's pooled connections is not
    // charged to the SIEM: a healthy SIEM answering in 2.8 s of a 3 s timeout, behind 32 other
    // requests to the same origin, is not a timeout. Only an overall cap bounds the queueing, so a
    // claim can never wait forever.
    const overallMs = timeoutMs * OVERALL_TIMEOUT_FACTOR;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException('The outbound request timed out', 'TimeoutError'));
    }, overallMs);
    const onCallerAbort = () => controller.abort(req.signal?.reason);
    if (req.signal) {
      if (req.signal.aborted) {
        clearTimeout(timer);
        return fail('other', 'ABORTED', 'the request was cancelled before it was sent');
      }
      req.signal.addEventListener('abort', onCallerAbort, { once: true });
    }

    const pool = acquire(req.poolKey, req.connections);
    try {
      const raw = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
      const body = req.gzip ? await gzip(raw) : raw;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers ?? {})) {
        // HTTP-layer headers are ours to set; proxy and cookie headers are never ours to send.
        if (!isDroppedOutbound(name)) headers[name.toLowerCase()] = value;
      }
      headers['user-agent'] = userAgent;
      headers['content-length'] = String(body.length);
      if (headers['content-type'] === undefined) headers['content-type'] = 'application/json';
      if (req.gzip) headers['content-encoding'] = 'gzip';

      const res = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: pool.dispatcher,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });

      // Read at most maxResponseBytes, then drop the rest (breaking out destroys the stream). A SIEM
      // that drips its body a byte at a time never trips bodyTimeout (it is an idle timer), so the
      // whole body gets one deadline; what arrived by then is kept.
      const bodyDeadline = setTimeout(() => res.body.destroy(), timeoutMs);
      const decoder = new StringDecoder('utf8');
      let text = '';
      let size = 0;
      try {
        for await (const chunk of res.body) {
          const buf = chunk as Buffer;
          const take = Math.min(buf.length, maxResponseBytes - size);
          if (take > 0) text += decoder.write(take === buf.length ? buf : buf.subarray(0, take));
          size += take;
          if (size >= maxResponseBytes) break;
        }
      } catch {
        // The status line already arrived; a body cut short by a reset or the timeout keeps what we have.
        res.body.destroy();
      } finally {
        clearTimeout(bodyDeadline);
      }
      return {
        kind: 'response',
        status: res.statusCode,
        headers: responseHeaders(res.headers, scrubber),
        body: text,
        durationMs: elapsed(),
      };
    } catch (err) {
      const inner = innermost(err);
      const code = typeof inner.code === 'string' ? inner.code : undefined;
      const name = typeof inner.name === 'string' ? inner.name : undefined;
      const message = typeof inner.message === 'string' ? inner.message : String(err);
      if (timedOut) return fail('timeout', code ?? 'ETIMEDOUT', `no complete answer within ${overallMs} ms, waiting for a free connection included`);
      if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
        return fail(
          'timeout',
          code,
          code === 'UND_ERR_CONNECT_TIMEOUT' ? `could not connect within ${timeoutMs} ms` : `no answer within ${timeoutMs} ms of sending`,
        );
      }
      if (req.signal?.aborted) return fail('other', 'ABORTED', 'the request was cancelled');
      const failure = failureFor(code, name);
      const prefixed = code && failure !== 'forbidden_address' && !message.includes(code) ? `${code}: ${message}` : message;
      return fail(failure, code ?? name, prefixed);
    } finally {
      pool.release();
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  return {
    send,
    poolCount: () => pools.size,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweep);
      const all = [agent, ...[...pools.values()].map((p) => p.agent)];
      pools.clear();
      await Promise.all(all.map((a) => a.close()));
    },
  };
}
