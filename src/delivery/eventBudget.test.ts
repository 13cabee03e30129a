import { describe, expect, it } from 'vitest';
import { EventBudget, ORG_SHARES } from './eventBudget.js';

describe('EventBudget', () => {
  it('grants what is free, up to what was asked, and at least one', async () => {
    const b = new EventBudget(10, 10);
    expect(await b.acquire('a', 4)).toBe(4);
    expect(await b.acquire('a', 100)).toBe(6);
    expect(b.inUse).toBe(10);
    b.release('a', 3);
    expect(await b.acquire('a', 0)).toBe(1);
  });

  it('a request waits while nothing is free and is granted on release', async () => {
    const b = new EventBudget(5, 5);
    await b.acquire('a', 5);
    let granted = 0;
    const p = b.acquire('a', 3).then((n) => (granted = n));
    await Promise.resolve();
    expect(granted).toBe(0);
    b.release('a', 2);
    await p;
    expect(granted).toBe(2);
  });

  it('first come, first served within an organization: a later request does not overtake a waiting one', async () => {
    const b = new EventBudget(4, 4);
    await b.acquire('a', 4);
    const order: string[] = [];
    const quiet = b.acquire('a', 1).then((n) => order.push(`quiet:${n}`));
    const busy = b.acquire('a', 4).then((n) => order.push(`busy:${n}`));
    b.release('a', 1); // only enough for the first in line
    await quiet;
    expect(order).toEqual(['quiet:1']);
    b.release('a', 4);
    await busy;
    expect(order).toEqual(['quiet:1', 'busy:4']);
    // Once someone waits, even a request that would fit queues behind it.
    const c = new EventBudget(2, 2);
    await c.acquire('a', 2);
    const first = c.acquire('a', 2);
    c.release('a', 1);
    expect(await first).toBe(1);
  });

  it('an organization holds at most its share; the rest is granted at once to the others', async () => {
    const b = new EventBudget(20);
    expect(b.orgShare).toBe(20 / ORG_SHARES);
    expect(await b.acquire('heavy', 100)).toBe(5);
    // At its share: the heavy organization waits, with most of the budget free...
    let more = 0;
    const waiting = b.acquire('heavy', 100).then((n) => (more = n));
    // ...which another organization gets without waiting behind it.
    expect(await b.acquire('quiet', 3)).toBe(3);
    expect(await b.acquire('other', 100)).toBe(5);
    expect([b.heldBy('heavy'), b.heldBy('quiet'), b.heldBy('other'), b.inUse]).toEqual([5, 3, 5, 13]);
    await Promise.resolve();
    expect(more).toBe(0);
    // What the heavy organization gives back it may take again, up to its share.
    b.release('heavy', 2);
    await waiting;
    expect(more).toBe(2);
    expect(b.heldBy('heavy')).toBe(5);
  });

  it('a release goes first to the waiting organization holding least, whichever asked first', async () => {
    const b = new EventBudget(8, 6);
    await b.acquire('heavy', 6);
    await b.acquire('light', 2);
    const order: string[] = [];
    // The heavy organization's lanes queued first, the light one's after; the budget is full.
    const heavy = b.acquire('heavy', 1).then((n) => order.push(`heavy:${n}`));
    const light = b.acquire('light', 1).then((n) => order.push(`light:${n}`));
    b.release('heavy', 1);
    await light;
    expect(order).toEqual(['light:1']);
    b.release('light', 3);
    await heavy;
    expect(order).toEqual(['light:1', 'heavy:1']);
    expect([b.heldBy('heavy'), b.heldBy('light')]).toEqual([6, 0]);
  });

  it('a waiter held back by its share does not hold back an organization asking after it', async () => {
    const b = new EventBudget(10, 4);
    await b.acquire('a', 4);
    let a = 0;
    void b.acquire('a', 1).then((n) => (a = n));
    expect(await b.acquire('b', 4)).toBe(4);
    expect(await b.acquire('c', 4)).toBe(2);
    await Promise.resolve();
    expect(a).toBe(0);
    expect(b.inUse).toBe(10);
  });

  it('never counts below zero or above capacity; a share is at least one and at most the capacity', () => {
    const b = new EventBudget(3);
    b.release('a', 10);
    expect(b.inUse).toBe(0);
    expect(b.heldBy('a')).toBe(0);
    expect(new EventBudget(3).orgShare).toBe(1);
    expect(new EventBudget(3, 10).orgShare).toBe(3);
    expect(() => new EventBudget(0)).toThrow();
    expect(() => new EventBudget(3, 0)).toThrow();
  });
});
