// How a request body becomes JSON. Fastify's own parser decodes the bytes as UTF-8 with replacement:
// invalid bytes became U+FFFD in what was stored and forwarded, and a body declared in another charset
// (`charset=iso-8859-1`) was read as UTF-8 all the same, so `café` was stored as `caf\ufffd`. A body is
// now read strictly: JSON text is UTF-8 (RFC 8259), anything else is refused, never altered.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Charsets a JSON body may declare: UTF-8, and ASCII, which is UTF-8 too. */
const READABLE_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);

/** A media type's parameters (`; name=value`, the value maybe quoted), read past quoted semicolons. */
const PARAMETER = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;

function charsets(contentType: string): string[] {
  const out: string[] = [];
  for (const m of contentType.matchAll(PARAMETER)) {
    if (m[1]!.toLowerCase() !== 'charset') continue;
    const raw = m[2]!.trim();
    out.push(
      (raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw)
        .trim()
        .replace(/^'(.*)'$/, '$1')
        .toLowerCase(),
    );
  }
  return out;
}

/** Why a body's headers rule it out before its bytes are read, or null. */
function headerProblem(req: FastifyRequest): AppError | null {
  // Empty, or identity however often it is listed: nothing is encoded.
  const encodings = (req.headers['content-encoding'] ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '' && e !== 'identity');
  if (encodings.length > 0) {
    // Decompressing request bodies would let a small request expand past every body limit.
    return new AppError('unsupported_media_type', 'Compressed request bodies (Content-Encoding) are not accepted: send the JSON uncompressed.');
  }
  // An empty charset says nothing; any other than UTF-8 (or ASCII, part of it) is refused, every one
  // of them when a client sent several.
  if (charsets(req.headers['content-type'] ?? '').some((c) => c !== '' && !READABLE_CHARSETS.has(c))) {
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
  // An empty body typed text/plain is no body (what fetch(url, { method: 'POST', body: '' }) and
  // .NET's StringContent("") send to routes that take none, such as a test or a logout); text with
  // anything in it is the 415 of any other media type.
  app.addContentTypeParser('text/plain', { parseAs: 'buffer' }, (_req, body, done) => {
    if ((body as Buffer).length === 0) return done(null, undefined);
    done(new AppError('unsupported_media_type', 'Send the body as application/json.'), undefined);
  });
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
