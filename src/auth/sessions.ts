import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { lookupIdOf } from './apiKeys.js';
import { AppError } from '../errors.js';

/**
 * Dashboard sign-in. A login link carries a one-time token (15 minutes); using it creates a session
 * (12 hours) whose token lives only in an HttpOnly cookie, plus a CSRF token the page sends back in a
 * header on every mutating request. The login token and the session token are stored only as digests;
 * the CSRF token is stored as is (it is not a credential on its own: it is useless without the cookie).
 */
export const LOGIN_LINK_TTL_MS = 15 * 60_000;
export const SESSION_TTL_MS = 12 * 3_600_000;
/**
 * How long a sign-in link is kept after it expires: a person who opens it an hour late is told it
 * expired (peekLoginLink) rather than that no such link exists.
 */
const EXPIRED_LINK_KEPT = "interval '1 day'";

/** A session cookie's or sign-in token's digest, as the tables store it. */
export const tokenDigest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();
const digest = tokenDigest;
const token = () => randomBytes(32).toString('base64url');
/** What token() makes: a session cookie or a sign-in link's token. Any other shape is none, unread. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
export const plausibleToken = (t: string): boolean => TOKEN_SHAPE.test(t);

/** Check keys (lookupIdOf their digests) of the live sessions created after `since` (all when null), with their creation times. */
export async function sessionKeysSince(db: Queryable, since: Date | null): Promise<Array<{ id: string; created_at: Date }>> {
  const { rows } = await db.query<{ id: string; created_at: Date }>(
    `SELECT encode(substring(token_digest FROM 1 FOR 8), 'hex') AS id, created_at FROM sessions
      WHERE expires_at > now() AND ($1::timestamptz IS NULL OR created_at > $1)`,
    [since],
  );
  return rows;
}

/**
 * Check keys (as sessionKeysSince) of the sign-in links neither used nor expired made after `since`
 * (all when null), with when each was made: its expiry less the links' lifetime (the table keeps no
 * creation time, and every link lives LOGIN_LINK_TTL_MS).
 */
export async function loginLinkKeysSince(db: Queryable, since: Date | null): Promise<Array<{ id: string; org_id: string; created_at: Date }>> {
  const { rows } = await db.query<{ id: string; org_id: string; created_at: Date }>(
    `SELECT encode(substring(token_digest FROM 1 FOR 8), 'hex') AS id, org_id, expires_at - make_interval(secs => $2::float8 / 1000) AS created_at
       FROM login_links
      WHERE used_at IS NULL AND expires_at > now() AND ($1::timestamptz IS NULL OR expires_at > $1 + make_interval(secs => $2::float8 / 1000))`,
    [since, LOGIN_LINK_TTL_MS],
  );
  return rows;
}

/**
 * A session's id in the configuration trail, from its cookie's digest (tokenDigest): "ses_" + the
 * first 16 hex characters of the stored sessions.token_digest, naming the session without revealing
 * its cookie.
 */
export const sessionActorIdOf = (d: Buffer): string => `ses_${lookupIdOf(d)}`;

/**
 * Sign-in links an organization may hold unused at once. Each makes a session when used, and every
 * live link and session is loaded into each API process's memory at start (api/seenCredentials.ts):
 * with no cap one API key made 609 links a second, and 540,000 of them left the service unable to
 * start for any tenant (out of memory) until they expired (a storage review). A person signing in
 * needs one; 100 in 15 minutes bounds an organization's sessions at 4,800 in their 12 hours.
 */
export const LIVE_LINKS_PER_ORG = 100;

/**
 * A new one-time sign-in link to `orgId`'s dashboard, its token (the link's credential) and when it
 * stops working. `apiKeyId`: the key that asked for it ("key_" and 16 hex digits), recorded so that
 * revoking the key ends the link and the session it opens (revokeApiKey); null for the CLI's links.
 */
