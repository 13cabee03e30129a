import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The answer of /openapi.json and of the docs page's /docs/json. The document is the same for the
 * process's life and several hundred KB: serialised on every request it cost 22-52 ms of the API's one
 * event loop, unauthenticated. It is written once, on the first ask (every route is registered by
 * then), with an ETag, so that a client that has it (the docs page, on every load) gets a 304.
 */
export function openapiAnswer(document: () => unknown): (req: FastifyRequest, reply: FastifyReply) => FastifyReply {
  let written: { text: string; etag: string } | undefined;
  return (req, reply) => {
    if (written === undefined) {
      const text = JSON.stringify(document());
      written = { text, etag: `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"` };
    }
    void reply.header('etag', written.etag);
    if (matchesEtag(req.headers['if-none-match'], written.etag)) return reply.code(304).send();
    return reply.type('application/json; charset=utf-8').send(written.text);
  };
}

/** If-None-Match as RFC 9110 compares it for GET: weakly, any of a list, or "*". */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}
