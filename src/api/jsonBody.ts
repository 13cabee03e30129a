// How a request body becomes JSON. Fastify's own parser decodes the bytes as UTF-8 with replacement:
// invalid bytes became U+FFFD in what was stored and forwarded, and a body declared in another charset
// (`charset=iso-8859-1`) was read as UTF-8 all the same, so `café` was stored as `caf\ufffd`. A body is
// now read strictly: JSON text is UTF-8 (RFC 8259), anything else is refused, never altered.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Why a body's headers rule it out before its bytes are read, or null. */
function headerProblem(req: FastifyRequest): AppError | null {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    // Decompressing request bodies would let a small request expand past every body limit.
    return new AppError('unsupported_media_type', 'Compressed request bodies (Content-Encoding) are not accepted: send the JSON uncompressed.');
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return new AppError('unsupported_media_type', 'Send the body as application/json in UTF-8 (charset=utf-8, or no charset).');
  }
  return null;
}

/**
 * Replaces Fastify's JSON parser with one that refuses what it cannot read exactly: another
 * charset or a compressed body (415), bytes that are not UTF-8 (400 invalid_json). The JSON itself is
 * parsed by Fastify's own parser (secure-json-parse, `__proto__` and `constructor.prototype`
 * refused), so nothing else changes. A text/plain body is no longer read as a string to fail the
 * schema with "must be object": it is the 415 any other media type gets.
 */
export function strictJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const refused = headerProblem(req);
    if (refused) return done(refused, undefined);
    let text: string;
    try {
      // A leading byte order mark is dropped, as JSON.parse of Fastify's string did.
      text = STRICT_UTF8.decode(body as Buffer);
    } catch {
      return done(new AppError('invalid_json', 'The request body is not valid UTF-8, which JSON must be.'), undefined);
    }
    void parse(req, text, done);
  });
}
