// A real HTTPS receiver (a stand-in SIEM) for tests and benchmarks: 127.0.0.1, random port, the
// committed test certificates. It records every request, and its behaviour can be switched at run time
// (status, redirect, slow, reset, reset after the headers, hang, drip, flap).
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { TLSSocket } from 'node:tls';

import { DATASET_TRAIL } from '../../src/trail/contract.js';
const TLS_DIR = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const readTls = (name: string): string => readFileSync(`${TLS_DIR}${name}`, 'utf8');

/** The test CA that signed `server.pem` (localhost, 127.0.0.1, ::1). */
export const TEST_CA_PEM = readTls('ca.pem');
export const TEST_SERVER_CERT_PEM = readTls('server.pem');
export const TEST_SERVER_KEY_PEM = readTls('server-key.pem');
/** A self-signed certificate that nothing trusts, for TLS-failure tests. */
export const UNTRUSTED_CERT_PEM = readTls('untrusted.pem');
export const UNTRUSTED_KEY_PEM = readTls('untrusted-key.pem');

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body, gunzipped when the request said Content-Encoding: gzip. */
  body: Buffer;
  /** The body exactly as received. */
  rawBody: Buffer;
  receivedAt: number;
}

export interface ReceiverResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/**
 * Special behaviours: destroy the socket without answering; send a status, its headers and part of
 * the body and then end the connection (`cut`); never answer at all; or answer 200 headers and then
 * drip the body one byte a second, never ending. A hung or dripping request is held until
 * `releaseHeld()` or `close()` destroys its socket.
 */
export type ReceiverAction =
  | { action: 'reset' }
  | { action: 'cut'; status: number; body: string; end: 'reset' | 'close' }
  | { action: 'hang' }
  | { action: 'drip' }
  | { action: 'processing' }
  | { action: 'hints'; delayMs: number }
  | { action: 'unaskedContinue' };

export type ReceiverHandler = (req: ReceivedRequest) => ReceiverResponse | ReceiverAction | Promise<ReceiverResponse | ReceiverAction>;

export interface ReceiverOptions {
  /** 'trusted' (default) uses server.pem signed by the test CA; 'untrusted' a self-signed certificate. */
  certificate?: 'trusted' | 'untrusted';
  /** Keep every request in `requests` (default true); benchmarks may turn it off and read `count`. */
  record?: boolean;
  /**
   * Requests carrying only configuration trail events (event.dataset "aegis.audit_stream", sent
   * whenever a test creates, changes or deletes a destination): 'absorb' (default) answers them 200
   * itself and keeps them in `trailRequests`, out of `requests`, `count` and the handler, so a test
   * about delivery sees only the events it is about; 'handle' treats them like any request.
   */
  trail?: 'absorb' | 'handle';
}

/**
 * The filter of a destination that takes decision events only, never the configuration trail (its
 * own destination_created, a later test_sent...): for tests about what a failure does to a
 * destination, where a trail event answered 200 in the same claim would count as a delivery.
 */
export const DECISIONS_ONLY = { 'event.dataset': { $ne: DATASET_TRAIL } };

/**
 * Whether a body carries configuration trail events and nothing else (any preset's envelope, ECS or
 * OCSF: an OCSF event names the dataset in metadata.source).
 */
export function onlyTrailEvents(body: Buffer): boolean {
  const text = body.toString('utf8');
  return /"(?:dataset|source)":"aegis\.audit_stream"/.test(text) && !/"(?:dataset|source)":"aegis\.(?:preflight|audit_stream\.test)"/.test(text);
}

/**
 * How many configuration trail events the requests carried, in any preset's envelope (one
 * `"dataset":"aegis.audit_stream"` per ECS event, `"source":"aegis.audit_stream"` per OCSF one; the
 * test event's dataset is aegis.audit_stream.test).
 * For counts that cover every event a destination got (its delivery log), absorbed or mixed in.
 */
export function trailEventCount(requests: readonly ReceivedRequest[]): number {
  let n = 0;
  for (const r of requests) n += r.body.toString('utf8').match(/"(?:dataset|source)":"aegis\.audit_stream"/g)?.length ?? 0;
  return n;
}

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Requests absorbed because they carried only configuration trail events (see ReceiverOptions.trail). */
  trailRequests: ReceivedRequest[];
  /** Requests handled so far (also counted when `record` is off). */
  readonly count: number;
  /** TCP connections accepted so far (a refused destination must leave this at 0). */
  readonly connections: number;
  /** TLS handshakes that resumed an earlier session (no certificate sent or verified). */
  readonly resumedSessions: number;
  setHandler(handler: ReceiverHandler): void;
  /** Requests held open now (hang, drip). */
  readonly held: number;
  /** Destroys the sockets of the requests held open (hang, drip): their senders see a reset. */
  releaseHeld(): void;
  waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

