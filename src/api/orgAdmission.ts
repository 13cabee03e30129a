import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { inOrgScope } from '../db/orgScope.js';

/**
 * Per-organization admission: at most `maxConcurrent` requests of one organization are served at a
 * time; more of that organization wait in a FIFO of at most `maxQueued`, each for at most `maxWaitMs`,
 * and past either bound are refused with 429. The API is one Node process: without this, whatever
 * arrived first is served first, and one organization's flood of large batches (each tens of ms of
 * schema check and privacy guard) queues every other organization's requests behind all of it.
 * Organizations never wait behind one another here: each has its own count and queue.
 */
export interface AdmissionLimits {
  /** 0: no limit (every request is admitted at once). */
  maxConcurrent: number;
  maxQueued: number;
  maxWaitMs: number;
}

/**
 * 64 waiting per place (256 at the default 4, config/env.ts) absorbs a burst of a whole fleet of
 * agents flushing at once; a client past that is better told to come back than held. 30 s: a waiting
 * request costs a socket and no CPU, and clients commonly give up after 30 to 60 s; a longer wait
 * would answer nobody.
 */
export const QUEUED_PER_PLACE = 64;
export const MAX_WAIT_MS = 30_000;
/** The environment variable the refusal names, so an operator knows which knob it was. */
export const CONCURRENCY_VARIABLE = 'AEGIS_API_MAX_CONCURRENT_PER_ORG';
const RETRY_AFTER_S = 1;

export function admissionLimits(maxConcurrent: number): AdmissionLimits {
  return { maxConcurrent, maxQueued: maxConcurrent * QUEUED_PER_PLACE, maxWaitMs: MAX_WAIT_MS };
}

export type RefusalReason = 'queue_full' | 'wait_timeout';

/** A place held by one request; release() gives it back once, whatever calls it more often. */
export interface Permit {
  release(): void;
}

interface Waiter {
  grant(permit: Permit): void;
}

interface OrgState {
  active: number;
  /** A Set iterates in insertion order (the FIFO) and deletes a waiter that gave up in O(1). */
  queue: Set<Waiter>;
}

export interface AdmissionEvents {
  refused?(orgId: string, reason: RefusalReason): void;
  /** +1 when a request starts waiting, -1 when it stops (admitted, timed out or gone). */
  waiting?(delta: 1 | -1): void;
  /** +1 when a request takes a place, -1 when a place is left free (not when it passes to a waiter). */
  inFlight?(delta: 1 | -1): void;
}

/** What a refused request is told: which limit it met, and when to come back. */
export type RefusalMessage = (reason: RefusalReason, limits: AdmissionLimits, retryAfterS: number) => string;

const orgRefusal: RefusalMessage = (reason, { maxConcurrent, maxQueued, maxWaitMs }, retryAfterS) => {
  const limit = `this organization's requests are served ${maxConcurrent} at a time (${CONCURRENCY_VARIABLE})`;
  return reason === 'queue_full'
    ? `Too many concurrent requests: ${limit} and ${maxQueued} more may wait, and that many are waiting. Retry after ${retryAfterS} s.`
    : `Too many concurrent requests: ${limit}, and this one waited ${Math.round(maxWaitMs / 1000)} s for a place. Retry after ${retryAfterS} s.`;
};

export class OrgAdmission {
  /** Only organizations with a request in flight or waiting: the map never outgrows the traffic. */
  private readonly orgs = new Map<string, OrgState>();
  private waitingCount = 0;

  constructor(
    readonly limits: AdmissionLimits,
    private readonly events: AdmissionEvents = {},
    private readonly refusal: RefusalMessage = orgRefusal,
  ) {}

  /** Requests waiting for a place, all organizations together. */
  waiting(): number {
    return this.waitingCount;
  }

  /** Requests of `orgId` being served right now. */
  active(orgId: string): number {
    return this.orgs.get(orgId)?.active ?? 0;
  }

