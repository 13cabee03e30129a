// Reading a SIEM's answer body within bounds: a size cap and one deadline for the whole body.
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * How a read stopped: the body ended; we stopped at maxBytes; the connection broke first (a reset, an
 * abort); or the deadline passed first. Only the first two are a whole answer as far as we read it.
 */
export type BodyEnd = 'complete' | 'capped' | 'broken' | 'deadline';

export interface CappedBody {
  text: string;
  end: BodyEnd;
}

/**
 * The first maxBytes of the body, decoded as UTF-8; the rest is dropped (the stream is destroyed).
 * A SIEM that drips its body a byte at a time never trips bodyTimeout (it is an idle timer), so the
 * whole body gets one deadline of timeoutMs; what arrived by then is kept, as it is when the body is
 * cut short by a reset, and `end` says which it was, so a caller never takes a torn answer for a
 * whole one. Read with listeners rather than `for await`: the async iterator costs a
 * promise and a tick per chunk, a measurable share of a request's CPU when one event is one request.
 */
export function readCappedBody(body: Readable, maxBytes: number, timeoutMs: number): Promise<CappedBody> {
  return new Promise((resolve) => {
    const decoder = new StringDecoder('utf8');
    let text = '';
    let size = 0;
    let done = false;
    const finish = (end: BodyEnd) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
      // The error listener stays (finish is idempotent): an error emitted after we stopped reading
      // must not become an uncaught exception. A body left unread would hold its connection.
      if (end !== 'complete' && end !== 'broken') body.destroy();
      resolve({ text, end });
    };
    const onData = (chunk: Buffer) => {
      const take = Math.min(chunk.length, maxBytes - size);
      if (take > 0) text += decoder.write(take === chunk.length ? chunk : chunk.subarray(0, take));
      size += take;
      // Capped only once a byte is dropped: a body of exactly maxBytes that then ends is whole.
      if (take < chunk.length) finish('capped');
    };
    const onEnd = () => finish('complete');
    // 'close' follows 'end' for a whole body; on its own it means the stream was destroyed without an
    // error (by undici on an abort, say): nothing more will come, and the body was not whole.
    const onClose = () => finish(body.readableEnded ? 'complete' : 'broken');
    // undici's own idle timer on the body (bodyTimeout) can fire before our deadline: the same thing.
    const onError = (err: unknown) => finish((err as { code?: unknown } | null)?.code === 'UND_ERR_BODY_TIMEOUT' ? 'deadline' : 'broken');
    const deadline = setTimeout(() => finish('deadline'), timeoutMs);
    body.on('data', onData);
    body.once('end', onEnd);
    body.on('error', onError);
    body.once('close', onClose);
    // One already closed before we listened would otherwise hold the caller until the deadline.
    if (body.closed) onClose();
  });
}
