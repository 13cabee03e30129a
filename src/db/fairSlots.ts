/**
 * The message pg-pool 3.14 gives a checkout that waited `connectionTimeoutMillis` for a connection:
 * db/unavailable.ts knows it, so a wait for a slot that runs out is answered as the pool's own timeout
 * is (503 + Retry-After, "nothing was written") and the worker retries it alike.
 */
export const CONNECT_TIMEOUT_MESSAGE = 'timeout exceeded when trying to connect';

/** A slot held by one piece of work; release() gives it back once, whatever calls it more often. */
export interface Slot {
  release(): void;
}

interface Waiter {
  key: string;
  /** Arrival order across all keys: the tie-break between keys holding as many. */
  seq: number;
  grant(): void;
}

interface KeyState {
  held: number;
  /** A Set iterates in insertion order (the FIFO) and deletes a waiter that timed out in O(1). */
  queue: Set<Waiter>;
}

/**
 * Hands out a pool's `size` connections fairly between keys (db/pg.ts: the organization a request is
 * for, db/orgScope.ts; '' for work of none). A key holds at most max(1, size - 1) at once, so one busy
 * key always leaves a connection to everyone else; when a slot comes back and several keys wait, it
 * goes to the waiting key holding the fewest, ties to the one whose first waiter has waited longest.
 * Within a key, waiters are served in arrival order.
 *
 * A wait longer than `waitMs` (0: no limit) fails with pg-pool's own timeout error and leaves the
 * queue; the slot is then never granted to it.
 */
export class FairSlots {
  readonly perKey: number;
  private free: number;
  private seq = 0;
  /** Only keys holding or waiting for a slot: the map never outgrows the work in flight. */
  private readonly keys = new Map<string, KeyState>();

  constructor(
    readonly size: number,
    private readonly waitMs: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`FairSlots: size must be a whole number of at least 1, got ${size}`);
    this.perKey = Math.max(1, size - 1);
    this.free = size;
  }

  /** Slots held by `key` right now. */
  held(key: string): number {
    return this.keys.get(key)?.held ?? 0;
  }

  /** Waits of `key` (every key when omitted) not yet granted. */
  waiting(key?: string): number {
    if (key !== undefined) return this.keys.get(key)?.queue.size ?? 0;
    let n = 0;
    for (const k of this.keys.values()) n += k.queue.size;
    return n;
  }

  /** Slots no one holds. */
  available(): number {
    return this.free;
  }

  acquire(key: string): Promise<Slot> {
    let state = this.keys.get(key);
    if (!state) this.keys.set(key, (state = { held: 0, queue: new Set() }));
    // A slot is free while waiters exist only when each of them is at its key's cap (every release
    // hands slots out at once): so a key under its cap with nobody of its own waiting may take one.
    if (this.free > 0 && state.held < this.perKey && state.queue.size === 0) {
      this.take(state);
      return Promise.resolve(this.slot(key, state));
    }
    const own = state;
    return new Promise<Slot>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        key,
        seq: this.seq++,
        grant: () => {
          clearTimeout(timer);
          own.queue.delete(waiter);
          this.take(own);
          resolve(this.slot(key, own));
        },
      };
      if (this.waitMs > 0) {
        timer = setTimeout(() => {
          own.queue.delete(waiter);
          this.forgetIfIdle(key, own);
          reject(new Error(CONNECT_TIMEOUT_MESSAGE));
        }, this.waitMs);
        // As pg-pool's own wait: a timer does not keep the process alive by itself.
        timer.unref();
      }
      own.queue.add(waiter);
    });
  }

  private take(state: KeyState): void {
    state.held++;
    this.free--;
  }

  private slot(key: string, state: KeyState): Slot {
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        state.held--;
        this.free++;
        this.forgetIfIdle(key, state);
        this.dispatch();
      },
    };
  }

  /** Grants free slots to waiters: the waiting key under its cap holding fewest, ties to the longest waiting. */
  private dispatch(): void {
    while (this.free > 0) {
      let best: Waiter | null = null;
      let bestHeld = Infinity;
      for (const state of this.keys.values()) {
        if (state.held >= this.perKey) continue;
        const head = state.queue.values().next();
        if (head.done) continue;
        if (state.held < bestHeld || (state.held === bestHeld && head.value.seq < best!.seq)) {
          best = head.value;
          bestHeld = state.held;
        }
      }
      if (best === null) return;
      best.grant();
    }
  }

  private forgetIfIdle(key: string, state: KeyState): void {
    if (state.held === 0 && state.queue.size === 0 && this.keys.get(key) === state) this.keys.delete(key);
  }
}
