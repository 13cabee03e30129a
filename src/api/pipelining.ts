import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Requests one connection may have parsed and not yet answered. HTTP/1.1 lets a client send requests
 * before reading the answers, and Node parses every request in what it has read before it stops
 * reading: an attacker's review sent 1,700 requests for the OpenAPI document in one write on each of
 * 20 connections and read nothing, so the answers could not be written and every request and reply
 * object stayed on the heap until the process ran out of memory. A client that reads its answers has
 * one or two waiting; browsers and the usual HTTP clients send one at a time.
 */
export const MAX_PIPELINED_REQUESTS = 16;

/**
 * Closes a connection past MAX_PIPELINED_REQUESTS unanswered requests. Counted on the server's own
 * 'request' event, ahead of Fastify's: a request Fastify refuses before its hooks (a URL it cannot
 * decode, answered by frameworkErrors) is held like any other, and the second look at this fix found
 * those were not counted. What Fastify still does with a request of a closed connection stops at its
 * first hook: nothing is left to answer.
 */
export function limitPipelining(app: FastifyInstance): void {
  const waiting = new WeakMap<Socket, number>();
  app.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const n = (waiting.get(socket) ?? 0) + 1;
    waiting.set(socket, n);
    // 'close' comes once the answer is written or the connection is gone, whichever is first.
    res.once('close', () => waiting.set(socket, (waiting.get(socket) ?? 1) - 1));
    if (n > MAX_PIPELINED_REQUESTS) socket.destroy();
  });
  app.addHook('onRequest', (req, reply, done) => {
    if (!req.raw.socket.destroyed) return done();
    req.log.debug('closed a connection with more unanswered pipelined requests than allowed');
    void reply.hijack();
  });
}
