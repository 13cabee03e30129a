import { prepared } from '../db/prepared.js';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/types.js';

/**
 * API keys are high-entropy random strings, so a plain SHA-256 digest is a safe stored form (no
 * password stretching needed). The first 16 hex characters of the digest index the row; the whole
 * digest is compared in constant time.
 */
export function digestKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** A digest's lookup id: its first 16 hex characters (api_keys.lookup_id, the trail's `key_` id). */
export const lookupIdOf = (digest: Buffer): string => digest.toString('hex').slice(0, 16);

/**
 * The key's id in the configuration trail: "key_" + its lookup id (the first 16 hex characters of
 * the key's SHA-256). Names the key without revealing it; an operator holding a key can compute it
 * (`printf %s KEY | sha256sum | cut -c1-16`) and find its row (api_keys.lookup_id).
 */
export function apiKeyActorId(key: string): string {
  return keyActorIdOf(digestKey(key));
}

/** apiKeyActorId for a key already digested (the API's authentication digests each key once). */
export const keyActorIdOf = (digest: Buffer): string => `key_${lookupIdOf(digest)}`;

export function generateApiKey(): string {
  return 'aeg_' + randomBytes(32).toString('base64url');
}

export async function storeApiKey(db: Queryable, orgId: string, key: string): Promise<void> {
  const digest = digestKey(key);
  await db.query(
    `INSERT INTO api_keys (org_id, lookup_id, key_digest) VALUES ($1, $2, $3)
     ON CONFLICT (org_id, lookup_id) DO UPDATE SET key_digest = EXCLUDED.key_digest`,
    [orgId, lookupIdOf(digest), digest],
  );
}

export async function createApiKey(db: Queryable, orgId: string): Promise<string> {
  const key = generateApiKey();
  await storeApiKey(db, orgId, key);
  return key;
}

/**
 * Run for every API request: prepared once per connection. Oldest row first, so that a key stored for
 * two organizations (rows are keyed by organization and lookup id; bootstrap did that before it refused
 * another organization's key, see bootstrap.ts) authenticates for one of them only, and always the
 * same one: the organization that held it first. Without an order the row read first was whichever
 * lay first on disk, which an update of either row (each start rewrote the bootstrap key's) or fresh
 * table statistics could change, and the key then signed in to the other organization.
 */
const VERIFY_KEY_SQL = prepared('SELECT org_id, key_digest FROM api_keys WHERE lookup_id = $1 ORDER BY created_at, org_id');

/** Whether `key` could be an API key at all (a bootstrap key is 24 to 200 characters): else no lookup. */
export function plausibleApiKey(key: string): boolean {
  return key.length >= 16 && key.length <= 256;
}

/** The key's lookup id (the first 16 hex characters of its digest), as api_keys.lookup_id holds it. */
export function apiKeyLookupId(key: string): string {
  return lookupIdOf(digestKey(key));
}

/**
 * Lookup ids of the keys created after `since` (every key when null), with their creation times: what
 * the API's credential checks hold as accepted (api/seenCredentials.ts).
 */
export async function apiKeyIdsSince(db: Queryable, since: Date | null): Promise<Array<{ id: string; created_at: Date }>> {
  const { rows } = await db.query<{ id: string; created_at: Date }>(
    'SELECT lookup_id AS id, created_at FROM api_keys WHERE $1::timestamptz IS NULL OR created_at > $1',
    [since],
  );
  return rows;
}

/** Returns the org the key belongs to (the first to hold it, should two hold it), or null. */
export async function verifyApiKey(db: Queryable, key: string): Promise<string | null> {
  return plausibleApiKey(key) ? verifyKeyDigest(db, digestKey(key)) : null;
}

/** verifyApiKey for a key already digested (the API's authentication names it by its digest too). */
export async function verifyKeyDigest(db: Queryable, digest: Buffer): Promise<string | null> {
  const { rows } = await db.query<{ org_id: string; key_digest: Buffer }>(VERIFY_KEY_SQL, [lookupIdOf(digest)]);
  for (const row of rows) {
    const stored = Buffer.from(row.key_digest);
    if (stored.length === digest.length && timingSafeEqual(stored, digest)) return row.org_id;
  }
  return null;
}

/** An organization's API keys as an operator lists them: the trail's id, never the key. */
export async function listApiKeys(db: Queryable, orgId: string): Promise<Array<{ keyId: string; createdAt: Date }>> {
  const { rows } = await db.query<{ lookup_id: string; created_at: Date }>(
    'SELECT lookup_id, created_at FROM api_keys WHERE org_id = $1 ORDER BY created_at, lookup_id',
    [orgId],
  );
  return rows.map((r) => ({ keyId: `key_${r.lookup_id}`, createdAt: new Date(r.created_at) }));
}

const KEY_ID = /^key_([0-9a-f]{16})$/;

/**
 * Deletes one of an organization's API keys, named by its id (`key_` and 16 hex digits, as `list` and
 * the trail show it) or by the key itself. The next request with it is refused: keys are looked up
 * on every request, never cached. Returns the id deleted, or null when the organization has no such
 * key. What the key made goes with it in auth/revoke.ts (revokeApiKey), which calls this.
 */
export async function deleteApiKey(db: Queryable, orgId: string, keyOrId: string): Promise<string | null> {
  const lookupId = KEY_ID.exec(keyOrId)?.[1] ?? lookupIdOf(digestKey(keyOrId));
  const { rowCount } = await db.query('DELETE FROM api_keys WHERE org_id = $1 AND lookup_id = $2', [orgId, lookupId]);
  return rowCount > 0 ? `key_${lookupId}` : null;
}
