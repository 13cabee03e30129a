import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FIRST_ALLOCATION_MAX, FIRST_CHUNKED_ALLOCATION, readBody, type BodyReadLimits } from './bodyReader.js';
import { POLL } from '../../test/support/waitFor.js';

interface Outcome {
  err: (Error & { code?: string; statusCode?: number }) | null;
  body?: Buffer;
  calls: number;
}

/** Starts readBody on `stream`; `outcome` holds what done was given (and how often), `settled` resolves on the first call. */
function start(stream: NodeJS.ReadableStream, limits: BodyReadLimits) {
  const outcome: Outcome = { err: null, calls: 0 };
  const settled = new Promise<Outcome>((resolve) => {
    readBody(stream, limits, (err, body) => {
      outcome.calls++;
      outcome.err = err;
      outcome.body = body;
      resolve(outcome);
    });
  });
  return { outcome, settled };
}

/** Writes `bytes` in pieces of `size`, letting each batch flow through before the next. */
async function drip(stream: PassThrough, bytes: Buffer, size: number): Promise<void> {
  for (let i = 0; i < bytes.length; i += size) {
    stream.write(bytes.subarray(i, i + size));
    if ((i / size) % 256 === 255) await tick();
  }
}

const listeners = (s: PassThrough) => ['data', 'end', 'error', 'close'].map((e) => s.listenerCount(e));

