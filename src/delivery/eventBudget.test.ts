import { describe, expect, it } from 'vitest';
import { EventBudget, KEPT_FREE, ORG_SHARE } from './eventBudget.js';

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

  it('an organization takes up to its share whenever it is free, and past it only while half stays free', async () => {
    const b = new EventBudget(20);
    expect([b.orgShare, b.keptFree]).toEqual([20 * ORG_SHARE, 20 * KEPT_FREE]);
    // Alone: its share, then as much as leaves half free.
    expect(await b.acquire('heavy', 100)).toBe(10);
    let more = 0;
    const waiting = b.acquire('heavy', 100).then((n) => (more = n));
    // The other half is there for the others, each up to its share at once.
    expect(await b.acquire('quiet', 3)).toBe(3);
    expect(await b.acquire('other', 100)).toBe(5);
    expect([b.heldBy('heavy'), b.heldBy('quiet'), b.heldBy('other'), b.inUse]).toEqual([10, 3, 5, 18]);
    // Past its share, the heavy organization waits until more than half is free again.
    b.release('heavy', 2);
    await Promise.resolve();
    expect(more).toBe(0);
    b.release('other', 5);
    b.release('quiet', 3);
    await waiting;
    expect(more).toBe(2);
    expect([b.heldBy('heavy'), b.inUse]).toEqual([10, 10]);
  });

  it("an organization's slow destinations leave its others room: at the default, half the budget is one organization's", async () => {
    const b = new EventBudget(20_000);
    // Two slow Splunk HEC destinations, three lanes of a thousand each, then a healthy one's claim.
    for (let lane = 0; lane < 6; lane++) expect(await b.acquire('one', 1_000)).toBe(1_000);
    expect(await b.acquire('one', 1_000)).toBe(1_000);
    for (let lane = 0; lane < 3; lane++) expect(await b.acquire('one', 1_000)).toBe(1_000);
    expect(b.heldBy('one')).toBe(10_000);
    let granted = 0;
    void b.acquire('one', 1_000).then((n) => (granted = n));
    await Promise.resolve();
    expect(granted).toBe(0);
    expect(await b.acquire('another', 1_000)).toBe(1_000);
  });

  it('a release goes first to the waiting organization holding least, whichever asked first', async () => {
    const b = new EventBudget(8, 6, 8);
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
    const b = new EventBudget(10, 4, 10);
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
    expect([new EventBudget(3).orgShare, new EventBudget(3).keptFree]).toEqual([1, 2]);
    expect(new EventBudget(3, 10).orgShare).toBe(3);
    expect(() => new EventBudget(0)).toThrow();
    expect(() => new EventBudget(3, 0)).toThrow();
  });
});
