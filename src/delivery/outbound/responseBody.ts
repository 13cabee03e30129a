// Reading a SIEM's answer body within bounds: a size cap and one deadline for the whole body.
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * The first maxBytes of the body, decoded as UTF-8; the rest is dropped (the stream is destroyed).
 * A SIEM that drips its body a byte at a time never trips bodyTimeout (it is an idle timer), so the
 * whole body gets one deadline of timeoutMs; what arrived by then is kept, as it is when the body is
 * cut short by a reset. Read with listeners rather than `for await`: the async iterator costs a
 * promise and a tick per chunk, a measurable share of a request's CPU when one event is one request.
 */
export function readCappedBody(body: Readable, maxBytes: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const decoder = new StringDecoder('utf8');
    let text = '';
    let size = 0;
    let done = false;
    const finish = (destroy: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onEnd);
      // The error listener stays (finish is idempotent): an error emitted after we stopped reading
      // must not become an uncaught exception. A body left unread would hold its connection.
      if (destroy) body.destroy();
      resolve(text);
    };
    const onData = (chunk: Buffer) => {
      const take = Math.min(chunk.length, maxBytes - size);
      if (take > 0) text += decoder.write(take === chunk.length ? chunk : chunk.subarray(0, take));
      size += take;
      if (size >= maxBytes) finish(true);
    };
    const onEnd = () => finish(false);
    const onError = () => finish(true);
    const deadline = setTimeout(() => finish(true), timeoutMs);
    body.on('data', onData);
    body.once('end', onEnd);
    body.on('error', onError);
    // Destroyed without an error (by undici on an abort, say): nothing more will come. One already
    // closed before we listened would otherwise hold the caller until the deadline.
    body.once('close', onEnd);
    if (body.closed) finish(false);
  });
}
