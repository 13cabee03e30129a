// Access tokens per destination, in this process's memory only (a restart fetches new ones; tokens
// are never written anywhere). A token is reused until 80% of its lifetime has passed, then fetched
// again before it expires; concurrent requests of one destination share one fetch. A token the SIEM
// refused with 401 is dropped (invalidate) so the next get fetches a fresh one. Every token handed out
// stays known until it expires (liveTokens): a secret to scrub from answers, whether still used or not.
import { createHash } from 'node:crypto';
import type { OAuth2ClientCredentials, TokenResult } from './tokenRequest.js';
import { monotonicNow } from '../../monotonicClock.js';

/** Share of a token's lifetime after which it is refreshed. */
export const REFRESH_AT_FRACTION = 0.8;
/** Destinations whose tokens are held at once; the least recently fetched go first. */
const MAX_ENTRIES = 10_000;
/**
 * Tokens kept per destination as secrets until they expire (liveTokens), the oldest dropped first:
 * past a handful, a token endpoint is handing out tokens far faster than they expire, and the newest
 * are the likeliest to be quoted.
 */
const MAX_LIVE_PER_KEY = 8;
/**
 * How long a token handed out is kept as a secret at least, whatever its lifetime said: the lifetime
 * the cache refreshes by is clamped (tokenRequest.ts: 5 minutes when the endpoint gives none, a day at
 * most), and the provider may accept the token longer.
 */
const KEEP_AT_LEAST_MS = 3_600_000;
/**
 * Characters of the tokens liveTokens lists besides the newest: a token endpoint is the tenant's to
 * choose, and a scrubber's cost grows with its secrets' length (16 KiB tokens, one new per request,
 * built a scrubber over eight of them per request: seconds of the shared worker each, an attacker
 * review). The newest is always listed; older ones while they fit (real tokens are 1-4 KiB).
 */
const OLDER_TOKENS_MAX_CHARS = 8_192;

/**
 * Tokens fetched because the SIEM refused the last one (401): REFUSAL_FETCHES at once, then one per
 * REFUSAL_FETCH_EVERY_MS (a bucket per destination). A token revoked early (a key rollover) is
 * replaced at once, as before; but a tenant whose receiver refuses every token it has seen, beside
 * a token endpoint minting a new one each time, had every request fetch a token and succeed on the
 * resend: nothing failed, so no backoff or breaker slowed it, and each new token cost the shared
 * worker new scrubbers (an attacker review: 96 token requests for 96 events, the event loop 80 %
 * busy). Between fetches the refusal stands: the events are retried on their schedule.
 */
export const REFUSAL_FETCHES = 3;
export const REFUSAL_FETCH_EVERY_MS = 30_000;

/** A refusal bucket's fetches available at `now`: its level, refilled one per REFUSAL_FETCH_EVERY_MS, REFUSAL_FETCHES at most. */
const bucketLevel = (r: { level: number; atMs: number }, now: number): number => Math.min(REFUSAL_FETCHES, r.level + (now - r.atMs) / REFUSAL_FETCH_EVERY_MS);

interface Issued {
  token: string;
  expiresAtMs: number;
}

interface Entry {
  fingerprint: string;
  token: string;
  refreshAtMs: number;
}

/**
 * What a cached token was bought with: a change of token URL, client, scope, method or secret (a
 * rotation through the API) makes the cached token stale at once. A digest, so the secret itself is
 * not kept a second time.
 */
