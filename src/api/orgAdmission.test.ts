import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../errors.js';
import { admissionLimits, OrgAdmission, refusalLogThrottle, type Permit, type RefusalReason } from './orgAdmission.js';

/** Lets every settled promise's continuations run (acquire resolves through promise jobs only). */
const settle = () => new Promise<void>((r) => setImmediate(r));

function gate(maxConcurrent: number, maxQueued: number, maxWaitMs = 60_000) {
  const refused: [string, RefusalReason][] = [];
  let waiting = 0;
  const admission = new OrgAdmission(
    { maxConcurrent, maxQueued, maxWaitMs },
    { refused: (org, reason) => refused.push([org, reason]), waiting: (d) => (waiting += d) },
  );
  return { admission, refused, waiting: () => waiting };
}

/** Starts acquire and records when it is admitted, in what order, or why it was refused. */
function track(admission: OrgAdmission, org: string, order: string[], name: string, signal?: AbortSignal) {
  const t: { permit: Permit | null; error: unknown } = { permit: null, error: null };
  admission.acquire(org, signal).then(
    (p) => {
      t.permit = p;
      order.push(name);
    },
    (e: unknown) => (t.error = e),
  );
  return t;
}

afterEach(() => vi.useRealTimers());

describe('OrgAdmission', () => {
  it('admits up to the cap at once, then the waiters in arrival order as places come back', async () => {
    const { admission, waiting } = gate(2, 10);
    const order: string[] = [];
    const first = [track(admission, 'A', order, 'a1'), track(admission, 'A', order, 'a2')];
    const later = ['a3', 'a4', 'a5'].map((n) => track(admission, 'A', order, n));
    await settle();
    expect(order).toEqual(['a1', 'a2']);
    expect(waiting()).toBe(3);
    first[1]!.permit!.release();
    await settle();
    expect(order).toEqual(['a1', 'a2', 'a3']);
    first[0]!.permit!.release();
    later[0]!.permit!.release();
    await settle();
    expect(order).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(admission.active('A')).toBe(2);
    expect(waiting()).toBe(0);
  });

  it('never makes one organization wait behind another', async () => {
    const { admission } = gate(1, 10);
    const order: string[] = [];
    track(admission, 'A', order, 'a1');
    track(admission, 'A', order, 'a2');
    track(admission, 'B', order, 'b1');
    await settle();
    expect(order).toEqual(['a1', 'b1']);
  });

  it('a newcomer does not overtake a waiter when a place comes back', async () => {
    const { admission } = gate(1, 10);
    const order: string[] = [];
    const a1 = track(admission, 'A', order, 'a1');
    track(admission, 'A', order, 'a2');
    await settle();
    a1.permit!.release();
    track(admission, 'A', order, 'a3');
    await settle();
    expect(order).toEqual(['a1', 'a2']);
  });

  it('refuses at once with rate_limited, naming the limit and its variable, when the queue is full', async () => {
    const { admission, refused } = gate(1, 2);
    const order: string[] = [];
    const ts = ['a1', 'a2', 'a3', 'a4'].map((n) => track(admission, 'A', order, n));
    await settle();
    const err = ts[3]!.error;
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'rate_limited', status: 429, details: { retryAfterS: 1 } });
    expect((err as AppError).message).toMatch(/served 1 at a time \(AEGIS_API_MAX_CONCURRENT_PER_ORG\) and 2 more may wait/);
    expect(refused).toEqual([['A', 'queue_full']]);
    expect(ts.slice(0, 3).map((t) => t.error)).toEqual([null, null, null]);
  });

  it('refuses a waiter whose wait runs out, and its place in the queue is free again', async () => {
    vi.useFakeTimers();
    const { admission, refused, waiting } = gate(1, 1, 30_000);
    const order: string[] = [];
    const a1 = track(admission, 'A', order, 'a1');
    const a2 = track(admission, 'A', order, 'a2');
    await vi.advanceTimersByTimeAsync(29_999);
    expect(a2.error).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(a2.error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/waited 30 s for a place/) });
    expect(refused).toEqual([['A', 'wait_timeout']]);
    expect(waiting()).toBe(0);
    const a3 = track(admission, 'A', order, 'a3');
    await vi.advanceTimersByTimeAsync(0);
    expect(a3.error).toBeNull();
    a1.permit!.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['a1', 'a3']);
  });

  it('a waiter whose client leaves is taken out of the queue and never admitted', async () => {
    const { admission, waiting } = gate(1, 1);
    const order: string[] = [];
    const a1 = track(admission, 'A', order, 'a1');
    const gone = new AbortController();
    const a2 = track(admission, 'A', order, 'a2', gone.signal);
    await settle();
    gone.abort(new Error('client gone'));
    await settle();
    expect(a2.error).toMatchObject({ message: 'client gone' });
    expect(waiting()).toBe(0);
    // Its queue place is free: another may wait, and the freed slot goes to it, not to the one that left.
    const a3 = track(admission, 'A', order, 'a3');
    a1.permit!.release();
    await settle();
    expect(order).toEqual(['a1', 'a3']);
    expect(a3.error).toBeNull();
  });

  it('releases a place once however often release is called', async () => {
    const { admission } = gate(2, 10);
    const order: string[] = [];
    const a1 = track(admission, 'A', order, 'a1');
    track(admission, 'A', order, 'a2');
    track(admission, 'A', order, 'a3');
    track(admission, 'A', order, 'a4');
    await settle();
    a1.permit!.release();
    a1.permit!.release();
    a1.permit!.release();
    await settle();
    expect(order).toEqual(['a1', 'a2', 'a3']);
    expect(admission.active('A')).toBe(2);
  });

  it('forgets an organization with nothing in flight, and 0 admits everything', async () => {
    const { admission } = gate(1, 1);
    const order: string[] = [];
    const a1 = track(admission, 'A', order, 'a1');
    await settle();
    a1.permit!.release();
    expect(admission.active('A')).toBe(0);
    const open = new OrgAdmission(admissionLimits(0));
    const all = Array.from({ length: 50 }, (_, i) => track(open, 'A', order, `o${i}`));
    await settle();
    expect(all.every((t) => t.permit !== null)).toBe(true);
  });
});

describe('refusalLogThrottle', () => {
  it('lets one line a minute through per organization', () => {
    const shouldLog = refusalLogThrottle(60_000);
    expect(shouldLog('A', 0)).toBe(true);
    expect(shouldLog('A', 59_999)).toBe(false);
    expect(shouldLog('B', 59_999)).toBe(true);
    expect(shouldLog('A', 60_000)).toBe(true);
  });
});
