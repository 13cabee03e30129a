// Reading a SIEM's answer body within bounds: a size cap and one deadline for the whole body.
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * The first maxBytes of the body, decoded as UTF-8; the rest is dropped (breaking out destroys the
 * stream). A SIEM that drips its body a byte at a time never trips bodyTimeout (it is an idle timer),
 * so the whole body gets one deadline of timeoutMs; what arrived by then is kept.
 */
export async function readCappedBody(body: Readable, maxBytes: number, timeoutMs: number): Promise<string> {
  const bodyDeadline = setTimeout(() => body.destroy(), timeoutMs);
  const decoder = new StringDecoder('utf8');
  let text = '';
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      const take = Math.min(buf.length, maxBytes - size);
      if (take > 0) text += decoder.write(take === buf.length ? buf : buf.subarray(0, take));
      size += take;
      if (size >= maxBytes) break;
    }
  } catch {
    // The status line already arrived; a body cut short by a reset or the timeout keeps what we have.
    body.destroy();
  } finally {
    clearTimeout(bodyDeadline);
  }
  return text;
}
