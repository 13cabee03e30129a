// How a request body becomes JSON. Fastify's own parser decodes the bytes as UTF-8 with replacement:
// invalid bytes became U+FFFD in what was stored and forwarded, and a body declared in another charset
// (`charset=iso-8859-1`) was read as UTF-8 all the same, so `café` was stored as `caf\ufffd`. A body is
// now read strictly: JSON text is UTF-8 (RFC 8259), anything else is refused, never altered.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { readRequestBody } from './bodyReader.js';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How many JSON values this route's body may hold (countsPast); MAX_JSON_VALUES when unset. */
    maxJsonValues?: number;
    /** The media types this route reads, as a 415 names them; application/json when unset. */
    bodyMediaTypes?: string;
  }
}

/**
 * JSON values a body may hold unless its route says otherwise: every body but a batch of audit events
 * is a few fields (a 4 KiB filter, 1,000 dead-letter ids), far under this.
 */
export const MAX_JSON_VALUES = 10_000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether a JSON text holds more than `cap` values, counted as its `{`, `[` and `,` outside strings
 * (two per element of an array of objects, one per member or element past the first): read before
 * the text is parsed, since parsing is what costs. A string is skipped with indexOf (memchr), so a
 * body of long strings costs little more than its length. Malformed JSON is the parser's to refuse.
 */
export function countsPast(body: Buffer, cap: number): boolean {
  let values = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === QUOTE) {
      // The closing quote: one not escaped, that is after an even run of backslashes.
      let end = i;
      for (;;) {
        end = body.indexOf(QUOTE, end + 1);
        if (end < 0) return false;
        let slashes = 0;
        while (body[end - 1 - slashes] === BACKSLASH) slashes++;
        if (slashes % 2 === 0) break;
      }
      i = end;
    } else if ((c === 0x2c || c === 0x5b || c === 0x7b) && ++values > cap) return true;
  }
  return false;
}

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

/** A zero-length body: no bytes, whatever type it was labelled with. It carries nothing, so it is no body. */
const NO_BODY = undefined;

/** The 415 of a media type this route cannot read, naming the ones it can (FastifyContextConfig.bodyMediaTypes). */
const otherMediaType = (req: FastifyRequest) =>
  new AppError('unsupported_media_type', `Send the body as ${req.routeOptions.config.bodyMediaTypes ?? 'application/json'}.`);

/**
 * A body whose media type has no parser here: nothing when it is empty, else the 415 Fastify gives
 * any media type it has no parser for. Decided without reading what a body with bytes in it holds:
 * on its Content-Length, or for a chunked body on whether it ends before its first byte.
 */
function otherBody(req: FastifyRequest, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: unknown) => void): void {
  // A path that is no route answers its 404 whatever the body, as Fastify does without a parser.
  if (req.is404) return done(null, NO_BODY);
  // Without Transfer-Encoding the length is the Content-Length, and a request without either has no
  // body at all (RFC 9112, 6.3).
  if (req.headers['transfer-encoding'] === undefined) {
    const length = req.headers['content-length'];
    return done(length === undefined || /^0+$/.test(length) ? null : otherMediaType(req), NO_BODY);
  }
  let decided = false;
  const decide = (err: Error | null) => {
    if (decided) return;
    decided = true;
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', decide);
    done(err, NO_BODY);
  };
  const onData = () => decide(otherMediaType(req));
  const onEnd = () => decide(null);
  payload.on('data', onData);
  payload.once('end', onEnd);
  payload.once('error', decide);
}

/**
 * Replaces Fastify's JSON parser with one that refuses what it cannot read exactly: another
 * charset or a compressed body (415), bytes that are not UTF-8 (400 invalid_json). The JSON itself is
 * parsed by Fastify's own parser (secure-json-parse, `__proto__` and `constructor.prototype`
 * refused), so nothing else changes. A text/plain body is no longer read as a string to fail the
 * schema with "must be object": it is the 415 any other media type gets.
 *
 * A zero-length body of any type is no body: what a route without a body gets, and the 400 a route
 * that needs one answers when it is missing. Many clients send `Content-Type: application/json` on
 * every request, fetch and .NET's StringContent("") send text/plain, `curl -X POST -d ''` sends
 * application/x-www-form-urlencoded; to a route that takes none (a test, a replay of the dead
 * letters, a logout) each of them means "no body", and was a 400 invalid_json or a 415.
 */
export function strictJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  // Both read their body with readRequestBody (one buffer, each chunk copied in and dropped), not
  // Fastify's parseAs, whose array of one Buffer per socket read made a body dripped a byte at a time
  // cost some 200 times its size. A path that is no route answers its 404 whatever the body, as with
  // any other media type, before a byte of it is read: it is no one's to read, and up to the 2 MiB
  // limit of it was held for anyone, without credentials, before the 404 went out.
  // Text with anything in it is the 415 of any other media type.
  app.addContentTypeParser('text/plain', (req, payload, done) => {
    if (req.is404) return done(null, NO_BODY);
    readRequestBody(req, payload, (err, body) => {
      if (err !== null) return done(err, undefined);
      if (body!.length === 0) return done(null, NO_BODY);
      done(otherMediaType(req), undefined);
    });
  });
  app.addContentTypeParser('application/json', (req, payload, done) => {
    if (req.is404) return done(null, NO_BODY);
    readRequestBody(req, payload, (err, body) => (err !== null ? done(err, undefined) : parseJsonBody(req, body!, done)));
  });
  function parseJsonBody(req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void): void {
    // Nothing to decode: what the headers say of a charset or an encoding concerns no byte.
    if (body.length === 0) return done(null, NO_BODY);
    const refused = headerProblem(req);
    if (refused) return done(refused, undefined);
    // Refused before it is parsed: parsing a few MB of `{}` holds the event loop, and every other
    // organization's requests with it, for seconds, which no later check of the route can give back.
    const cap = req.routeOptions.config.maxJsonValues ?? MAX_JSON_VALUES;
    if (countsPast(body, cap)) {
      return done(
        new AppError(
          'payload_too_large',
          `The request body holds more than ${cap.toLocaleString('en-US')} JSON values (objects, arrays, members); send less per request.`,
        ),
        undefined,
      );
    }
    let text: string;
    try {
      // A leading byte order mark is dropped, as JSON.parse of Fastify's string did.
      text = STRICT_UTF8.decode(body);
    } catch {
      return done(new AppError('invalid_json', 'The request body is not valid UTF-8, which JSON must be.'), undefined);
    }
    void parse(req, text, (err, value) => {
      // Fastify's parser refuses a prototype-poisoning key (onProtoPoisoning 'error') as it refuses a
      // syntax error; valid JSON refused is said so, or a client hunts for a syntax error. Parsed again
      // only on that path, within the cap above.
      if (err !== null && (err as { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY' && isJson(text))
        return done(
          new AppError('invalid_json', 'The request body holds a key named __proto__, or constructor with prototype in it, which is refused.'),
          undefined,
        );
      done(err, value);
    });
  }
  // Every other media type, and a body sent without one. A scope may add its own (the sign-in form's
  // application/x-www-form-urlencoded, routes/session.ts), which is then used instead.
  app.addContentTypeParser('*', (req, payload, done) => otherBody(req, payload, done));
}

/** Whether `text` is JSON at all (JSON.parse keeps a "__proto__" key as an own property: no pollution). */
function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
