import { describe, expect, it } from 'vitest';
import { CONNECT_TIMEOUT_MESSAGE, FairSlots, type Slot } from './fairSlots.js';
import { isDatabaseUnavailable } from './unavailable.js';
import { currentOrgScope, inOrgScope } from './orgScope.js';
import { POLL } from '../../test/support/waitFor.js';

/** Lets every settled promise's continuations run (acquire resolves through promise jobs only). */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** Starts acquire and records when it is granted, in what order, or why it failed. */
function track(slots: FairSlots, key: string, order: string[], name: string) {
  const t: { slot: Slot | null; error: unknown } = { slot: null, error: null };
  slots.acquire(key).then(
    (s) => {
      t.slot = s;
      order.push(name);
    },
    (e: unknown) => (t.error = e),
  );
  return t;
}

describe('FairSlots', () => {
  it('lets one key hold all but one slot, so another key is served while it waits', async () => {
    const slots = new FairSlots(3, 0);
    const order: string[] = [];
    const a = ['a1', 'a2', 'a3', 'a4'].map((n) => track(slots, 'A', order, n));
    await settle();
    expect(order).toEqual(['a1', 'a2']);
    expect(slots.held('A')).toBe(2);
    expect(slots.waiting('A')).toBe(2);
    expect(slots.available()).toBe(1);
    // Another key takes the slot left free at once, ahead of A's waiters.
    const b = track(slots, 'B', order, 'b1');
    await settle();
    expect(order).toEqual(['a1', 'a2', 'b1']);
    expect(slots.available()).toBe(0);
    // A released slot goes to A's oldest waiter: A is the only key waiting, and below its cap again.
    a[0]!.slot!.release();
    await settle();
    expect(order).toEqual(['a1', 'a2', 'b1', 'a3']);
    b.slot!.release();
    // B's slot comes back, but A is at its cap: it stays free for anyone else.
    await settle();
    expect(order).toEqual(['a1', 'a2', 'b1', 'a3']);
    expect(slots.available()).toBe(1);
    a[1]!.slot!.release();
    a[2]!.slot!.release();
    await settle();
    expect(order).toEqual(['a1', 'a2', 'b1', 'a3', 'a4']);
    a[3]!.slot!.release();
    expect(slots.available()).toBe(3);
    expect(slots.held('A')).toBe(0);
  });

  it('gives a released slot to the waiting key holding fewest, ties to the one waiting longest', async () => {
    const slots = new FairSlots(4, 0);
    const order: string[] = [];
    // A holds 3 (its cap), B holds 1: every slot is taken.
    const a = ['a1', 'a2', 'a3'].map((n) => track(slots, 'A', order, n));
    const b1 = track(slots, 'B', order, 'b1');
    await settle();
    expect(order).toEqual(['a1', 'a2', 'a3', 'b1']);
    // Waiting, in this order: C (holds 0), B (holds 1), D (holds 0).
    track(slots, 'C', order, 'c1');
    const b2 = track(slots, 'B', order, 'b2');
    track(slots, 'D', order, 'd1');
    await settle();
    expect(slots.waiting()).toBe(3);
    // C and D hold none, C has waited longer than D.
    a[0]!.slot!.release();
    await settle();
    expect(order.slice(4)).toEqual(['c1']);
    a[1]!.slot!.release();
    await settle();
    expect(order.slice(4)).toEqual(['c1', 'd1']);
    // B, C and D hold one each now; only B waits.
    a[2]!.slot!.release();
    await settle();
    expect(order.slice(4)).toEqual(['c1', 'd1', 'b2']);
    expect(b2.slot).not.toBeNull();
    expect(b1.slot).not.toBeNull();
  });

  it('serves each key in arrival order, and a newcomer does not overtake a waiter of its key', async () => {
    const slots = new FairSlots(2, 0);
    const order: string[] = [];
    const first = track(slots, 'A', order, 'a1');
    track(slots, 'A', order, 'a2');
    await settle();
    expect(order).toEqual(['a1']);
    // One slot is free, but A is at its cap (1 of 2): a2 waits, and so does a3 behind it.
    track(slots, 'A', order, 'a3');
    await settle();
    expect(slots.available()).toBe(1);
    first.slot!.release();
    await settle();
    expect(order).toEqual(['a1', 'a2']);
    expect(slots.waiting('A')).toBe(1);
  });

  it('lets a single slot go to one key at a time (size 1: the cap is 1)', async () => {
    const slots = new FairSlots(1, 0);
    expect(slots.perKey).toBe(1);
    const order: string[] = [];
    const a = track(slots, 'A', order, 'a1');
    track(slots, 'A', order, 'a2');
    track(slots, 'B', order, 'b1');
    await settle();
    expect(order).toEqual(['a1']);
    // Both hold none but A's a2 waited first: ties go to the longest waiting.
    a.slot!.release();
    await settle();
    expect(order).toEqual(['a1', 'a2']);
  });

  it("fails a wait that runs out as pg-pool's timeout does, and takes it out of the queue", async () => {
    const slots = new FairSlots(2, 20);
    const order: string[] = [];
    const a1 = track(slots, 'A', order, 'a1');
    const b1 = track(slots, 'B', order, 'b1');
    const late = track(slots, 'A', order, 'a2');
    // Queued at once (before any timer can run): read before yielding to the 20 ms wait.
    expect(slots.waiting('A')).toBe(1);
    await settle();
    // Its failure is a condition, not a time: the wait ends by itself.
    await expect.poll(() => late.error, POLL).toBeInstanceOf(Error);
    expect((late.error as Error).message).toBe(CONNECT_TIMEOUT_MESSAGE);
    // The API answers it as a database it cannot reach right now: 503 + Retry-After.
    expect(isDatabaseUnavailable(late.error)).toBe(true);
    expect(slots.waiting()).toBe(0);
    // The slot that comes back is not granted to the wait that gave up: it is free.
    b1.slot!.release();
    await settle();
    expect(order).toEqual(['a1', 'b1']);
    expect(slots.available()).toBe(1);
    a1.slot!.release();
    expect(slots.available()).toBe(2);
    expect(slots.held('A') + slots.held('B')).toBe(0);
  });

  it('gives a slot back once however often release is called', async () => {
    const slots = new FairSlots(3, 0);
    const order: string[] = [];
    const a = track(slots, 'A', order, 'a1');
    const b = track(slots, 'B', order, 'b1');
    await settle();
    a.slot!.release();
    a.slot!.release();
    a.slot!.release();
    expect(slots.available()).toBe(2);
    expect(slots.held('B')).toBe(1);
    b.slot!.release();
    expect(slots.available()).toBe(3);
  });

  it('keeps every count right through many acquires and releases of several keys', async () => {
    const size = 3;
    const slots = new FairSlots(size, 0);
    const holding: Slot[] = [];
    const keys = ['A', 'B', '', 'C'];
    const pending: Promise<void>[] = [];
    // A deterministic mix: 200 acquires, each released two grants later.
    for (let i = 0; i < 200; i++) {
      const key = keys[(i * 7) % keys.length]!;
      pending.push(
        slots.acquire(key).then((s) => {
          holding.push(s);
          expect(slots.held(key)).toBeLessThanOrEqual(slots.perKey);
          expect(slots.available()).toBeGreaterThanOrEqual(0);
        }),
      );
      if (i % 2 === 1) {
        await settle();
        holding.shift()?.release();
      }
    }
    for (;;) {
      await settle();
      const s = holding.shift();
      if (!s) break;
      s.release();
    }
    await Promise.all(pending);
    expect(slots.available()).toBe(size);
    expect(slots.waiting()).toBe(0);
    for (const k of keys) expect(slots.held(k)).toBe(0);
  });

  it('refuses a size below 1', () => {
    expect(() => new FairSlots(0, 0)).toThrow(/size/);
  });
});

describe('orgScope', () => {
  it('carries the organization through awaits and timers, and only inside its scope', async () => {
    expect(currentOrgScope()).toBeUndefined();
    const seen = await inOrgScope('org_a', async () => {
      await settle();
      const inner = await inOrgScope('org_b', async () => {
        await new Promise((r) => setTimeout(r, 1));
        return currentOrgScope();
      });
      return [currentOrgScope(), inner];
    });
    expect(seen).toEqual(['org_a', 'org_b']);
    expect(currentOrgScope()).toBeUndefined();
  });
});
