/**
 * How many events one worker process holds in memory at once (claimed, being encoded or sent), shared
 * by every destination it serves. It replaces a fixed number of destination slots: a destination
 * waiting on a silent SIEM costs only the events of its own claims, never a slot another customer's
 * destination needs, and memory stays bounded however many destinations are busy.
 *
 * Grants are first come, first served: once anyone waits, later requests queue behind them, so a
 * destination draining a large backlog (which asks again after every claim) cannot keep the budget
 * from a quieter one that asked in between.
 */
export class EventBudget {
  private used = 0;
  private readonly waiters: Array<{ want: number; grant: (n: number) => void }> = [];

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error('event budget must be at least 1');
  }

  get inUse(): number {
    return this.used;
  }

  /**
   * Resolves with how many events the caller may claim: between 1 and `want`, as much as is free
   * (waiting while nothing is). The caller gives back what it did not use and, later, the rest.
   */
  acquire(want: number): Promise<number> {
    const n = Math.max(1, Math.floor(want));
    if (this.waiters.length === 0 && this.used < this.capacity) return Promise.resolve(this.take(n));
    return new Promise((grant) => this.waiters.push({ want: n, grant }));
  }

  release(n: number): void {
    if (n <= 0) return;
    this.used = Math.max(0, this.used - n);
    while (this.waiters.length > 0 && this.used < this.capacity) {
      const w = this.waiters.shift()!;
      w.grant(this.take(w.want));
    }
  }

  private take(want: number): number {
    const granted = Math.min(want, this.capacity - this.used);
    this.used += granted;
    return granted;
  }
}