// ---- handler helpers ------------------------------------------------------------------------------

export function respondWith(status: number, body: string | Buffer = '', headers: Record<string, string> = {}): ReceiverHandler {
  return () => ({ status, body, headers });
}

export const ok = (body = '{"text":"Success","code":0}'): ReceiverHandler => respondWith(200, body, { 'content-type': 'application/json' });

export function redirect(location: string, status = 301): ReceiverHandler {
  return () => ({ status, headers: { location }, body: '' });
}

export function slow(delayMs: number, response: ReceiverResponse = { status: 200, body: 'ok' }): ReceiverHandler {
  return async () => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return response;
  };
}

export function resetConnection(): ReceiverHandler {
  return () => ({ action: 'reset' });
}

export function hang(): ReceiverHandler {
  return () => ({ action: 'hang' });
}

/** "102 Processing" every 200 ms, never a final answer: each informational answer is a sign of life. */
export function processingForever(): ReceiverHandler {
  return () => ({ action: 'processing' });
}

/** "103 Early Hints" at once, then 200 "ok" after `delayMs`: a proxy or CDN in front of a SIEM may add the hints. */
export function earlyHintsThen(delayMs: number): ReceiverHandler {
  return () => ({ action: 'hints', delayMs });
}

/** "100 Continue" though the request sent no Expect header, then 200: a proxy that sends one on its own. */
export function unaskedContinue(): ReceiverHandler {
  return () => ({ action: 'unaskedContinue' });
}

/** 200 and its headers at once, then one byte of body a second, never the end. */
export function drip(): ReceiverHandler {
  return () => ({ action: 'drip' });
}

/**
 * A status (200 unless given) and its headers, then a TCP reset before any of the body. The reset
 * follows the headers by 50 ms, time for the client to read them; on a machine too busy for that it
 * overtakes them and reads as a plain reset. Where a test needs the headers read, `cutAnswer`.
 */
export function resetAfterHeaders(status = 200): ReceiverHandler {
  return () => ({ action: 'cut', status, body: '', end: 'reset' });
}

/**
 * A status, its headers (a Content-Length 64 bytes longer than `body`) and `body`, then the connection
 * closed in order (TLS close_notify, FIN): the client reads everything sent and then finds the answer
 * cut short, whatever the machine's speed.
 */
export function cutAnswer(status: number, body = ''): ReceiverHandler {
  return () => ({ action: 'cut', status, body, end: 'close' });
}

/**
 * Fails the first `failures` requests with `failStatus` (or a reset), then answers `then`; with
 * `repeat`, cycles failures/successes forever (a flapping SIEM).
 */
export function flap(opts: { failures: number; successes?: number; failWith?: number | 'reset'; then?: ReceiverResponse; repeat?: boolean }): ReceiverHandler {
  const successes = opts.successes ?? 1;
  const failWith = opts.failWith ?? 503;
  const then = opts.then ?? { status: 200, body: 'ok' };
  let n = 0;
  return () => {
    const i = n++;
    const failing = opts.repeat ? i % (opts.failures + successes) < opts.failures : i < opts.failures;
    if (!failing) return then;
    return failWith === 'reset' ? { action: 'reset' } : { status: failWith, body: 'flapping' };
  };
}

// ---- the server -----------------------------------------------------------------------------------

/** Drops the connection without an answer: a TCP RST where the platform allows, else a plain destroy. */
function abort(socket: Socket): void {
  const raw = (socket as Socket & { _parent?: Socket })._parent;
  try {
    if (raw && typeof raw.resetAndDestroy === 'function') {
      raw.resetAndDestroy();
      socket.destroy();
      return;
    }
  } catch {
    // fall through
  }
  socket.destroy();
}

