// Connection pools: one shared Agent, plus one Agent per destination that is sending, so a destination
// whose SIEM holds every socket open, or a tenant with a huge backlog, never queues another
// destination's requests to the same origin.
import type { Agent } from 'undici';
import type { NewAgent } from './agents.js';
import { RecencyMap } from '../recencyMap.js';
import { monotonicNow } from '../../monotonicClock.js';

export const DEFAULT_CONNECTIONS_PER_ORIGIN = 16;
/** A destination's own connections are closed after this long without a request. */
const POOL_IDLE_MS = 60_000;
/**
 * Destinations with connections of their own at once (default). Past it the least recently used idle
 * one is closed; when every one is busy, the request uses the shared pool. Above the worker's
 * destinations served at once (1,000), so in normal operation every sending destination has its own.
 */
export const DEFAULT_MAX_POOLS = 2048;

export interface PoolLease {
  dispatcher: Agent;
  /**
   * Whether the request may wait for a connection: the destination's pool already has as many
   * requests in flight as connections, or the request goes through the shared pool (whose use is not
   * counted). When it cannot wait, each phase's own timeout bounds it and no overall clock is needed.
   */
  mayQueue: boolean;
  /** Marks the request done: the pool counts as idle again once all its leases are released. */
  release: () => void;
}

export interface DestinationPools {
  /** The pool for a destination's request (the shared one without a key), sized to `wanted` connections. */
  acquire(key: string | undefined, wanted: number | undefined): PoolLease;
  /** Destinations holding a connection pool of their own now. */
  count(): number;
  /** Closes the shared pool and every destination's. */
  close(): Promise<void>;
}

export function createDestinationPools(newAgent: NewAgent, opts: { connections?: number | undefined; maxPools?: number | undefined }): DestinationPools {
  const defaultConnections = opts.connections ?? DEFAULT_CONNECTIONS_PER_ORIGIN;
  const maxPools = Math.max(1, opts.maxPools ?? DEFAULT_MAX_POOLS);
  const agent = newAgent(defaultConnections);
  // One Agent per destination that is sending, sized to its own concurrency; one left idle for
  // POOL_IDLE_MS is closed, and at most maxPools exist at once (least recently used idle ones are
  // closed first), so sockets and memory follow the destinations with traffic, within a bound, not
  // every destination configured. Kept in the order of their last use (recencyMap.ts: a use relinks
  // the pool rather than re-inserting it in a Map, whose cost grows with the pools held).
  const pools = new RecencyMap<string, { agent: Agent; connections: number; active: number; lastUsed: number }>();
  const closePool = (key: string, p: { agent: Agent }) => {
    pools.delete(key);
    void p.agent.close().catch(() => undefined);
  };
  const sweep = setInterval(() => {
    const now = monotonicNow();
    for (const [key, p] of pools.entries()) if (p.active === 0 && now - p.lastUsed > POOL_IDLE_MS) closePool(key, p);
  }, POOL_IDLE_MS);
  sweep.unref();
  /** Makes room for one more pool: closes the least recently used idle one; false when all are busy. */
  const makeRoom = (): boolean => {
    if (pools.size < maxPools) return true;
    for (const [key, p] of pools.entries()) {
      if (p.active === 0) {
        closePool(key, p);
        return true;
      }
    }
    return false;
  };
  const acquire = (key: string | undefined, wanted: number | undefined): PoolLease => {
    const shared = { dispatcher: agent, mayQueue: true, release: () => undefined };
    if (key === undefined) return shared;
    const connections = wanted !== undefined && Number.isInteger(wanted) && wanted > 0 ? wanted : defaultConnections;
    // A use: the pool becomes the most recently used.
    let p = pools.use(key);
    // Resized (the destination's max_concurrent_requests changed): a new pool once the old one is idle.
    if (p && p.active === 0 && p.connections !== connections) {
      closePool(key, p);
      p = undefined;
    }
    if (!p) {
      // Every pool busy at the cap: this request shares the common pool rather than open more sockets.
      if (!makeRoom()) return shared;
      pools.set(key, (p = { agent: newAgent(connections), connections, active: 0, lastUsed: monotonicNow() }));
    }
    const pool = p;
    const mayQueue = pool.active >= pool.connections;
    pool.active++;
    return {
      dispatcher: pool.agent,
      mayQueue,
      release: () => {
        pool.active--;
        pool.lastUsed = monotonicNow();
      },
    };
  };

  return {
    acquire,
    count: () => pools.size,
    async close() {
      clearInterval(sweep);
      const all = [agent, ...pools.values().map((p) => p.agent)];
      pools.clear();
      await Promise.all(all.map((a) => a.close()));
    },
  };
}
