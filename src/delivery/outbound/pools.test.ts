import { afterEach, describe, expect, it } from 'vitest';
import { agentFactory } from './agents.js';
import { createDestinationPools, type DestinationPools } from './pools.js';

const opened: DestinationPools[] = [];
function pools(maxPools: number): DestinationPools {
  const p = createDestinationPools(agentFactory({ allowPrivate: true, timeoutMs: 5_000 }), { connections: 4, maxPools });
  opened.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close()));
});

/** The dispatcher a destination's request gets, its lease released at once (the request done). */
function dispatcherOf(p: DestinationPools, key: string, connections?: number) {
  const lease = p.acquire(key, connections);
  lease.release();
  return lease.dispatcher;
}

describe('destination pools', () => {
  it('at the cap, closes the least recently used idle pool, counting every use', () => {
    const p = pools(2);
    const a = dispatcherOf(p, 'fwd_a');
    const b = dispatcherOf(p, 'fwd_b');
    expect(dispatcherOf(p, 'fwd_a')).toBe(a); // fwd_a used again: fwd_b is now the least recent
    dispatcherOf(p, 'fwd_c');
    expect(p.count()).toBe(2);
    expect(dispatcherOf(p, 'fwd_a')).toBe(a);
    expect(dispatcherOf(p, 'fwd_b')).not.toBe(b); // closed for fwd_c, opened again
  });

  it('passes over a busy pool when making room, and shares the common pool when every one is busy', () => {
    const p = pools(2);
    const busy = p.acquire('fwd_busy', undefined);
    const idle = dispatcherOf(p, 'fwd_idle');
    dispatcherOf(p, 'fwd_new'); // fwd_busy is the least recent, but busy: fwd_idle goes
    expect(dispatcherOf(p, 'fwd_idle')).not.toBe(idle);
    const held = p.acquire('fwd_idle', undefined);
    const again = p.acquire('fwd_busy', undefined);
    expect(again.dispatcher).toBe(busy.dispatcher);
    const overflow = p.acquire('fwd_other', undefined);
    expect(overflow.mayQueue).toBe(true);
    expect(overflow.dispatcher).not.toBe(busy.dispatcher);
    expect(overflow.dispatcher).not.toBe(held.dispatcher);
    expect(p.count()).toBe(2);
    for (const l of [busy, held, again, overflow]) l.release();
  });

  it('a resized destination gets a new pool once its old one is idle', () => {
    const p = pools(4);
    const lease = p.acquire('fwd_r', 4);
    const during = p.acquire('fwd_r', 8);
    expect(during.dispatcher).toBe(lease.dispatcher); // busy: kept for now
    during.release();
    lease.release();
    const resized = dispatcherOf(p, 'fwd_r', 8);
    expect(resized).not.toBe(lease.dispatcher);
    expect(dispatcherOf(p, 'fwd_r', 8)).toBe(resized);
    expect(p.count()).toBe(1);
  });
});