export async function issueLoginLink(
  db: Queryable,
  orgId: string,
  publicUrl: string,
  apiKeyId: string | null = null,
): Promise<{ url: string; token: string; expiresAt: Date }> {
  const t = token();
  // The database's clock, as every other creation time: the loader of live links (loginLinkKeysSince)
  // reads a link's creation from its expiry, and shares one watermark with keys and sessions, so a
  // CLI on a host whose clock ran ahead hid the keys created after its link (an attacker review).
  // One statement: the cap's count (at most LIVE_LINKS_PER_ORG rows read) and the insert. Requests
  // at the same instant may each see room, past the cap by the organization's few requests in flight.
  const { rows } = await db.query<{ expires_at: Date | null; first_expiry: Date | null }>(
    `WITH live AS (
       SELECT expires_at FROM login_links WHERE org_id = $1 AND used_at IS NULL AND expires_at > now() ORDER BY expires_at LIMIT $4
     ), made AS (
       INSERT INTO login_links (org_id, token_digest, expires_at, api_key_id)
       SELECT $1, $2, now() + make_interval(secs => $3::float8 / 1000), $5 WHERE (SELECT count(*) FROM live) < $4
       RETURNING expires_at
     )
     SELECT (SELECT expires_at FROM made) AS expires_at, (SELECT min(expires_at) FROM live) AS first_expiry`,
    [orgId, digest(t), LOGIN_LINK_TTL_MS, LIVE_LINKS_PER_ORG, apiKeyId],
  );
  const row = rows[0]!;
  if (row.expires_at === null) {
    const waitS = row.first_expiry ? Math.max(1, Math.ceil((new Date(row.first_expiry).getTime() - Date.now()) / 1000)) : 60;
    throw new AppError(
      'rate_limited',
      `This organization has ${LIVE_LINKS_PER_ORG} sign-in links not yet used; a new one can be made when the oldest expires (links last 15 minutes), or use one of them.`,
      { retryAfterS: Math.min(waitS, LOGIN_LINK_TTL_MS / 1000) },
    );
  }
  return { url: `${publicUrl}/auth/login?token=${t}`, token: t, expiresAt: new Date(row.expires_at) };
}

export async function createLoginLink(db: Queryable, orgId: string, publicUrl: string): Promise<string> {
  return (await issueLoginLink(db, orgId, publicUrl)).url;
}

/** A link's state; when usable, its organization and the API key that made it (null: the CLI's). */
export type RedeemResult = { ok: true; orgId: string; apiKeyId: string | null } | { ok: false; reason: 'unknown' | 'used' | 'expired' };

/** Marks the link used in the same statement that reads it, so two concurrent uses cannot both win. */
export async function redeemLoginLink(db: Queryable, t: string): Promise<RedeemResult> {
  const d = digest(t);
  const { rows } = await db.query<{ org_id: string; api_key_id: string | null }>(
    `UPDATE login_links SET used_at = now()
      WHERE token_digest = $1 AND used_at IS NULL AND expires_at > now()
      RETURNING org_id, api_key_id`,
    [d],
  );
  if (rows[0]) return { ok: true, orgId: rows[0].org_id, apiKeyId: rows[0].api_key_id };
  const { rows: seen } = await db.query<{ used_at: Date | null }>('SELECT used_at FROM login_links WHERE token_digest = $1', [d]);
  if (!seen[0]) return { ok: false, reason: 'unknown' };
  return { ok: false, reason: seen[0].used_at ? 'used' : 'expired' };
}

/** Reports a link's state without using it up (the GET confirm page). */
export async function peekLoginLink(db: Queryable, t: string): Promise<RedeemResult> {
  const { rows } = await db.query<{ org_id: string; used_at: Date | null; live: boolean; api_key_id: string | null }>(
    'SELECT org_id, used_at, expires_at > now() AS live, api_key_id FROM login_links WHERE token_digest = $1',
    [digest(t)],
  );
  const row = rows[0];
  if (!row) return { ok: false, reason: 'unknown' };
  if (row.used_at) return { ok: false, reason: 'used' };
  if (!row.live) return { ok: false, reason: 'expired' };
  return { ok: true, orgId: row.org_id, apiKeyId: row.api_key_id };
}

