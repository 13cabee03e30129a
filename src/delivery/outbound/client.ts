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
import { isDroppedOutbound } from '../../destinations/headerRules.js';
import { secretScrubber } from '../scrubSecrets.js';
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
  /** Connections per origin (default 16). */
  connections?: number;
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
}

export interface OutboundClient {
  send(req: OutboundRequest): Promise<OutboundResult>;
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
 * A network error's message, safe to store and show: every request header value removed in every
 * spelling (the same scrubber the delivery path uses: escaped, encoded, case-changed), on one line,
 * bounded.
 */
function scrub(message: string, secrets: string[]): string {
  const out = secretScrubber(secrets.filter((s) => s.length >= 4))(message).replace(/[\r\n]+/g, ' ');
  return out.length > 300 ? `${out.slice(0, 299)}…` : out;
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function createOutboundClient(opts: OutboundClientOptions): OutboundClient {
  const { allowPrivate, timeoutMs, userAgent } = opts;
  const maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const ca = buildCa(opts.ca);
  const newAgent = () =>
    new Agent({
      connections: opts.connections ?? DEFAULT_CONNECTIONS_PER_ORIGIN,
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
  const agent = newAgent();
  // One Agent per destination that is sending; one left idle for POOL_IDLE_MS is closed, so memory
  // follows the destinations with traffic, not every destination configured.
  const pools = new Map<string, { agent: Agent; active: number; lastUsed: number }>();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [key, p] of pools) {
      if (p.active === 0 && now - p.lastUsed > POOL_IDLE_MS) {
        pools.delete(key);
        void p.agent.close().catch(() => undefined);
      }
    }
  }, POOL_IDLE_MS);
  sweep.unref();
  const acquire = (key: string | undefined): { dispatcher: Agent; release: () => void } => {
    if (key === undefined) return { dispatcher: agent, release: () => undefined };
    let p = pools.get(key);
    if (!p) pools.set(key, (p = { agent: newAgent(), active: 0, lastUsed: Date.now() }));
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
    const secrets = Object.values(req.headers ?? {}).filter((v): v is string => typeof v === 'string');
    const target: { host?: string } = {};
    const fail = (failure: NetworkFailure, code: string | undefined, message: string): NetworkResult => {
      const result: NetworkResult = { kind: 'network', failure, message: scrub(message, secrets), durationMs: elapsed() };
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

    const pool = acquire(req.poolKey);
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
        headers: flattenHeaders(res.headers),
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
        return fail('timeout', code, code === 'UND_ERR_CONNECT_TIMEOUT' ? `could not connect within ${timeoutMs} ms` : `no answer within ${timeoutMs} ms of sending`);
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
