// How request bodies are read (api/bodyReader.ts, api/jsonBody.ts). Fastify's reader kept each socket
// read as a Buffer of its own until the body ended, some 200 bytes of heap a read: a 2 MiB body
// dripped a byte per TCP segment held about 400 MB, and one slow client could end the process for
// every organization. A body is now copied into one buffer as it arrives. And a JSON POST to a path
// that is no route had its whole body (up to the 2 MiB limit) read and held before its 404, with no
// credentials needed: it is now answered before a byte of the body is read.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serviceWithOrg } from '../../support/serviceWithOrg.js';
import { agentRecord } from '../events/support.js';

/** A ceiling, not an expectation: the answer comes as soon as the server sends it. */
const ANSWER = { timeout: 60_000, interval: 50 };

interface Answer {
  status: number;
  head: string;
  body: { error?: { code: string; message: string }; accepted?: number };
}

describe('request bodies', () => {
  const t = serviceWithOrg('pglite');
  const open: Socket[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.destroy();
  });

  /** A socket to the service, and what it has answered once a whole answer (head and body) is in. */
  async function client() {
    const { hostname, port } = new URL(t.svc.baseUrl);
    const socket = connect(Number(port), hostname);
    socket.setNoDelay(true);
    open.push(socket);
    let received = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const answer = (): Answer | null => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return null;
      const head = received.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
      const body = received.subarray(end + 4);
      if (body.length < length) return null;
      return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), head, body: JSON.parse(body.toString('utf8')) as Answer['body'] };
    };
    return { socket, answer };
  }

  const head = (lines: string[]) => [...lines, `Host: ${new URL(t.svc.baseUrl).host}`, '', ''].join('\r\n');
  /** The head of the organization's own JSON POST to `path`, framed by `framing` (a length or chunked). */
  const jsonPost = (path: string, framing: string) =>
    head([`POST /api/orgs/${t.org.orgId}/${path} HTTP/1.1`, `Authorization: Bearer ${t.org.apiKey}`, 'Content-Type: application/json', framing]);
  /** One piece of a chunked body. */
  const chunkOf = (piece: Buffer) => Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]);

  it.each([
    ['a path that is no route', () => '/no-such-route', 404, 'not_found'],
    ['an organization path that is no route, without credentials', () => `/api/orgs/${t.org.orgId}/no-such-thing`, 404, 'not_found'],
    ['a route that takes no POST', () => '/healthz', 405, 'method_not_allowed'],
  ])('a JSON POST to %s is answered before its body is sent', async (_what, path, status, code) => {
    const { socket, answer } = await client();
    socket.write(head([`POST ${path()} HTTP/1.1`, 'Content-Type: application/json', `Content-Length: ${2 * 1024 * 1024}`]));
    socket.write(Buffer.alloc(1024, 0x20));
    // The other 2,047 KiB are never sent: the answer comes all the same.
    await expect.poll(answer, ANSWER).not.toBeNull();
    expect(answer()!.status).toBe(status);
    expect(answer()!.body.error?.code).toBe(code);
  });

  it('a body whose Content-Length is over the limit is refused before it is sent', async () => {
    const { socket, answer } = await client();
    socket.write(jsonPost('forwarding-destinations', `Content-Length: ${2 * 1024 * 1024 + 1}`));
    await expect.poll(answer, ANSWER).not.toBeNull();
    expect(answer()!.status).toBe(413);
    expect(answer()!.body.error).toEqual({ code: 'payload_too_large', message: 'The request body is larger than this endpoint accepts (2 MiB).' });
    expect(answer()!.head).toMatch(/\r\nconnection: close/i);
  });

  /** Writes `bytes`, and when the socket is full waits for it to drain (or to close: the server may answer and hang up). */
  async function send(socket: Socket, bytes: Buffer | string): Promise<void> {
    if (socket.destroyed || socket.write(bytes)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  /** Sends `bytes` in writes of `size` bytes, waiting for the socket to drain now and then. */
  async function drip(socket: Socket, bytes: Buffer, size: number, frame: (piece: Buffer) => Buffer = (p) => p): Promise<void> {
    for (let i = 0; i < bytes.length; i += size) {
      await send(socket, frame(bytes.subarray(i, i + size)));
      // Now and then a pause, so the pieces reach the server as many reads rather than one.
      if ((i / size) % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  const batch = (prefix: string) =>
    Buffer.from(
      JSON.stringify({
        events: Array.from({ length: 20 }, (_, i) =>
          agentRecord({ preflight_id: `pflt_${prefix}_${String(i).padStart(8, '0')}`, summary: 'Detected SSN; masked. café' }),
        ),
      }),
    );

  it.each([
    ['in many small writes, with a Content-Length', false],
    ['chunked, in many small chunks', true],
  ])('a body sent %s is accepted as before', async (_how, chunked) => {
    const { socket, answer } = await client();
    const body = batch(chunked ? 'drip_chunked' : 'drip_length');
    socket.write(jsonPost('audit-events', chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`));
    if (chunked) {
      await drip(socket, body, 5, chunkOf);
      socket.write('0\r\n\r\n');
    } else await drip(socket, body, 7);
    await expect.poll(answer, ANSWER).not.toBeNull();
    expect(answer()!.status, JSON.stringify(answer()!.body)).toBe(200);
    expect(answer()!.body.accepted).toBe(20);
  });

  it('a chunked body past the limit is refused with 413 as before', async () => {
    const { socket, answer } = await client();
    socket.write(jsonPost('forwarding-destinations', 'Transfer-Encoding: chunked'));
    const piece = Buffer.alloc(64 * 1024, 0x20);
    const chunk = chunkOf(piece);
    // 33 pieces of 64 KiB: one past 2 MiB. Written while the server may already be answering.
    for (let i = 0; i < 33 && answer() === null && !socket.destroyed; i++) {
      await send(socket, chunk);
    }
    await expect.poll(answer, ANSWER).not.toBeNull();
    expect(answer()!.status).toBe(413);
    expect(answer()!.body.error?.code).toBe('payload_too_large');
  });
});
