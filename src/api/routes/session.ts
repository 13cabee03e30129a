import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { AppContext } from '../context.js';
import type { TypedApp } from '../typed.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errors, SECURITY } from '../schemas/common.js';
import { HtmlPage, LoginBody, LoginQuery, NoBody, SessionView } from '../schemas/session.js';
import { createSession, deleteSession, peekLoginLink, plausibleToken, redeemLoginLink, type RedeemResult } from '../../auth/sessions.js';
import { getOrg } from '../../orgs/repository.js';
import { authenticate, checkSession, loginLinkCheckId, sessionCheckId, type SessionCookie } from '../auth.js';
import type { CredentialChecks } from '../credentialChecks.js';
import { AppError } from '../../errors.js';
import { LineThrottle } from '../../lineThrottle.js';
import { readRequestBody } from '../bodyReader.js';

/** Both ways to a new link: the command opens the database, which the embedded default lets the running service alone do. */
const NEW_LINK = 'aegis-stream login-link --org <org id>, or ask the running service with the API key: POST /api/orgs/<org id>/login-links (docs/dashboard.md)';
const REASONS = {
  unknown: `This sign-in link is not valid. Ask for a new one with: ${NEW_LINK}`,
  used: `This sign-in link has already been used. Each link works once; ask for a new one with: ${NEW_LINK}`,
  expired: `This sign-in link has expired (links last 15 minutes). Ask for a new one with: ${NEW_LINK}`,
} as const;

const REFUSED = 'The sign-in link is unknown, already used or expired: a page saying so.';
const BUSY = 'Too many sign-in links being checked at once (AEGIS_API_NEW_CREDENTIALS_PER_SECOND): a page asking to reload in a few seconds (Retry-After).';

// Server-rendered sign-in pages: no script at all; the form may only post back here.
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function signInPage(orgName: string, token: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in to Aegis</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2933}h1{font-size:1.4rem}
button{font:inherit;padding:.6rem 1.2rem;border-radius:6px;border:0;background:#1d4ed8;color:#fff;cursor:pointer}button:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}</style></head>
<body><main><h1>Sign in to Aegis</h1><p>You are signing in to <strong>${esc(orgName)}</strong> to manage SIEM forwarding. This link works once.</p>
<form method="post" action="/auth/login"><input type="hidden" name="token" value="${esc(token)}"><button type="submit">Sign in</button></form></main></body></html>`;
}

function page(title: string, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2933}h1{font-size:1.4rem}</style></head>
<body><main><h1>${esc(title)}</h1><p role="alert">${esc(message)}</p></main></body></html>`;
}

/** What Sec-Fetch-Site says of a request the browser made itself (none: typed in, a bookmark) or from this origin. */
const OWN_FETCH_SITES = new Set(['same-origin', 'none']);

/**
 * Whether a sign-in POST comes from another site, by what the browser says of it: an Origin other than
 * ours, or a Sec-Fetch-Site other than same-origin or none (same-site included: a sibling subdomain is
 * another site here). Browsers send one or both; a client that sends neither (curl, a script) is not a
 * browser another site could drive, and passes.
 */
function fromAnotherSite(headers: IncomingHttpHeaders, publicOrigin: string, requestOrigin: string): boolean {
  const { origin } = headers;
  if (origin !== undefined && origin !== publicOrigin && origin !== requestOrigin) return true;
  const site = headers['sec-fetch-site'];
  return site !== undefined && !OWN_FETCH_SITES.has(site);
}

