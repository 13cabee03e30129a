/** An organization holds up to this part of the budget whenever it is free. */
export const ORG_SHARE = 1 / 4;
/** Past its share, only while this part of the budget stays free for the others. */
export const KEPT_FREE = 1 / 2;

/**
 * How many events one worker process holds in memory at once (claimed, being encoded or sent), shared
 * by every destination it serves. It replaces a fixed number of destination slots: a destination
 * waiting on a silent SIEM costs only the events of its own claims, never a slot another customer's
 * destination needs, and memory stays bounded however many destinations are busy.
 *
 * Events are given back only when a claim is settled, so what one organization holds stays held for
 * as long as its SIEMs take to answer: seven destinations whose SIEM held every request open (or
 * answered 200 just inside the timeout) filled the whole budget, and another organization's next event
 * waited 10-40 s for it, with nothing failing. So an organization holds up to a quarter of the budget
 * whenever it is free (ORG_SHARE), and more only while half of it stays free (KEPT_FREE): one
 * organization's slow SIEMs hold at most half, the other half is there for everyone else, and three
 * organizations must be stuck at once to fill it. A quarter alone would have cost one organization's
 * healthy destinations their turn behind two of its own slow ones, and a deployment serving one large
 * customer three quarters of its events in flight.
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
  /** What an organization may hold whenever it is free. */
  readonly orgShare: number;
  /** What a grant past an organization's share must leave free. */
  readonly keptFree: number;

  constructor(
    readonly capacity: number,
    orgShare = Math.ceil(capacity * ORG_SHARE),
    keptFree = Math.ceil(capacity * KEPT_FREE),
  ) {
    if (!(capacity >= 1)) throw new Error('event budget must be at least 1');
    if (!(orgShare >= 1)) throw new Error("an organization's share of the event budget must be at least 1");
    this.orgShare = Math.min(orgShare, capacity);
    this.keptFree = Math.max(0, keptFree);
  }

  get inUse(): number {
    return this.used;
  }

  /** Events `orgId` holds now. */
  heldBy(orgId: string): number {
    return this.byOrg.get(orgId) ?? 0;
  }

  /**
   * Resolves with how many events the caller may claim: between 1 and `want`, as much as the
   * organization may take now (waiting while it may take none). The caller gives back what it did not
   * use and, later, the rest.
   */
  acquire(orgId: string, want: number): Promise<number> {
    const n = Math.max(1, Math.floor(want));
    // Anyone already waiting who could be served now would have been at the last release: the ones
    // left wait for room of their own organization's, and do not hold this organization back.
    if (this.mayTake(orgId, n) > 0) return Promise.resolve(this.take(orgId, n));
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
      // No waiter may take anything now (each at its share, with no more than keptFree free).
      if (next === -1) break;
      const [w] = this.waiters.splice(next, 1);
      w!.grant(this.take(w!.orgId, w!.want));
    }
  }

  /**
   * The waiter served next: of those whose organization may take something now, the first of the
   * organization holding least. Linear in the waiters (at most a few per destination being served).
   */
  private nextWaiter(): number {
    let best = -1;
    let bestHeld = Infinity;
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      const held = this.heldBy(w.orgId);
      if (held < bestHeld && this.mayTake(w.orgId, w.want) > 0) {
        best = i;
        bestHeld = held;
      }
    }
    return best;
  }

  /** How much of `want` the organization may take now: any free event up to its share, then only what leaves keptFree free. */
  private mayTake(orgId: string, want: number): number {
    const free = this.capacity - this.used;
    const withinShare = Math.min(want, free, Math.max(0, this.orgShare - this.heldBy(orgId)));
    const beyond = Math.min(want - withinShare, Math.max(0, free - withinShare - this.keptFree));
    return withinShare + beyond;
  }

  private take(orgId: string, want: number): number {
    const granted = this.mayTake(orgId, want);
    this.used += granted;
    this.byOrg.set(orgId, this.heldBy(orgId) + granted);
    return granted;
  }
}