export function credentialsFingerprint(cfg: OAuth2ClientCredentials): string {
  return createHash('sha256')
    .update(JSON.stringify([cfg.tokenUrl, cfg.clientId, cfg.clientSecret, cfg.scope, cfg.authMethod]))
    .digest('base64url');
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<TokenResult>>();
  /** Per destination, every token handed out and not yet expired, oldest first (also those refused or replaced). */
  private readonly issued = new Map<string, Issued[]>();
  /** Per destination and credentials, whether the last token was refused (401), and the bucket of fetches after a refusal. */
  private readonly refusals = new Map<string, { refused: boolean; level: number; atMs: number }>();
  /** Token requests started, for tests and metrics. */
  fetches = 0;

  constructor(private readonly now: () => number = monotonicNow) {}

  /**
   * A usable token for `key` (one destination): the cached one while it is fresh, else the result of
   * `fetch` (shared by concurrent callers). Failures are not cached: the next call asks again.
   */
  async get(key: string, cfg: OAuth2ClientCredentials, fetch: () => Promise<TokenResult>): Promise<TokenResult & { cached?: boolean; refusedRecently?: true }> {
    const fingerprint = credentialsFingerprint(cfg);
    const entry = this.entries.get(key);
    if (entry && entry.fingerprint === fingerprint && this.now() < entry.refreshAtMs) {
      return { ok: true, token: entry.token, expiresInS: Math.max(0, (entry.refreshAtMs - this.now()) / 1000), durationMs: 0, cached: true };
    }
    const flightKey = `${key}\n${fingerprint}`;
    let flight = this.inflight.get(flightKey);
    if (!flight) {
      const waitMs = this.refusalWaitMs(flightKey);
      if (waitMs > 0) {
        return {
          ok: false,
          error: `The SIEM refused the last access tokens (401); a new one is fetched in ${Math.ceil(waitMs / 1000)} s (at most one every ${REFUSAL_FETCH_EVERY_MS / 1000} s after ${REFUSAL_FETCHES} refused in a row). Aegis will retry.`,
          durationMs: 0,
          refusedRecently: true,
        };
      }
      this.fetches++;
      const startedAt = this.now();
      flight = fetch()
        .then((result) => {
          if (result.ok) {
            this.entries.delete(key);
            this.entries.set(key, { fingerprint, token: result.token, refreshAtMs: startedAt + result.expiresInS * 1000 * REFRESH_AT_FRACTION });
            if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
            const live = this.live(key);
            live.push({ token: result.token, expiresAtMs: startedAt + Math.max(result.expiresInS * 1000, KEEP_AT_LEAST_MS) });
            this.issued.delete(key);
            this.issued.set(key, live.slice(-MAX_LIVE_PER_KEY));
            if (this.issued.size > MAX_ENTRIES) this.issued.delete(this.issued.keys().next().value!);
          }
          return result;
        })
        .finally(() => this.inflight.delete(flightKey));
      this.inflight.set(flightKey, flight);
    }
    return flight;
  }

  /**
   * The tokens handed out for `key` that have not expired (kept an hour at least), oldest first, older
   * ones within OLDER_TOKENS_MAX_CHARS: the one in use, and those it
   * replaced (refreshed at 80% of their lifetime, refused with 401, bought with a secret since
   * rotated), which the token endpoint or the SIEM may still quote (a hostile-SIEM review: a refused
   * refresh quoted the token still valid, and a SIEM answering a request made with the new token
   * quoted the old one, both unscrubbed).
   */
  liveTokens(key: string): string[] {
    const live = this.live(key);
    const listed: string[] = [];
    let budget = OLDER_TOKENS_MAX_CHARS;
    for (let i = live.length - 1; i >= 0; i--) {
      const { token } = live[i]!;
      if (i < live.length - 1 && (budget -= token.length) < 0) break;
      listed.unshift(token);
    }
    return listed;
  }

  private live(key: string): Issued[] {
    const list = this.issued.get(key);
    if (!list) return [];
    const now = this.now();
    const live = list.filter((t) => t.expiresAtMs > now);
    if (live.length === 0) this.issued.delete(key);
    else if (live.length !== list.length) this.issued.set(key, live);
    return live;
  }

  /**
   * Before a fetch: 0 when it may go now (taking one from the bucket when it follows a refusal), else
   * how long until the bucket allows one.
   */
  private refusalWaitMs(refusalKey: string): number {
    const r = this.refusals.get(refusalKey);
    if (!r?.refused) return 0;
    const now = this.now();
    const level = bucketLevel(r, now);
    if (level < 1) return Math.ceil((1 - level) * REFUSAL_FETCH_EVERY_MS);
    this.refusals.set(refusalKey, { refused: false, level: level - 1, atMs: now });
    return 0;
  }

  /** Forgets `token` for `key` (the SIEM answered 401 to it); a newer token of the key is kept. */
  invalidate(key: string, token: string): void {
    const entry = this.entries.get(key);
    if (entry?.token !== token) return;
    this.entries.delete(key);
    // Per credentials too: a secret PATCHed to fix the refusals fetches at once.
    const refusalKey = `${key}\n${entry.fingerprint}`;
    const r = this.refusals.get(refusalKey);
    const now = this.now();
    const level = r ? bucketLevel(r, now) : REFUSAL_FETCHES;
    this.refusals.delete(refusalKey);
    this.refusals.set(refusalKey, { refused: true, level, atMs: now });
    if (this.refusals.size > MAX_ENTRIES) this.refusals.delete(this.refusals.keys().next().value!);
  }
}
