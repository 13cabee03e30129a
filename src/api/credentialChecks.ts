import { AppError } from '../errors.js';
import { OrgAdmission, type RefusalMessage, type RefusalReason } from './orgAdmission.js';

/**
 * Checking a credential (an API key or a session cookie) costs a database round trip, and it runs
 * before the per-organization gate (orgAdmission.ts), which cannot know whose request it is until the
 * check is done. A flood of made-up credentials therefore took the database from everyone: on the
 * embedded database, whose queries run on the API's own thread, 1,900 made-up keys a second put
 * another organization's p50 at 40 ms where a key refused without a lookup cost it nothing
 * (docs/BENCHMARKS.md, thirty-sixth session).
 *
 * So credentials are checked in two lanes. One accepted before (every key and live session stored,
 * loaded at start and every few seconds by seenCredentials.ts, and any that passed a check here) is
 * checked at once, as before, on every request (a revoked key is refused on its next request; nothing
 * is cached but the lane). Any other is checked in one shared lane, at most UNSEEN_AT_ONCE at a time with a bounded
 * wait, and at most AEGIS_API_NEW_CREDENTIALS_PER_SECOND a second: on the embedded database a lookup
 * runs on the API's thread, so a lane that is never full could still spend all of it. A flood of
 * made-up credentials waits there, and past it is answered 429, while the credentials in use go by.
 * Requests with the same unseen credential at the same time share one check, so that a fleet of
 * agents with one key, restarting together, costs one lookup, not a queue of them.
 */
export const UNSEEN_AT_ONCE = 2;
/** Enough for a fleet's first requests after a restart; each waits a socket, not memory or CPU. */
export const UNSEEN_QUEUED = 256;
export const UNSEEN_MAX_WAIT_MS = 10_000;
/**
 * Credentials held as accepted, the oldest forgotten first: about 85 bytes each, so 85 MB at most.
 * Every live key and session is held (seenCredentials.ts loads them), so a deployment with fewer never
 * sends one that exists through the lane.
 */
export const SEEN_MAX = 1_000_000;
/**
 * Sign-in links held as issued (checkIssued), apart from the keys and sessions, and per organization:
 * any API key can ask for links, one request each, and a flood of them in one set pushed the keys in
 * use, or every other organization's links, out of it (back into the lane; an attacker review). A link
 * lasts 15 minutes; past this many of one organization at once, its oldest wait in the lane.
 */
export const ISSUED_PER_ORG_MAX = 1_000;

/** The lane's one key in its gate: all unseen credentials share it. */
const LANE = 'unseen';

const unseenRefusal: RefusalMessage = (reason, { maxConcurrent, maxQueued }, retryAfterS) =>
  `Too many requests with credentials this server has not checked yet: they are checked ${maxConcurrent} at a time` +
  (reason === 'queue_full' ? ` and ${maxQueued} are waiting.` : ', and this one waited too long.') +
  ` Retry after ${retryAfterS} s; a credential that has been accepted once is not held up.`;

const rateRefusal = (perSecond: number) =>
  `Too many requests with credentials this server has not checked yet: at most ${perSecond} are checked a second. Retry after 1 s; a credential that has been accepted once is not held up.`;

export interface CheckLimits {
  atOnce: number;
  queued: number;
  maxWaitMs: number;
  perSecond: number;
  seenMax: number;
  issuedPerOrgMax: number;
}

/** `perSecond`: AEGIS_API_NEW_CREDENTIALS_PER_SECOND (config/env.ts), a bucket holding one second's worth; 0: no lane. */
export function checkLimits(perSecond: number): CheckLimits {
  return { atOnce: UNSEEN_AT_ONCE, queued: UNSEEN_QUEUED, maxWaitMs: UNSEEN_MAX_WAIT_MS, perSecond, seenMax: SEEN_MAX, issuedPerOrgMax: ISSUED_PER_ORG_MAX };
}

export type UnseenRefusal = RefusalReason | 'rate';

export interface CheckEvents {
  refused?(reason: UnseenRefusal): void;
}

export class CredentialChecks {
  /** Names of credentials accepted (by a check here, or as stored: rememberAll), oldest first (a Set keeps insertion order). */
  private readonly seen = new Set<string>();
  /** Names of sign-in links issued and not yet used or refused, each with its organization. */
  private readonly issued = new Map<string, string>();
  /** The same names per organization, oldest first (ISSUED_PER_ORG_MAX each). */
  private readonly issuedByOrg = new Map<string, Set<string>>();
  /** Checks of unseen credentials in progress, shared by every request carrying the same one. */
  private readonly inProgress = new Map<string, Promise<unknown>>();
  private readonly lane: OrgAdmission;
  /** Lookups the lane may still start this second (fractional: refilled continuously). */
  private tokens: number;
  private filledAt: number;

