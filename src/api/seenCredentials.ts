import type { Logger } from '../logger.js';
import { apiKeyIdsSince } from '../auth/apiKeys.js';
import { loginLinkKeysSince, sessionKeysSince } from '../auth/sessions.js';
import type { Db } from '../db/types.js';
import type { CredentialChecks } from './credentialChecks.js';

/**
 * Keeps the credential checks' accepted set (credentialChecks.ts) holding every stored API key, live
 * dashboard session and sign-in link not yet used (one made by the CLI or another API process), not
 * only those this process has checked or issued: otherwise, after a restart, a
 * deploy or in a second API process, every credential would be new, and a flood of made-up ones
 * would hold them all in the lane (a review measured minutes per key at 3,000 made-up keys a
 * second). Being held as accepted only skips the lane: every request is still looked up.
 *
 * Every key and live session once, then those created since the newest seen, less an overlap (a row
 * can commit after a later one: its creation time is its transaction's start), every REFRESH_MS.
 * Revoked keys and ended sessions stay held until a lookup refuses them, which only costs memory.
 */
export const REFRESH_MS = 5_000;
const OVERLAP_MS = 60_000;
/** How long a start waits for the first load: the lane works without it, only less kindly. */
export const FIRST_LOAD_WAIT_MS = 5_000;
/** One warning a minute while loads fail: the lane then holds stored keys a flood may crowd out. */
const WARN_EVERY_MS = 60_000;

export interface SeenRefresh {
  /** The first load is over (loaded, or failed and logged: the lane still works without it). */
  ready: Promise<void>;
  stop(): void;
}

export function keepSeenCredentials(db: Db, checks: CredentialChecks, logger: Logger, everyMs = REFRESH_MS): SeenRefresh {
  let since: Date | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let warnedAt = -Infinity;

  const load = async (): Promise<void> => {
    const from = since === null ? null : new Date(since.getTime() - OVERLAP_MS);
    const [keys, sessions, links] = await Promise.all([apiKeyIdsSince(db, from), sessionKeysSince(db, from), loginLinkKeysSince(db, from)]);
    checks.rememberAll(keys.map((k) => `k${k.id}`));
    checks.rememberAll(sessions.map((s) => `s${s.id}`));
    for (const l of links) checks.rememberIssued(`l${l.id}`, l.org_id);
    for (const row of [...keys, ...sessions, ...links]) {
      const at = new Date(row.created_at);
      if (since === null || at > since) since = at;
    }
  };
  const tick = async (): Promise<void> => {
    try {
      await load();
    } catch (err) {
      // The next tick catches up (the overlap covers what this one missed). Said once a minute: until
      // a load works, keys stored before this process started wait in the lane like made-up ones.
      const now = performance.now();
      if (now - warnedAt >= WARN_EVERY_MS) {
        warnedAt = now;
        logger.warn(
          { err: (err as Error).message },
          'could not load the stored API keys and sessions; until it works, credentials this process has not checked yet share the lane for new ones (retrying every 5 s, said once a minute)',
        );
      }
    }
    if (!stopped) timer = setTimeout(() => void tick(), everyMs).unref();
  };
  const first = tick();
  return {
    // Bounded: a slow database must not hold the API's start (the load goes on in the background).
    ready: Promise.race([first, new Promise<void>((resolve) => setTimeout(resolve, FIRST_LOAD_WAIT_MS).unref())]),
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
