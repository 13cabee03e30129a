/** The budget is shared out in this many organization shares: four must be stuck at once to fill it. */
export const ORG_SHARES = 4;

/**
 * How many events one worker process holds in memory at once (claimed, being encoded or sent), shared
 * by every destination it serves. It replaces a fixed number of destination slots: a destination
 * waiting on a silent SIEM costs only the events of its own claims, never a slot another customer's
 * destination needs, and memory stays bounded however many destinations are busy.
 *
 * No organization holds more than its share (a quarter of the budget by default). Events are given
 * back only when a claim is settled, so what one organization holds stays held for as long as its
 * SIEMs take to answer: ten destinations whose SIEM held every request open (or answered 200 just
 * inside the timeout) filled the whole budget, and another organization's next event waited 10-40 s
 * for it, with nothing failing. With a share, the rest of the budget is always there for the others.
 *
 * Grants go first to the organization holding least among those waiting and below their share, and
 * first come, first served within one: a destination draining a large backlog (which asks again after
 * every claim) cannot keep the budget from a quieter one that asked in between, nor can one
 * organization's many lanes queued early keep another's from the events the next release frees.
 */
export class EventBudget {
  private used = 0;
  private readonly byOrg = new Map<string, number>();
  private readonly waiters: Array<{ orgId: string; want: number; grant: (n: number) => void }> = [];
  /** The most one organization may hold. */
  readonly orgShare: number;

  constructor(
    readonly capacity: number,
    orgShare = Math.ceil(capacity / ORG_SHARES),
  ) {
    if (!(capacity >= 1)) throw new Error('event budget must be at least 1');
    if (!(orgShare >= 1)) throw new Error("an organization's share of the event budget must be at least 1");
    this.orgShare = Math.min(orgShare, capacity);
  }

  get inUse(): number {
    return this.used;
  }

  /** Events `orgId` holds now. */
  heldBy(orgId: string): number {
    return this.byOrg.get(orgId) ?? 0;
  }

  /**
   * Resolves with how many events the caller may claim: between 1 and `want`, as much as is free and
   * within the organization's share (waiting while there is none). The caller gives back what it did
   * not use and, later, the rest.
   */
  acquire(orgId: string, want: number): Promise<number> {
    const n = Math.max(1, Math.floor(want));
    // Anyone already waiting who could be served now would have been at the last release: the ones
    // left wait for their own organization's share, and do not hold this organization back.
    if (this.used < this.capacity && this.heldBy(orgId) < this.orgShare) return Promise.resolve(this.take(orgId, n));
    return new Promise((grant) => this.waiters.push({ orgId, want: n, grant }));
  }

  release(orgId: string, n: number): void {
    if (n <= 0) return;
    this.used = Math.max(0, this.used - n);
    const held = this.heldBy(orgId) - n;
    if (held > 0) this.byOrg.set(orgId, held);
    else this.byOrg.delete(orgId);
    while (this.used < this.capacity) {
      const next = this.nextWaiter();
      if (next === -1) break;
      const [w] = this.waiters.splice(next, 1);
      w!.grant(this.take(w!.orgId, w!.want));
    }
  }

  /**
   * The waiter served next: of those whose organization is below its share, the first of the
   * organization holding least. Linear in the waiters (at most a few per destination being served).
   */
  private nextWaiter(): number {
    let best = -1;
    let bestHeld = Infinity;
    for (let i = 0; i < this.waiters.length; i++) {
      const held = this.heldBy(this.waiters[i]!.orgId);
      if (held < this.orgShare && held < bestHeld) {
        best = i;
        bestHeld = held;
      }
    }
    return best;
  }

  private take(orgId: string, want: number): number {
    const held = this.heldBy(orgId);
    const granted = Math.min(want, this.capacity - this.used, this.orgShare - held);
    this.used += granted;
    this.byOrg.set(orgId, held + granted);
    return granted;
  }
}
