import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/types.js';
import { digestKey, keyActorIdOf, lookupIdOf, plausibleApiKey, verifyKeyDigest } from '../auth/apiKeys.js';
import { findSession, plausibleToken, sessionActorIdOf, tokenDigest } from '../auth/sessions.js';
import type { CredentialChecks } from './credentialChecks.js';
import type { TrailActor } from '../trail/contract.js';
import { AppError } from '../errors.js';

export const CSRF_HEADER = 'x-csrf-token';

/**
 * The dashboard session's cookie: its name, its Secure flag, and how a request's is read. Behind an
 * https public URL it is `__Host-aegis_session`: a browser takes a cookie of that name only from this
 * very host, Secure, with Path=/ and no Domain, so a page on a sibling subdomain cannot plant one. A
 * plain `aegis_session` it could, with `Domain=<parent>; Path=/api`: sent before ours (the longer path
 * first), it was the one read, and the victim's dashboard worked in the attacker's organization (a
 * dashboard attacker review). Over http (a local dashboard) the prefix is refused by browsers, so
 * there a request carrying the name twice is refused instead of either cookie being believed.
 */
export interface SessionCookie {
  name: string;
  secure: boolean;
  /** The session token the request carries, if any; a 401 when it carries the cookie twice. */
  read(req: FastifyRequest): string | undefined;
}

export function sessionCookie(publicUrl: URL): SessionCookie {
  const secure = publicUrl.protocol === 'https:';
  const name = secure ? '__Host-aegis_session' : 'aegis_session';
  return {
    name,
    secure,
    read(req) {
      const value = req.cookies?.[name];
      if (value !== undefined && cookieCount(req.headers.cookie, name) > 1) {
        throw new AppError(
          'session_conflict',
          "Two session cookies were sent (another site of this domain may have set one): clear this site's cookies in the browser, then open a new sign-in link.",
        );
      }
      return value;
    },
  };
}

/** How many pairs of the Cookie header are named `name` (RFC 6265: "name=value" pairs split by ";"). */
function cookieCount(header: string | undefined, name: string): number {
  if (header === undefined) return 0;
  let n = 0;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) n++;
  }
  return n;
}

declare module 'fastify' {
  interface FastifyRequest {
    authOrgId?: string;
    authMethod?: 'api_key' | 'session';
    /** Who is calling, as the configuration trail names them (never a secret). */
    authActor?: TrailActor;
  }
}

/** Constant-time comparison of two secrets (the length check leaks only the length, which is fixed). */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The credential of an `Authorization: Bearer <credential>` header, or null. The scheme in any case,
 * one space or more after it (RFC 9110 11.1 and 11.4: case-insensitive, 1*SP; a review's client
 * sent two). The one reading of the header: /metrics read it strictly and refused what the API takes.
 */
export function bearerToken(header: string | undefined): string | null {
  return /^Bearer +(\S+)$/i.exec((header ?? '').trim())?.[1] ?? null;
}

/**
 * Resolves who is calling: an API key (`Authorization: Bearer <key>`) or a dashboard session cookie.
 * Cookie-authenticated writes must echo the session's CSRF token in a header: a cross-site form
 * cannot set custom headers (and SameSite=Strict keeps the cookie home as well).
 */
export async function authenticate(
  db: Db,
  checks: CredentialChecks,
  cookie: SessionCookie,
  req: FastifyRequest,
): Promise<{ orgId: string; method: 'api_key' | 'session'; actor: TrailActor }> {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const key = bearerToken(header);
    if (key === null) throw new AppError('unauthorized', 'Authorization must be "Bearer <api key>".');
    // A value no key could be is refused without a lookup, and without taking the lane's time.
    if (!plausibleApiKey(key)) throw new AppError('unauthorized', 'The API key is not valid.');
    // Digested once: the lane's name for it, the lookup and the trail's id all come from it.
    const digest = digestKey(key);
    const orgId = await checks.check(keyCheckName(digest), () => verifyKeyDigest(db, digest));
    if (!orgId) throw new AppError('unauthorized', 'The API key is not valid.');
    return { orgId, method: 'api_key', actor: { type: 'api_key', id: keyActorIdOf(digest) } };
  }
  const token = cookie.read(req);
  if (token) {
    const digest = plausibleToken(token) ? tokenDigest(token) : null;
    const session = digest && (await checkSessionDigest(db, checks, digest));
    // Unknown, ended or expired alike: which one is not the caller's to learn.
    if (!session) throw new AppError('unauthorized', 'Not signed in: this session has ended or expired, or was never made here; open a new sign-in link.');
    if (!SAFE_METHODS.has(req.method)) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameSecret(sent, session.csrfToken)) {
        throw new AppError('csrf_failed', 'Missing or wrong CSRF token; reload the page and try again.');
      }
    }
    return { orgId: session.orgId, method: 'session', actor: { type: 'dashboard_session', id: sessionActorIdOf(digest) } };
  }
  throw new AppError('unauthorized', 'Send "Authorization: Bearer <api key>".');
}

/**
 * The names credentials go by in CredentialChecks: the first 16 hex characters of their digests (as
 * api_keys.lookup_id and the trail's ids), a letter apart for each kind. seenCredentials.ts reads the
 * same from the database.
 */
const keyCheckName = (digest: Buffer) => `k${lookupIdOf(digest)}`;
const sessionCheckName = (digest: Buffer) => `s${lookupIdOf(digest)}`;
export const apiKeyCheckId = (key: string) => keyCheckName(digestKey(key));
export const sessionCheckId = (cookie: string) => sessionCheckName(tokenDigest(cookie));
export const loginLinkCheckId = (token: string) => `l${lookupIdOf(tokenDigest(token))}`;

/** A dashboard session by its cookie, checked in its lane (credentialChecks.ts); null when unknown or expired. */
export async function checkSession(db: Db, checks: CredentialChecks, cookie: string): Promise<{ orgId: string; csrfToken: string } | null> {
  return plausibleToken(cookie) ? checkSessionDigest(db, checks, tokenDigest(cookie)) : null;
}

function checkSessionDigest(db: Db, checks: CredentialChecks, digest: Buffer): Promise<{ orgId: string; csrfToken: string } | null> {
  return checks.check(sessionCheckName(digest), () => findSession(db, digest));
}

/** Whether the route's OpenAPI security (schemas/common.ts SECURITY) lists the session among its ways in. */
function acceptsSession(req: FastifyRequest): boolean {
  const security = req.routeOptions.schema?.security as readonly Record<string, unknown>[] | undefined;
  return security === undefined || security.some((requirement) => 'session' in requirement);
}

/** onRequest hook for /api/orgs/:org_id/...: another org's path answers 404, as if it did not exist. */
export function requireOrg(db: Db, checks: CredentialChecks, cookie: SessionCookie) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const { orgId, method, actor } = await authenticate(db, checks, cookie, req);
    // onRequest runs before validation: the parameter is whatever the path held, compared as is.
    const params: unknown = req.params;
    const pathOrg = typeof params === 'object' && params !== null && 'org_id' in params ? params.org_id : undefined;
    if (pathOrg !== orgId) throw new AppError('not_found', 'organization not found');
    // The route's stated security decides, not a check of its own: a route no session may call
    // (SECURITY.apiKey: a sign-in link, with which a session would renew itself) refuses one here.
    if (method === 'session' && !acceptsSession(req)) throw new AppError('forbidden', 'This operation takes an API key; a dashboard session cannot call it.');
    req.authOrgId = orgId;
    req.authMethod = method;
    req.authActor = actor;
  };
}
