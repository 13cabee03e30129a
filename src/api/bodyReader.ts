// How a request body is read into memory. Fastify's own reader (parseAs 'buffer' or 'string') keeps
// every socket read as its own Buffer in an array until the body ends, about 200 bytes of heap per
// read whatever its size: a 2 MiB body dripped one byte per TCP segment held about 400 MB, past the
// process's old-space cap, and one slow client ended the service for every organization. Each chunk
// is now copied into one buffer as it arrives and dropped at once, so a body costs about its size
// (at most twice, while the buffer grows) however it is cut up.
import type { FastifyRequest } from 'fastify';
import { errorCodes } from 'fastify';

/**
 * The most allocated for a body before its bytes arrive. A body with a Content-Length within the
 * limit gets a buffer of exactly that length, but one longer than this grows to it by doubling as its
 * bytes arrive: a request that only promises 12 MiB and sends nothing holds 64 KiB, not 12 MiB.
 */
export const FIRST_ALLOCATION_MAX = 64 * 1024;

/** The first buffer of a body without a Content-Length (chunked): doubled as it fills. */
export const FIRST_CHUNKED_ALLOCATION = 16 * 1024;

export interface BodyReadLimits {
  /** The most bytes the body may hold (the route's bodyLimit, else the server's). */
  limit: number;
  /** The request's Content-Length header as sent, or undefined when it has none (a chunked body). */
  contentLength: string | undefined;
}

type Done = (err: Error | null, body?: Buffer) => void;

/** What a preParsing hook's stream may say of the bytes it read before decoding them (Fastify's own field). */
interface MaybeDecodedStream extends NodeJS.ReadableStream {
  receivedEncodedLength?: number;
}

/**
 * Reads `payload` to its end into one Buffer and calls `done` once, as Fastify's rawBody does, with
 * its errors (so the error handler answers as before):
 * - a Content-Length over `limit`: FST_ERR_CTP_BODY_TOO_LARGE before a byte is read;
 * - more than `limit` bytes: FST_ERR_CTP_BODY_TOO_LARGE as soon as they arrive; the listeners are
 *   removed and the rest of the body is left to flow past, unheld;
 * - a body shorter or longer than its Content-Length: FST_ERR_CTP_INVALID_CONTENT_LENGTH;
 * - a stream error (the client aborted): that error, with status 400 unless it has a 4xx or 5xx;
 * - a stream closed before its end without an error: the same, as an "aborted" error (Fastify's
 *   reader would wait forever there).
 * The Buffer passed to `done` is the body's bytes only (a view of the reader's own buffer, never of
 * the socket's).
 */
export function readBody(payload: NodeJS.ReadableStream, limits: BodyReadLimits, done: Done): void {
  const { limit } = limits;
  const declared = Number(limits.contentLength);
  if (declared > limit) {
    done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
    return;
  }
  const stream = payload as MaybeDecodedStream;
  // Number(undefined) is NaN: no Content-Length (as Fastify reads it), so nothing to size from or check.
  const hasLength = !Number.isNaN(declared);
  let buffer: Buffer | null = null;
  let received = 0;
  let finished = false;

  const finish = (err: Error | null, body?: Buffer) => {
    if (finished) return;
    finished = true;
    stream.removeListener('data', onData);
    stream.removeListener('end', onEnd);
    stream.removeListener('error', onError);
    stream.removeListener('close', onClose);
    buffer = null;
    done(err, body);
  };

  /** Room for `needed` bytes: the buffer doubled (or to `needed`, if more), within the declared length while the body keeps to it, and the limit. */
  const grow = (needed: number) => {
    const capacity = buffer?.length ?? 0;
    let next = Math.max(needed, capacity * 2, hasLength ? Math.min(declared, FIRST_ALLOCATION_MAX) : FIRST_CHUNKED_ALLOCATION);
    if (hasLength && needed <= declared) next = Math.min(next, declared);
    next = Math.min(next, limit);
    // allocUnsafeSlow: a buffer of its own (no slice of Node's shared pool), so nothing else is kept
    // alive with it; never read past what was written into it.
    const bigger = Buffer.allocUnsafeSlow(next);
    if (buffer !== null && received > 0) buffer.copy(bigger, 0, 0, received);
    buffer = bigger;
  };

  function onData(chunk: Buffer | string) {
    // A preParsing hook's stream may emit strings.
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const total = received + bytes.length;
    if (total > limit || (stream.receivedEncodedLength ?? 0) > limit) {
      finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
      return;
    }
    if (bytes.length === 0) return;
    if (buffer === null || total > buffer.length) grow(total);
    bytes.copy(buffer!, received);
    received = total;
  }

  function onEnd() {
    if (hasLength && (stream.receivedEncodedLength || received) !== declared) {
      finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), undefined);
      return;
    }
    finish(null, buffer === null ? Buffer.alloc(0) : buffer.subarray(0, received));
  }

  function onError(err: Error & { statusCode?: number }) {
    if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
    finish(err, undefined);
  }

  // 'close' after 'end' or 'error' finds the listeners gone; before them the body will not end.
  function onClose() {
    onError(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  }

  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', onError);
  stream.on('close', onClose);
  stream.resume();
}

/** readBody with the request's own limit (its route's bodyLimit, else the server's) and Content-Length. */
export function readRequestBody(req: FastifyRequest, payload: NodeJS.ReadableStream, done: Done): void {
  readBody(payload, { limit: req.routeOptions.bodyLimit, contentLength: req.headers['content-length'] }, done);
}