function isAction(r: ReceiverResponse | ReceiverAction): r is ReceiverAction {
  return 'action' in r;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startReceiver(handler: ReceiverHandler = ok(), options: ReceiverOptions = {}): Promise<Receiver> {
  const trusted = (options.certificate ?? 'trusted') === 'trusted';
  const record = options.record ?? true;
  const absorbTrail = (options.trail ?? 'absorb') === 'absorb';
  const trailRequests: ReceivedRequest[] = [];
  let current = handler;
  let count = 0;
  let connections = 0;
  let resumedSessions = 0;
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const held = new Set<Socket>();
  const waiters = new Set<() => void>();

  const server = createServer(
    {
      key: trusted ? TEST_SERVER_KEY_PEM : UNTRUSTED_KEY_PEM,
      cert: trusted ? TEST_SERVER_CERT_PEM : UNTRUSTED_CERT_PEM,
      keepAliveTimeout: 30_000,
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('error', () => undefined);
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks);
        let body = rawBody;
        if (String(req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
          try {
            body = gunzipSync(rawBody);
          } catch {
            body = rawBody;
          }
        }
        const received: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: { ...req.headers },
          body,
          rawBody,
          receivedAt: Date.now(),
        };
        if (absorbTrail && onlyTrailEvents(body)) {
          // Accepted in a form every preset reads as success (Splunk code 0, Elastic errors:false).
          trailRequests.push(received);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"text":"Success","code":0,"errors":false}');
          return;
        }
        count++;
        if (record) requests.push(received);
        for (const wake of waiters) wake();
        Promise.resolve()
          .then(() => current(received))
          .then(
            (outcome) => {
              if (isAction(outcome)) {
                act(outcome, req.socket, res);
                return;
              }
              res.writeHead(outcome.status, outcome.headers ?? {});
              res.end(outcome.body ?? '');
            },
            () => {
              res.writeHead(500);
              res.end('receiver handler failed');
            },
          );
      });
    },
  );
  function act(outcome: ReceiverAction, socket: Socket, res: ServerResponse): void {
    if (outcome.action === 'reset') return abort(socket);
    if (outcome.action === 'cut') {
      const length = Buffer.byteLength(outcome.body) + 64;
      res.writeHead(outcome.status, { 'content-type': 'application/json', 'content-length': String(length), 'retry-after': '1' });
      res.flushHeaders();
      if (outcome.body) res.write(outcome.body);
      if (outcome.end === 'close') {
        // Ends the TLS stream after what was written, in order; the HTTP answer stays unfinished.
        socket.end();
        return;
      }
      // A moment for the headers to reach the client before the reset, which would otherwise
      // overtake them in the client's receive buffer and read as a plain reset.
      setTimeout(() => abort(socket), 50);
      return;
    }
    // Cleanups hang on the answer, not the socket: a kept-alive socket serves many answers, and a
    // listener per answer on it would pile up (Node warns past ten).
    held.add(socket);
    res.once('close', () => held.delete(socket));
    if (outcome.action === 'hang') return; // never answer; releaseHeld() or close() destroys the socket
    if (outcome.action === 'hints') {
      res.writeEarlyHints({ link: '</siem.css>; rel=preload; as=style' });
      const answer = setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'), outcome.delayMs);
      res.once('close', () => clearTimeout(answer));
      return;
    }
    if (outcome.action === 'unaskedContinue') {
      // A 100 Continue the request never asked for (no Expect header), then a normal answer.
      res.writeContinue();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}');
      return;
    }
    if (outcome.action === 'processing') {
      const beat = setInterval(() => res.writeProcessing(), 200);
      res.once('close', () => clearInterval(beat));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{');
    const tick = setInterval(() => res.write(' '), 1000);
    res.once('close', () => clearInterval(tick));
  }

  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.isSessionReused()) resumedSessions++;
  });
  // Failed handshakes (the untrusted certificate) are expected; keep them quiet.
  server.on('tlsClientError', () => undefined);

  const port = await listen(server);
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    requests,
    trailRequests,
    get count() {
      return count;
    },
    get connections() {
      return connections;
    },
    get resumedSessions() {
      return resumedSessions;
    },
    setHandler(h: ReceiverHandler) {
      current = h;
    },
    get held() {
      return held.size;
    },
    releaseHeld() {
      for (const socket of held) abort(socket);
    },
    waitFor(predicate, timeoutMs = 60_000) {
      return new Promise<ReceivedRequest[]>((resolve, reject) => {
        if (predicate(requests)) {
          resolve(requests);
          return;
        }
        const check = () => {
          if (predicate(requests)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(requests);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver: condition not met within ${timeoutMs} ms (${requests.length} requests)`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      });
    },
  };
}

/** An HTTPS receiver presenting a self-signed certificate that no client trusts. */
export function startUntrustedReceiver(handler: ReceiverHandler = ok()): Promise<Receiver> {
  return startReceiver(handler, { certificate: 'untrusted' });
}

/** A port on 127.0.0.1 with nothing listening (connections to it are refused). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
