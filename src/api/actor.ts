import type { FastifyRequest } from 'fastify';
import type { TrailActor } from '../trail/contract.js';

/** Who made a request, as the configuration trail records it (set by requireOrg; never a secret). */
export function actorOf(req: FastifyRequest): TrailActor {
  if (!req.authActor) throw new Error('actorOf: the request was not authenticated by requireOrg');
  return req.authActor;
}