describe('readBody: a request body into one buffer', () => {
  it('many tiny chunks give the exact bytes, with a Content-Length and without', async () => {
    const bytes = randomBytes(5_000);
    for (const contentLength of [String(bytes.length), undefined]) {
      const s = new PassThrough();
      const { settled } = start(s, { limit: 1_000_000, contentLength });
      await drip(s, bytes, 1);
      s.end();
      const { err, body, calls } = await settled;
      expect(err).toBeNull();
      expect(body!.equals(bytes)).toBe(true);
      expect(calls).toBe(1);
      expect(listeners(s)).toEqual([0, 0, 0, 0]);
    }
  });

  it('a body with a Content-Length gets a buffer of exactly that length, grown to it past the first allocation', async () => {
    // Within FIRST_ALLOCATION_MAX: allocated from the Content-Length at once (40,000 is no power of two).
    const small = randomBytes(40_000);
    let s = new PassThrough();
    let run = start(s, { limit: 2 * 1024 * 1024, contentLength: String(small.length) });
    await drip(s, small, 1000);
    s.end();
    let { err, body } = await run.settled;
    expect(err).toBeNull();
    expect(body!.equals(small)).toBe(true);
    expect(body!.buffer.byteLength).toBe(small.length);

    // Past it: a body that only promised its length holds no more than what arrived (doubled), and
    // ends in a buffer of exactly its length.
    const large = randomBytes(300_000);
    s = new PassThrough();
    run = start(s, { limit: 2 * 1024 * 1024, contentLength: String(large.length) });
    s.write(large.subarray(0, 10));
    await tick();
    expect(run.outcome.calls).toBe(0);
    await drip(s, large.subarray(10), 7_000);
    s.end();
    ({ err, body } = await run.settled);
    expect(err).toBeNull();
    expect(body!.equals(large)).toBe(true);
    expect(body!.buffer.byteLength).toBe(large.length);
    expect(FIRST_ALLOCATION_MAX).toBeLessThan(large.length);
  });

  it('a chunked body grows its buffer by doubling, never past the limit', async () => {
    const bytes = randomBytes(100_000);
    let s = new PassThrough();
    let run = start(s, { limit: 1_000_000, contentLength: undefined });
    await drip(s, bytes, 333);
    s.end();
    let { err, body } = await run.settled;
    expect(err).toBeNull();
    expect(body!.equals(bytes)).toBe(true);
    expect(body!.buffer.byteLength).toBe(FIRST_CHUNKED_ALLOCATION * 8);

    // A body of exactly the limit: the last doubling stops at the limit.
    s = new PassThrough();
    run = start(s, { limit: bytes.length, contentLength: undefined });
    await drip(s, bytes, 333);
    s.end();
    ({ err, body } = await run.settled);
    expect(err).toBeNull();
    expect(body!.equals(bytes)).toBe(true);
    expect(body!.buffer.byteLength).toBe(bytes.length);
  });

  it('an empty body, and string chunks (a preParsing stream may emit them)', async () => {
    let s = new PassThrough();
    let run = start(s, { limit: 100, contentLength: '0' });
    s.end();
    expect((await run.settled).body).toEqual(Buffer.alloc(0));

    s = new PassThrough({ encoding: 'utf8' });
    run = start(s, { limit: 100, contentLength: undefined });
    s.end(Buffer.from('{"café":1}'));
    expect((await run.settled).body!.toString('utf8')).toBe('{"café":1}');
  });

  it('a Content-Length over the limit fails before a byte is read', async () => {
    const s = new PassThrough();
    s.write(Buffer.from('x'));
    const { outcome } = start(s, { limit: 100, contentLength: '101' });
    expect(outcome.calls).toBe(1);
    expect(outcome.err?.code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
    expect(outcome.err?.statusCode).toBe(413);
    expect(listeners(s)).toEqual([0, 0, 0, 0]);
    expect(s.readableLength).toBe(1);
  });

  it('more bytes than the limit fail as soon as they arrive; the rest flows past, unheld', async () => {
    for (const contentLength of [undefined, '100']) {
      const s = new PassThrough();
      const { outcome, settled } = start(s, { limit: 100, contentLength });
      await drip(s, randomBytes(100), 10);
      await tick();
      expect(outcome.calls).toBe(0);
      s.write(Buffer.from('!'));
      const { err } = await settled;
      expect(err?.code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
      expect(err?.statusCode).toBe(413);
      expect(listeners(s)).toEqual([0, 0, 0, 0]);
      await drip(s, randomBytes(1000), 10);
      s.end();
      await tick();
      expect(outcome.calls).toBe(1);
    }
  });

  it('a body shorter or longer than its Content-Length fails as Fastify does', async () => {
    for (const [declared, sent] of [
      [10, 5],
      [5, 10],
    ] as const) {
      const s = new PassThrough();
      const { settled } = start(s, { limit: 100, contentLength: String(declared) });
      await drip(s, randomBytes(sent), 1);
      s.end();
      const { err, body } = await settled;
      expect(err?.code).toBe('FST_ERR_CTP_INVALID_CONTENT_LENGTH');
      expect(err?.statusCode).toBe(400);
      expect(body).toBeUndefined();
    }
  });

  it('a stream that fails or closes mid-body: done once with a 400, no listener left behind', async () => {
    let s = new PassThrough();
    let run = start(s, { limit: 1000, contentLength: '100' });
    await drip(s, randomBytes(50), 5);
    s.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    let { err } = await run.settled;
    expect(err?.code).toBe('ECONNRESET');
    expect(err?.statusCode).toBe(400);
    expect(listeners(s)).toEqual([0, 0, 0, 0]);

    // Destroyed without an error: no 'end' will come; Fastify's own reader would wait forever.
    s = new PassThrough();
    run = start(s, { limit: 1000, contentLength: undefined });
    await drip(s, randomBytes(50), 5);
    s.destroy();
    ({ err } = await run.settled);
    expect(err?.statusCode).toBe(400);
    await tick();
    expect(run.outcome.calls).toBe(1);
    expect(listeners(s)).toEqual([0, 0, 0, 0]);
  });

  it('a real HTTP client that aborts mid-body: an error, once, and nothing unhandled', async () => {
    let request: IncomingMessage | undefined;
    const outcomes: Outcome[] = [];
    const server = createServer((req, res) => {
      request = req;
      readBody(req, { limit: 1_000_000, contentLength: req.headers['content-length'] }, (err, body) => {
        outcomes.push({ err, body, calls: outcomes.length + 1 });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"a":');
      await expect.poll(() => request?.readableLength === 0 && (request?.listenerCount('data') ?? 0) > 0, POLL).toBe(true);
      socket.destroy();
      await expect.poll(() => outcomes.length, POLL).toBe(1);
      expect(outcomes[0]!.err?.statusCode).toBe(400);
      expect(outcomes[0]!.body).toBeUndefined();
      await expect.poll(() => request!.destroyed, POLL).toBe(true);
      expect(['data', 'end', 'error', 'close'].map((e) => request!.listenerCount(e))).toEqual([0, 0, 0, 0]);
      await tick();
      expect(outcomes.length).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('copies each chunk in and keeps none of them: the chunks read so far are collected before the body ends', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const CHUNKS = 4_000;
    const s = new PassThrough();
    const { outcome, settled } = start(s, { limit: 1_000_000, contentLength: undefined });
    const refs: Array<WeakRef<Buffer>> = [];
    // Each chunk a Buffer of its own (not a view of one shared ArrayBuffer), as a socket read is.
    for (let i = 0; i < CHUNKS; i++) {
      const chunk = Buffer.alloc(16, i % 256);
      refs.push(new WeakRef(chunk));
      s.write(chunk);
      if (i % 256 === 255) await tick();
    }
    await tick();
    expect(outcome.calls).toBe(0);
    expect(s.readableLength).toBe(0);
    // The body has not ended: a reader holding its chunks until then keeps every one of them.
    await expect
      .poll(() => {
        gc();
        return refs.filter((r) => r.deref() !== undefined).length;
      })
      .toBeLessThan(10);
    s.end();
    const { err, body } = await settled;
    expect(err).toBeNull();
    expect(body!.length).toBe(CHUNKS * 16);
    expect(body!.subarray(16 * 300, 16 * 301)).toEqual(Buffer.alloc(16, 300 % 256));
  });
});