  constructor(
    private readonly limits: CheckLimits,
    private readonly events: CheckEvents = {},
    /** Milliseconds, monotonic; the tests' own clock. */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lane = new OrgAdmission(
      { maxConcurrent: limits.atOnce, maxQueued: limits.queued, maxWaitMs: limits.maxWaitMs },
      { refused: (_lane, reason) => events.refused?.(reason) },
      unseenRefusal,
    );
    this.tokens = limits.perSecond;
    this.filledAt = now();
  }

  /**
   * Runs `lookup` for the credential named by `id` (a prefix of its digest, never the credential: a
   * collision would only let a made-up credential skip the lane, not pass) and returns its result;
   * null means refused. Rejects with AppError rate_limited when the unseen lane is full.
   */
  async check<T>(id: string, lookup: () => Promise<T | null>): Promise<T | null> {
    if (this.seen.has(id) || this.limits.perSecond === 0) {
      const result = await lookup();
      if (result === null) this.seen.delete(id);
      return result;
    }
    const shared = this.inProgress.get(id) as Promise<T | null> | undefined;
    if (shared) return shared;
    const check = this.checkUnseen(id, lookup);
    this.inProgress.set(id, check);
    try {
      return await check;
    } finally {
      if (this.inProgress.get(id) === check) this.inProgress.delete(id);
    }
  }

  /**
   * A one-time credential (a sign-in link's token) named by `id`: looked up at once when held as
   * issued (rememberIssued: by the route that made it, or seenCredentials.ts's reload), else in the
   * unseen lane. A check never adds it: the caller forgets it once it is used or refused. Without this, made-up link tokens
   * filled the lane every real link shared, and no organization could sign in while they lasted (a
   * tenant-isolation review: 400 made-up tokens at once, a real link answered 429).
   */
  async checkIssued<T>(id: string, lookup: () => Promise<T>): Promise<T> {
    if (this.issued.has(id)) return lookup();
    return this.checkOnce(lookup);
  }

  /** A one-time credential issued to `orgId` (a sign-in link): checkIssued looks it up at once until it is forgotten. */
  rememberIssued(id: string, orgId: string): void {
    if (this.issued.has(id)) return;
    this.issued.set(id, orgId);
    let ids = this.issuedByOrg.get(orgId);
    if (!ids) this.issuedByOrg.set(orgId, (ids = new Set()));
    ids.add(id);
    if (ids.size > this.limits.issuedPerOrgMax) this.forget(ids.values().next().value as string);
  }

  /**
   * Runs `lookup` in the unseen lane and remembers nothing: for a one-time credential not held as
   * issued, which is made up as easily as a key and costs a lookup just the same.
   */
  async checkOnce<T>(lookup: () => Promise<T>): Promise<T> {
    if (this.limits.perSecond === 0) return lookup();
    this.takeToken();
    const permit = await this.lane.acquire(LANE);
    try {
      return await lookup();
    } finally {
      permit.release();
    }
  }

  /** A credential this process has just issued (a dashboard session): its first request is not held. */
  remember(id: string): void {
    if (this.seen.has(id)) return;
    this.seen.add(id);
    if (this.seen.size > this.limits.seenMax) this.seen.delete(this.seen.values().next().value as string);
  }

  /** Credentials as the database holds them (seenCredentials.ts): their first request here is not held either. */
  rememberAll(ids: Iterable<string>): void {
    for (const id of ids) this.remember(id);
  }

  /** Whether the credential named by `id` is checked at once (held as accepted). */
  knows(id: string): boolean {
    return this.seen.has(id);
  }

  /** A credential this process has just ended (a sign-out, a link used or refused): it goes back to the lane. */
  forget(id: string): void {
    this.seen.delete(id);
    const orgId = this.issued.get(id);
    if (orgId === undefined) return;
    this.issued.delete(id);
    const ids = this.issuedByOrg.get(orgId);
    ids?.delete(id);
    if (ids?.size === 0) this.issuedByOrg.delete(orgId);
  }

  /** One lookup's worth of the second's allowance, or a 429 at once (refusing costs no lookup). */
  private takeToken(): void {
    const { perSecond } = this.limits;
    const now = this.now();
    this.tokens = Math.min(perSecond, this.tokens + ((now - this.filledAt) / 1000) * perSecond);
    this.filledAt = now;
    if (this.tokens < 1) {
      this.events.refused?.('rate');
      throw new AppError('rate_limited', rateRefusal(perSecond), { retryAfterS: 1 });
    }
    this.tokens -= 1;
  }

  private async checkUnseen<T>(id: string, lookup: () => Promise<T | null>): Promise<T | null> {
    const result = await this.checkOnce(lookup);
    if (result !== null) this.remember(id);
    return result;
  }
}
