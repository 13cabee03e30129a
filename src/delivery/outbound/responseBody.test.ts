import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCappedBody } from './responseBody.js';

// An hour: a read that only ends on its deadline would outlast the test's own timeout and fail it.
const NEVER = 3_600_000;

describe('readCappedBody', () => {
  it('reads a whole body, decoding UTF-8 split across chunks', async () => {
    const bytes = Buffer.from('{"ok":"é日"}', 'utf8');
    const body = Readable.from([bytes.subarray(0, 8), bytes.subarray(8)], { objectMode: false });
    expect(await readCappedBody(body, 1024, NEVER)).toEqual({ text: '{"ok":"é日"}', end: 'complete' });
  });

  it('keeps the first maxBytes and destroys the rest of the stream', async () => {
    const body = new PassThrough();
    const read = readCappedBody(body, 5, NEVER);
    body.write('0123');
    body.write('456789'); // never ended by the peer: the cap ends the read
    expect(await read).toEqual({ text: '01234', end: 'capped' });
    expect(body.destroyed).toBe(true);
  });

  it('a body of exactly maxBytes that ends is whole, not capped', async () => {
    const body = new PassThrough();
    const read = readCappedBody(body, 5, NEVER);
    body.write('01234');
    body.end();
    expect(await read).toEqual({ text: '01234', end: 'complete' });
  });

  it('keeps what arrived when the peer resets mid-body, and says the body broke', async () => {
    const body = new PassThrough();
    const read = readCappedBody(body, 1024, NEVER);
    body.write('partial');
    await new Promise((r) => setImmediate(r));
    body.destroy(new Error('ECONNRESET'));
    expect(await read).toEqual({ text: 'partial', end: 'broken' });
  });

  it('ends on its deadline for a peer that drips and never finishes, and says so', async () => {
    const body = new PassThrough();
    const read = readCappedBody(body, 1024, 50);
    body.write('a');
    expect(await read).toEqual({ text: 'a', end: 'deadline' });
    expect(body.destroyed).toBe(true);
  });

  it('answers at once for a body already destroyed before it was read: not whole', async () => {
    const body = new PassThrough();
    body.destroy();
    await new Promise((r) => body.once('close', r));
    expect(await readCappedBody(body, 1024, NEVER)).toEqual({ text: '', end: 'broken' });
  });

  it('a body that ended and closed before it was read is whole', async () => {
    const body = new PassThrough();
    body.end('done');
    body.resume();
    await new Promise((r) => body.once('close', r));
    expect(await readCappedBody(body, 1024, NEVER)).toEqual({ text: '', end: 'complete' });
  });

  it('an empty body that ends is whole', async () => {
    const body = new PassThrough();
    const read = readCappedBody(body, 1024, NEVER);
    body.end();
    expect(await read).toEqual({ text: '', end: 'complete' });
  });
});
