// The scrubbers of destinations' credentials (scrubSecrets.ts), built once per destination
// configuration rather than once per request: building one derives every spelling of every secret
// (hex, base64 at three offsets, decoded parts), which is most of the cost of scrubbing a short answer.
// Keyed by the destination id and a digest of the secrets, so a rotated or PATCHed credential (or a
// fresh OAuth2 access token) gets its own scrubber at once and a stale one is never used. Only the
// digest is kept as a key; neither the key nor the secrets are ever logged. Bounded: least recently
// used entries go first.
import { createHash } from 'node:crypto';
import { secretScrubber, type Scrubber } from './scrubSecrets.js';

/** Scrubbers kept at once: a few per destination that is sending (its own secrets, plus a bearer token). */
export const SCRUBBER_CACHE_SIZE = 4096;

const cache = new Map<string, Scrubber>();

/** A digest of the list, unambiguous (each secret's length and absence are part of it). */
function digestOf(secrets: readonly (string | null | undefined)[]): string {
  const h = createHash('sha256');
  for (const s of secrets) h.update(s === null || s === undefined ? '-;' : `${Buffer.byteLength(s, 'utf8')}:${s};`);
  return h.digest('base64url');
}

/** The scrubber of `secrets` for destination `destinationId`, built on first use and then reused. */
export function scrubberFor(destinationId: string, secrets: readonly (string | null | undefined)[]): Scrubber {
  const key = `${destinationId}\u0000${digestOf(secrets)}`;
  let scrub = cache.get(key);
  if (scrub) {
    cache.delete(key); // most recently used goes last
  } else {
    scrub = secretScrubber(secrets);
    if (cache.size >= SCRUBBER_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, scrub);
  return scrub;
}

/** Scrubbers held now (for tests: the bound). */
export function cachedScrubbers(): number {
  return cache.size;
}