  /**
   * A permit once `orgId` has a free place. Rejects with AppError rate_limited when its queue is full
   * or the wait runs out, and (with the signal's reason) when `signal` aborts while waiting: the
   * waiter is then gone from the queue and holds nothing.
   */
  acquire(orgId: string, signal?: AbortSignal): Promise<Permit> {
    if (this.limits.maxConcurrent <= 0) return Promise.resolve(NO_PERMIT);
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    let org = this.orgs.get(orgId);
    if (!org) this.orgs.set(orgId, (org = { active: 0, queue: new Set() }));
    if (org.active < this.limits.maxConcurrent && org.queue.size === 0) {
      org.active++;
      this.events.inFlight?.(1);
      return Promise.resolve(this.permit(orgId, org));
    }
    if (org.queue.size >= this.limits.maxQueued) return Promise.reject(this.refuse(orgId, 'queue_full'));
    const state = org;
    return new Promise<Permit>((resolve, reject) => {
      const leave = () => {
        state.queue.delete(waiter);
        this.changeWaiting(-1);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.forgetIfIdle(orgId, state);
      };
      const waiter: Waiter = {
        grant: (permit) => {
          leave();
          resolve(permit);
        },
      };
      const onAbort = () => {
        leave();
        if (signal) reject(abortReason(signal));
      };
      const timer = setTimeout(() => {
        leave();
        reject(this.refuse(orgId, 'wait_timeout'));
      }, this.limits.maxWaitMs);
      state.queue.add(waiter);
      this.changeWaiting(1);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private permit(orgId: string, org: OrgState): Permit {
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        // The place passes straight to the oldest waiter: `active` stays the same, and no newcomer can
        // slip in between the release and the waiter's turn.
        const next = org.queue.values().next();
        if (!next.done) next.value.grant(this.permit(orgId, org));
        else {
          org.active--;
          this.events.inFlight?.(-1);
          this.forgetIfIdle(orgId, org);
        }
      },
    };
  }

  private forgetIfIdle(orgId: string, org: OrgState): void {
    if (org.active === 0 && org.queue.size === 0 && this.orgs.get(orgId) === org) this.orgs.delete(orgId);
  }

  private changeWaiting(delta: 1 | -1): void {
    this.waitingCount += delta;
    this.events.waiting?.(delta);
  }

  private refuse(orgId: string, reason: RefusalReason): AppError {
    this.events.refused?.(orgId, reason);
    return new AppError('rate_limited', this.refusal(reason, this.limits, RETRY_AFTER_S), { retryAfterS: RETRY_AFTER_S });
  }
}

const abortReason = (signal: AbortSignal): Error => (signal.reason instanceof Error ? signal.reason : new Error('aborted while waiting for a place'));

const NO_PERMIT: Permit = { release: () => undefined };

/** The place a gated request holds, from its admission until its response and its handler are both over. */
interface Place {
  permit: Permit | null;
  /** The route handler has started and its promise has not settled yet. */
  running: boolean;
  /** The response is over: answered, or the client went away. */
  over: boolean;
  /** Called when the response is over (idempotent): gives the place back unless the handler runs. */
  end: () => void;
  /** The response or its connection is already closed, whether or not its 'close' has been emitted. */
  closed: () => boolean;
}

/**
 * Registers the gate on `app` (the scope of the organization routes, right after authentication): an
 * onRequest hook that takes the organization's place, and an onRoute hook that wraps each route's
 * handler so that the place stays taken while the handler's promise runs.
 *
 * A waiting request's body is not read yet (TCP holds it back), so waiting costs a socket, not CPU or
 * memory. The place is given back once the response is over AND no handler runs:
 * - the response is over on the raw response's 'close', which fires once the answer is sent and when
 *   the client goes away alike, whatever answered (a handler, a later hook's error, a validation 400);
 *   or on its socket's 'close', for a pipelined request queued behind another on its connection: Node
 *   destroys such a request when the socket closes without its response ever emitting 'close'.
 * - a handler runs from its call until its promise settles (resolved or thrown). Fastify does not stop
 *   a handler when its client leaves: giving the place back on 'close' alone let an organization run
 *   any number of handlers at once (test probes, batches, replays) by dropping each connection.
 * A handler is not started for a request whose client has already gone (its place is given back): as
 * a waiting request whose client leaves never takes a place, no work starts for a client that is no
 * longer there to get its answer.
 */
export function admitPerOrg(app: FastifyInstance, admission: OrgAdmission): void {
  const places = new WeakMap<FastifyRequest, Place>();

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const orgId = req.authOrgId;
    if (orgId === undefined || admission.limits.maxConcurrent <= 0) return;
    const res = reply.raw;
    const socket = req.raw.socket as Socket | null;
    const gone = new AbortController();
    const place: Place = {
      permit: null,
      running: false,
      over: false,
      end: () => {
        if (place.over) return;
        place.over = true;
        // A keep-alive socket serves many requests: it must not keep one listener for each.
        res.removeListener('close', place.end);
        socket?.removeListener('close', place.end);
        if (place.permit) {
          if (!place.running) place.permit.release();
        } else gone.abort(new AppError('rate_limited', 'The client closed the connection while its request waited for a place.'));
      },
      closed: () => res.closed || socket === null || socket.destroyed,
    };
    res.once('close', place.end);
    socket?.once('close', place.end);
    // 'close' is not emitted again for a listener added after it: a client gone during authentication.
    if (place.closed()) place.end();
    const permit = await admission.acquire(orgId, gone.signal);
    place.permit = permit;
    places.set(req, place);
    // Over between the grant and this continuation: end() saw no permit yet.
    if (place.over) permit.release();
    else if (place.closed()) place.end();
  });

  app.addHook('onRoute', (route) => {
    const unscoped = route.handler as (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) => unknown;
    // The handler runs as work for its organization (db/orgScope.ts), gated or not: everything it
    // awaits or starts carries it, and the API's pool shares its connections between organizations
    // by it (db/fairSlots.ts), so one organization's requests never hold all of them.
    const handler = function (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply): unknown {
      const orgId = req.authOrgId;
      return orgId === undefined ? unscoped.call(this, req, reply) : inOrgScope(orgId, () => unscoped.call(this, req, reply));
    };
    route.handler = function gatedHandler(this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
      const place = places.get(req);
      if (place === undefined) return handler.call(this, req, reply); // not gated: no organization, or no limit
      if (place.over || place.closed()) {
        // The client is gone before its handler started: nobody is left to answer.
        place.end();
        reply.hijack();
        return undefined;
      }
      place.running = true;
      const settled = () => {
        place.running = false;
        // The response was over while the handler ran: the place comes back now. Otherwise end() does it.
        if (place.over) place.permit?.release();
      };
      let result: unknown;
      try {
        result = handler.call(this, req, reply);
      } catch (err) {
        settled();
        throw err;
      }
      if (isThenable(result)) result.then(settled, settled);
      else settled();
      // The handler's own result, untouched: Fastify treats it exactly as without the gate.
      return result;
    };
  });
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
