// The scrubbers of destinations' credentials (scrubSecrets.ts), built once per destination
// configuration rather than once per request: building one derives every spelling of every secret
// (hex, base64 at three offsets, decoded parts), which is most of the cost of scrubbing a short answer.
// Found by the destination id, then by comparing the secrets list element by element (string
// equality) with the few lists that destination used last, so a rotated or PATCHed credential (or a
// fresh OAuth2 access token) gets its own scrubber at once and a stale one is never used. Compared
// rather than hashed: a digest of the secrets on every lookup cost more than the rest of the lookup
// (two lookups per request), and a copy of the list exposes nothing the scrubber does not already
// hold in memory (every spelling of every secret). Neither the lists nor the secrets are ever logged.
// Bounded: SCRUBBER_CACHE_SIZE in all and SCRUBBER_CACHE_CHARS of secrets in all, least recently used
// destinations' oldest lists go first, and a destination keeps at most LISTS_PER_DESTINATION lists (a
// token rotated every hour leaves no trail).
import { RecencyMap } from './recencyMap.js';
import { secretScrubber, type Scrubber } from './scrubSecrets.js';

/** Scrubbers kept at once: a few per destination that is sending (its own secrets, plus a bearer token). */
export const SCRUBBER_CACHE_SIZE = 4096;

/**
 * Characters of secrets the cached scrubbers cover, in all. A scrubber holds every spelling of its
 * secrets, about 16 bytes per character of them (a 16 KiB access token: 258 KiB), and a destination's
 * secrets are its tenant's to choose (an OAuth2 token endpoint decides the token's length): counted
 * in lists alone, a tenant's destinations with long tokens held hundreds of MiB of the worker's heap
 * (an attacker review: 2 MiB per destination). About 32 MiB here; a few thousand ordinary destinations
 * (a header token, a signing secret, a short-lived bearer token) fit in it.
 */
export const SCRUBBER_CACHE_CHARS = 2 * 1024 * 1024;

/**
 * Of SCRUBBER_CACHE_CHARS, what one organization's lists may hold: past it, its own least recently
 * used lists go, never another's. With the budget shared least-recently-used alone, one tenant whose
 * destinations' secrets passed the whole budget (long header values and long tokens on 100 destinations)
 * pushed every other tenant's scrubbers out on each of its rounds, and each of their requests rebuilt
 * them (a review of the budget: 29 ms of the loop a request). A tenant past its share rebuilds only
 * its own.
 */
export const SCRUBBER_CHARS_PER_ORG = SCRUBBER_CACHE_CHARS / 4;

/**
 * Secrets lists kept per destination: the delivery's (targetSecrets, then with a bearer token) and the
 * outbound client's (the request's credential headers, with or without the token), and one spare for
 * the moment a token or credential changes.
 */
export const LISTS_PER_DESTINATION = 6;

/**
 * Whole texts a cached scrubber remembers its answer for, and how long they may be. A SIEM answers a
 * destination's every request with the same few short header values (a content type, `keep-alive`,
 * the second's date) and often the same short body, and each was scrubbed anew: about 0.5-1.4 µs a
 * value, twice per answer (the outbound client's credential headers, then the destination's secrets),
 * 7 µs of every custom webhook request, one per event (docs/BENCHMARKS.md). A scrub depends on its
 * text and its secrets alone, so the answer remembered is the one a new scrub would give. Bounded:
 * REMEMBERED_TEXTS x REMEMBERED_MAX_LENGTH per scrubber, and SCRUBBER_CACHE_SIZE scrubbers; a SIEM
 * answering with values that never repeat (request ids) only costs each scrub a lookup.
 */
export const REMEMBERED_TEXTS = 8;
export const REMEMBERED_MAX_LENGTH = 48;

