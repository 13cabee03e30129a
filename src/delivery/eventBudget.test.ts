import { describe, expect, it } from 'vitest';
import { EventBudget } from './eventBudget.js';

describe('EventBudget', () => {
  it('grants what is free, up to what was asked, and at least one', async () => {
    const b = new EventBudget(10);
    expect(await b.acquire(4)).toBe(4);
    expect(await b.acquire(100)).toBe(6);
    expect(b.inUse).toBe(10);
    b.release(3);
    expect(await b.acquire(0)).toBe(1);
  });

  it('a request waits while nothing is free and is granted on release', async () => {
    const b = new EventBudget(5);
    await b.acquire(5);
    let granted = 0;
    const p = b.acquire(3).then((n) => (granted = n));
    await Promise.resolve();
    expect(granted).toBe(0);
    b.release(2);
    await p;
    expect(granted).toBe(2);
  });

  it('first come, first served: a later request does not overtake a waiting one', async () => {
    const b = new EventBudget(4);
    await b.acquire(4);
    const order: string[] = [];
    const quiet = b.acquire(1).then((n) => order.push(`quiet:${n}`));
    const busy = b.acquire(4).then((n) => order.push(`busy:${n}`));
    b.release(1); // only enough for the first in line
    await quiet;
    expect(order).toEqual(['quiet:1']);
    b.release(4);
    await busy;
    expect(order).toEqual(['quiet:1', 'busy:4']);
    // Once someone waits, even a request that would fit queues behind it.
    const c = new EventBudget(2);
    await c.acquire(2);
    const first = c.acquire(2);
    c.release(1);
    expect(await first).toBe(1);
  });

  it('never counts below zero or above capacity', () => {
    const b = new EventBudget(3);
    b.release(10);
    expect(b.inUse).toBe(0);
    expect(() => new EventBudget(0)).toThrow();
  });
});