export function sessionRoutes(app: TypedApp, ctx: AppContext, checks: CredentialChecks, cookie: SessionCookie): void {
  const publicUrl = new URL(ctx.config.publicUrl);
  // Anyone can send these without a key: a warn line each let a script fill the operator's log (an
  // observability review). The first is written at once, then one a minute with the count held back.
  const crossSiteLines = new LineThrottle(60_000);

  /** The session cookie of a request that carries it once; none when it carries it twice (or not at all). */
  const onceOrNone = (req: FastifyRequest): string | undefined => {
    try {
      return cookie.read(req);
    } catch (err) {
      if (err instanceof AppError) return undefined;
      throw err;
    }
  };
  /** Ends the session a cookie names, if any: sign-out, and a sign-in replacing the browser's session. */
  const endSessionOf = async (token: string | undefined): Promise<void> => {
    if (!token || !plausibleToken(token)) return; // not a session token: no row can hold its digest
    await deleteSession(ctx.db, token);
    checks.forget(sessionCheckId(token));
  };

  const refused = (reply: FastifyReply, reason: keyof typeof REASONS) =>
    reply.status(410).type('text/html; charset=utf-8').header('content-security-policy', PAGE_CSP).send(page('Sign-in link not valid', REASONS[reason]));

  /**
   * A sign-in link's token looked up at once when this server issued it (credentialChecks.ts
   * checkIssued), else in the lane for credentials not yet known: a token of another shape than the
   * service makes is unknown without a lookup. Null when the lane is full: the person at the browser
   * gets a page saying to retry (busy), not the API's JSON. A link used (`uses`: the lookup redeems it)
   * or refused goes back to the lane: it can never sign in again.
   */
  const linkState = async (token: string, lookup: () => Promise<RedeemResult>, uses: boolean): Promise<RedeemResult | null> => {
    if (!plausibleToken(token)) return { ok: false, reason: 'unknown' };
    const id = loginLinkCheckId(token);
    try {
      const state = await checks.checkIssued(id, lookup);
      if (uses || !state.ok) checks.forget(id);
      return state;
    } catch (err) {
      if (err instanceof AppError && err.code === 'rate_limited') return null;
      throw err;
    }
  };
  const busy = (reply: FastifyReply) =>
    reply
      .status(429)
      .header('retry-after', '5')
      .type('text/html; charset=utf-8')
      .header('content-security-policy', PAGE_CSP)
      .send(page('Please try again', 'The server is checking too many sign-ins right now. Reload this page in a few seconds: the link still works.'));

  // Opening the link only shows a "Sign in" button; the same-origin POST it submits uses the link up.
  // A GET must not: mail and chat link scanners fetch links before people click them.
  app.get('/auth/login', {
    schema: {
      tags: ['dashboard session'],
      operationId: 'showSignInPage',
      summary: 'Show the sign-in page for a one-time link (does not use it up)',
      security: SECURITY.none,
      querystring: LoginQuery,
      response: {
        200: HtmlPage('The sign-in page: a button that posts the token to POST /auth/login.'),
        410: HtmlPage(REFUSED),
        429: HtmlPage(BUSY),
        ...errors([400, 500, 503]),
      },
    },
    handler: async (req, reply) => {
      const token = req.query.token ?? '';
      const state = token ? await linkState(token, () => peekLoginLink(ctx.db, token), false) : ({ ok: false, reason: 'unknown' } as const);
      if (state === null) return busy(reply);
      if (!state.ok) return refused(reply, state.reason);
      const org = await getOrg(ctx.db, state.orgId);
      return (
        reply
          .type('text/html; charset=utf-8')
          .header('content-security-policy', PAGE_CSP)
          .header('cache-control', 'no-store')
          // Under no-referrer, browsers send "Origin: null" with the form POST, which the login-CSRF
          // check must refuse; same-origin lets our own origin through and still leaks nothing elsewhere.
          .header('referrer-policy', 'same-origin')
          .send(signInPage(org?.name ?? state.orgId, token))
      );
    },
  });

  // In its own scope: only this route accepts a form-encoded body (the sign-in page posts a plain HTML
  // form, no script); the REST API keeps refusing anything but JSON.
  void app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
    // Read as every body is (bodyReader.ts): this route takes no credential, and Fastify's parseAs
    // kept each socket read of a dripped form, some 200 bytes of heap each (an attacker's review).
    scope.addContentTypeParser('application/x-www-form-urlencoded', (req, payload, done) => {
      readRequestBody(req, payload, (err, body) =>
        err !== null ? done(err, undefined) : done(null, Object.fromEntries(new URLSearchParams(body!.toString('utf8')))),
      );
    });
    redeemRoute(scope);
  });

  function redeemRoute(scope: TypedApp): void {
    scope.post('/auth/login', {
      // A token and nothing else, in any media type: anyone may post here, with no credential.
      bodyLimit: 4096,
      config: { bodyMediaTypes: 'application/x-www-form-urlencoded (as the sign-in page sends it) or application/json' },
      schema: {
        tags: ['dashboard session'],
        operationId: 'redeemSignInLink',
        summary: 'Redeem a one-time sign-in link (form POST from the sign-in page)',
        security: SECURITY.none,
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: LoginBody,
        response: {
          303: NoBody('Signed in: the session cookie is set and the browser is sent to the dashboard.', {
            location: { description: '/settings/siem-forwarding', type: 'string' },
            'set-cookie': { description: 'The HttpOnly, SameSite=Strict session cookie.', type: 'string' },
          }),
          403: HtmlPage('The POST came from another origin (login CSRF): refused, nothing used up.'),
          410: HtmlPage(REFUSED),
          429: HtmlPage(BUSY),
          ...errors([400, 413, 415, 500, 503]),
        },
      },
      handler: async (req, reply) => {
        // Login CSRF: another site must not sign a visitor into an organization of its choosing (whose
        // dashboard would then collect the visitor's SIEM credentials).
        if (fromAnotherSite(req.headers, publicUrl.origin, `${req.protocol}://${req.headers.host ?? ''}`)) {
          const heldBack = crossSiteLines.take('cross-site sign-in');
          if (heldBack !== null) req.log.warn({ refused_since_last_line: heldBack }, 'sign-in POST from another origin refused (logged once a minute)');
          return reply
            .status(403)
            .type('text/html; charset=utf-8')
            .header('content-security-policy', PAGE_CSP)
            .send(page('Sign-in refused', 'This sign-in came from another site. Open the sign-in link yourself.'));
        }
        const res = await linkState(req.body.token, () => redeemLoginLink(ctx.db, req.body.token), true);
        if (res === null) return busy(reply);
        if (!res.ok) {
          req.log.info({ reason: res.reason }, 'sign-in link refused');
          return refused(reply, res.reason);
        }
        const session = await createSession(ctx.db, res.orgId, res.apiKeyId);
        if (session === null) {
          // The key that made the link was revoked as it was used: the link goes with the key.
          req.log.info({ reason: 'key revoked' }, 'sign-in link refused');
          return refused(reply, 'unknown');
        }
        checks.remember(sessionCheckId(session.token));
        // The session this browser had ends (a cookie sent twice has none to end: it is refused elsewhere).
        await endSessionOf(onceOrNone(req));
        req.log.info({ org_id: res.orgId }, 'dashboard sign-in');
        void reply.setCookie(cookie.name, session.token, {
          httpOnly: true,
          sameSite: 'strict',
          secure: cookie.secure,
          path: '/',
          expires: session.expiresAt,
        });
        return reply.redirect('/settings/siem-forwarding', 303);
      },
    });
  }

  app.get('/api/session', {
    schema: {
      tags: ['dashboard session'],
      operationId: 'getSession',
      summary: 'Who is signed in (dashboard)',
      security: SECURITY.session,
      response: {
        200: SessionView,
        ...errors([401, 429, 500, 503], {
          401: "unauthorized: no session cookie, or the session has expired; session_conflict: the session cookie sent twice (clear the site's cookies).",
        }),
      },
    },
    handler: async (req) => {
      const token = cookie.read(req);
      const session = token ? await checkSession(ctx.db, checks, token) : null;
      if (!session) throw new AppError('unauthorized', `Not signed in. Open the sign-in link that \`npm start\` printed, or make a new one with: ${NEW_LINK}`);
      const org = await getOrg(ctx.db, session.orgId);
      return { org_id: session.orgId, org_name: org?.name ?? session.orgId, csrf_token: session.csrfToken };
    },
  });

  app.post('/api/session/logout', {
    // It takes no body, and its credential is checked in the handler, after the body is read.
    bodyLimit: 1024,
    schema: {
      tags: ['dashboard session'],
      operationId: 'signOut',
      summary: 'Sign out',
      description:
        'Ends the session of the cookie sent (with its CSRF token) and clears the cookie. With an API key instead, there is no session to end: it answers 204 all the same.',
      security: SECURITY.sessionWrite,
      response: { 204: NoBody('Signed out; the cookie is cleared.'), ...errors([400, 401, 403, 413, 415, 429, 500, 503]) },
    },
    handler: async (req, reply) => {
      // A cookie-authenticated write: requires the CSRF header. Only the session that authenticated the
      // request is ended: with an API key, a cookie sent beside it (another organization's session,
      // say) was ended too (a tenant-isolation review).
      const { method } = await authenticate(ctx.db, checks, cookie, req);
      if (method === 'session') await endSessionOf(cookie.read(req));
      void reply.clearCookie(cookie.name, { path: '/', httpOnly: true, sameSite: 'strict', secure: cookie.secure });
      return reply.status(204).send();
    },
  });
}
