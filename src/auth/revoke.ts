import type { Db } from '../db/types.js';
import { deleteApiKey } from './apiKeys.js';
import { endSignInsOfKey } from './sessions.js';

export interface Revoked {
  /** The key's id ("key_" and 16 hex digits). */
  keyId: string;
  /** Dashboard sessions opened by sign-in links the key made, ended with it. */
  sessions: number;
  /** Sign-in links the key made and nobody used yet, deleted with it. */
  loginLinks: number;
}

/**
 * Revokes an organization's API key (by its id or the key itself) and what it made: the sign-in links
 * it asked for and the dashboard sessions they opened. A leaked key, revoked, otherwise kept working
 * through a link made with it for 12 hours more (an authorization review). One transaction, the key
 * first: a session being made from one of its links holds the key's row (createSession), so this
 * waits for it, and the sessions' delete, a later statement, then sees it. Null when there is no such key.
 */
export async function revokeApiKey(db: Db, orgId: string, keyOrId: string): Promise<Revoked | null> {
  return db.transaction(async (tx) => {
    const keyId = await deleteApiKey(tx, orgId, keyOrId);
    if (keyId === null) return null;
    return { keyId, ...(await endSignInsOfKey(tx, orgId, keyId)) };
  });
}
