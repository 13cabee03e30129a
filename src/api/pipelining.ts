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

/** Closes a connection past MAX_PIPELINED_REQUESTS unanswered requests: its requests are dropped. */
export function limitPipelining(app: FastifyInstance): void {
  const waiting = new WeakMap<Socket, number>();
  app.addHook('onRequest', (req, reply, done) => {
    const socket = req.raw.socket;
    const n = (waiting.get(socket) ?? 0) + 1;
    waiting.set(socket, n);
    // 'close' comes once the answer is written or the connection is gone, whichever is first.
    reply.raw.once('close', () => waiting.set(socket, (waiting.get(socket) ?? 1) - 1));
    if (n <= MAX_PIPELINED_REQUESTS) return done();
    req.log.debug({ waiting: n }, 'closed a connection with more unanswered pipelined requests than allowed');
    void reply.hijack();
    socket.destroy();
  });
}