/** A session as it is made: its cookie's token (shown once), its CSRF token and its expiry. */
export interface NewSession {
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

/**
 * A new session of `orgId`, descending from the API key `apiKeyId` made its link with (null: none),
 * or null when that key has been revoked since. The key's row is share-locked while the session is
 * written: a revoke at the same moment either waits for this insert and then ends the session with
 * the key's others (its delete of sessions is a later statement, which sees it), or went first and
 * no session is made. Otherwise a link used while its key was being revoked left a session behind.
 */
export async function createSession(db: Queryable, orgId: string): Promise<NewSession>;
export async function createSession(db: Queryable, orgId: string, apiKeyId: string | null): Promise<NewSession | null>;
export async function createSession(db: Queryable, orgId: string, apiKeyId: string | null = null): Promise<NewSession | null> {
  const t = token();
  const csrfToken = token();
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  const { rowCount } = await db.query(
    `INSERT INTO sessions (org_id, token_digest, csrf_token, expires_at, api_key_id)
     SELECT $1, $2, $3, $4, $5
      WHERE $5::text IS NULL OR EXISTS (SELECT 1 FROM api_keys WHERE org_id = $1 AND lookup_id = substring($5 FROM 5) FOR KEY SHARE)`,
    [orgId, digest(t), csrfToken, expiresAt, apiKeyId],
  );
  return rowCount > 0 ? { token: t, csrfToken, expiresAt } : null;
}

/** The live session of a cookie, by its digest (tokenDigest), or null. */
export async function findSession(db: Queryable, d: Buffer): Promise<{ orgId: string; csrfToken: string } | null> {
  const { rows } = await db.query<{ org_id: string; csrf_token: string }>(
    'SELECT org_id, csrf_token FROM sessions WHERE token_digest = $1 AND expires_at > now()',
    [d],
  );
  return rows[0] ? { orgId: rows[0].org_id, csrfToken: rows[0].csrf_token } : null;
}

export async function deleteSession(db: Queryable, t: string): Promise<void> {
  await db.query('DELETE FROM sessions WHERE token_digest = $1', [digest(t)]);
}

/**
 * Ends every dashboard session of an organization (a lost laptop, a departed admin), and its sign-in
 * links not yet used: one made just before would otherwise sign in after it (an attacker's review).
 * Returns how many sessions.
 */
export async function endSessions(db: Queryable, orgId: string): Promise<number> {
  await db.query('DELETE FROM login_links WHERE org_id = $1 AND used_at IS NULL', [orgId]);
  const { rowCount } = await db.query('DELETE FROM sessions WHERE org_id = $1', [orgId]);
  return rowCount;
}

/**
 * Ends the dashboard sessions opened by sign-in links the API key `apiKeyId` made, and deletes its
 * links not yet used (auth/revoke.ts, as the key is revoked). Returns how many of each.
 */
export async function endSignInsOfKey(db: Queryable, orgId: string, apiKeyId: string): Promise<{ sessions: number; loginLinks: number }> {
  const links = await db.query('DELETE FROM login_links WHERE org_id = $1 AND api_key_id = $2 AND used_at IS NULL', [orgId, apiKeyId]);
  const sessions = await db.query('DELETE FROM sessions WHERE org_id = $1 AND api_key_id = $2', [orgId, apiKeyId]);
  return { sessions: sessions.rowCount, loginLinks: links.rowCount };
}

/** Rows deleted per statement by deleteExpiredSignIns: short statements, the embedded database's thread is shared. */
const EXPIRY_BATCH = 5000;

/**
 * Deletes expired sessions and sign-in links expired over a day ago (the worker's hourly retention
 * round): without it every sign-in left its rows for good. Oldest first, by the creation index for
 * sessions (the oldest are the expired ones; the walk still reads the live ones, which are few: each
 * lasts 12 hours) and by the
 * expiry index for links (migration 0021); in batches, each removed by ctid as the retention prune does
 * (queue/prune.ts).
 */
export async function deleteExpiredSignIns(db: Queryable, batch = EXPIRY_BATCH): Promise<{ sessions: number; loginLinks: number }> {
  const drain = async (sql: string) => {
    let total = 0;
    for (;;) {
      const { rowCount } = await db.query(sql, [batch]);
      total += rowCount;
      if (rowCount < batch) return total;
    }
  };
  const sessions = await drain(`DELETE FROM sessions WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM sessions WHERE expires_at <= now() ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED))`);
  const loginLinks = await drain(`DELETE FROM login_links WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM login_links WHERE expires_at < now() - ${EXPIRED_LINK_KEPT} ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED))`);
  return { sessions, loginLinks };
}