/** `scrub`, remembering its answers for the last REMEMBERED_TEXTS short whole texts it was given. */
function remembering(scrub: Scrubber): Scrubber {
  const seen = new Map<string, string>();
  return (text, cut = false) => {
    // A cut text is not whole: its end may be the start of a secret (secretScrubber).
    if (cut || text.length > REMEMBERED_MAX_LENGTH) return scrub(text, cut);
    let out = seen.get(text);
    if (out === undefined) {
      out = scrub(text);
      // The oldest first (a Map keeps insertion order).
      if (seen.size >= REMEMBERED_TEXTS) seen.delete(seen.keys().next().value!);
      seen.set(text, out);
    }
    return out;
  };
}

type Secrets = readonly (string | null | undefined)[];

interface Entry {
  /** A copy: callers may push to their list afterwards (sendRequest adds access tokens). */
  secrets: Secrets;
  scrub: Scrubber;
  /** The characters of its secrets (what SCRUBBER_CACHE_CHARS counts). */
  chars: number;
  /** Its organization's ('' when the caller has none: an alert webhook, a token request). */
  orgId: string;
}

/** Per destination id, its entries, most recently used first; the destinations in the order of their last use. */
const cache = new RecencyMap<string, Entry[]>();
let held = 0;
let heldChars = 0;
/** Characters held per organization (SCRUBBER_CHARS_PER_ORG). */
const orgChars = new Map<string, number>();

function dropped(entry: Entry): void {
  held--;
  heldChars -= entry.chars;
  const left = (orgChars.get(entry.orgId) ?? 0) - entry.chars;
  if (left > 0) orgChars.set(entry.orgId, left);
  else orgChars.delete(entry.orgId);
}

/** Drops the least recently used list of `orgId` (its destinations' oldest first); false when it has none. */
function evictOwn(orgId: string): boolean {
  for (const [id, entries] of cache.entries()) {
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i]!.orgId !== orgId) continue;
      dropped(entries.splice(i, 1)[0]!);
      if (entries.length === 0) cache.delete(id);
      return true;
    }
  }
  return false;
}

const charsOf = (secrets: Secrets): number => secrets.reduce((n, x) => n + (x?.length ?? 0), 0);

function sameSecrets(a: Secrets, b: Secrets): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Drops the oldest list of the least recently used destination. */
function evictOne(): void {
  const [id, entries] = cache.oldestEntry()!;
  dropped(entries.pop()!);
  if (entries.length === 0) cache.delete(id);
}

/** The scrubber of `secrets` for destination `destinationId` (of `orgId`), built on first use and then reused. */
export function scrubberFor(destinationId: string, secrets: Secrets, orgId = ''): Scrubber {
  let entries = cache.use(destinationId);
  if (entries) {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (!sameSecrets(entry.secrets, secrets)) continue;
      if (i > 0) {
        entries.splice(i, 1);
        entries.unshift(entry);
      }
      return entry.scrub;
    }
  }
  const scrub = remembering(secretScrubber(secrets));
  const chars = charsOf(secrets);
  // Larger than an organization's whole share: used for this request, never held.
  if (chars > SCRUBBER_CHARS_PER_ORG) return scrub;
  if (entries && entries.length >= LISTS_PER_DESTINATION) {
    dropped(entries.pop()!);
    if (entries.length === 0) cache.delete(destinationId);
  }
  // Its own organization's lists first, then anyone's least recently used.
  while ((orgChars.get(orgId) ?? 0) + chars > SCRUBBER_CHARS_PER_ORG && evictOwn(orgId));
  while (held > 0 && (held >= SCRUBBER_CACHE_SIZE || heldChars + chars > SCRUBBER_CACHE_CHARS)) evictOne();
  // Re-read: eviction may have emptied and removed this very destination's entry list.
  entries = cache.peek(destinationId);
  if (!entries) cache.set(destinationId, (entries = []));
  entries.unshift({ secrets: secrets.slice(), scrub, chars, orgId });
  held++;
  heldChars += chars;
  orgChars.set(orgId, (orgChars.get(orgId) ?? 0) + chars);
  return scrub;
}

/** Characters of secrets the held scrubbers cover (for tests: the bound). */
export function cachedScrubberChars(): number {
  return heldChars;
}

/** Scrubbers held now (for tests: the bound). */
export function cachedScrubbers(): number {
  return held;
}
