import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../context.js';
import { createSession, deleteSession, findSession, redeemLoginLink } from '../../auth/sessions.js';
import { getOrg } from '../../orgs/repository.js';
import { authenticate, SESSION_COOKIE } from '../auth.js';
import { AppError } from '../../errors.js';

const REASONS = {
  unknown: 'This sign-in link is not valid. Ask for a new one with: aegis-stream login-link --org <org id>',
  used: 'This sign-in link has already been used. Each link works once; ask for a new one with: aegis-stream login-link --org <org id>',
  expired: 'This sign-in link has expired (links last 15 minutes). Ask for a new one with: aegis-stream login-link --org <org id>',
} as const;

function page(title: string, message: string): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2933}h1{font-size:1.4rem}</style></head>
<body><main><h1>${esc(title)}</h1><p role="alert">${esc(message)}</p></main></body></html>`;
}

export function sessionRoutes(app: FastifyInstance, ctx: AppContext): void {
  const secureCookie = ctx.config.publicUrl.startsWith('https://');

  app.get('/auth/login', {
    schema: {
      tags: ['dashboard session'],
      summary: 'Redeem a one-time sign-in link',
      querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })) }),
    },
    handler: async (req, reply) => {
      const token = (req.query as { token?: string }).token ?? '';
      const res = token ? await redeemLoginLink(ctx.db, token) : ({ ok: false, reason: 'unknown' } as const);
      if (!res.ok) {
        req.log.info({ reason: res.reason }, 'sign-in link refused');
        return reply.status(410).type('text/html; charset=utf-8').send(page('Sign-in link not valid', REASONS[res.reason]));
      }
      const session = await createSession(ctx.db, res.orgId);
      req.log.info({ org_id: res.orgId }, 'dashboard sign-in');
      void reply.setCookie(SESSION_COOKIE, session.token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: secureCookie,
        path: '/',
        expires: session.expiresAt,
      });
      return reply.redirect('/settings/siem-forwarding', 303);
    },
  });

  app.get('/api/session', {
    schema: { tags: ['dashboard session'], summary: 'Who is signed in (dashboard)' },
    handler: async (req) => {
      const token = req.cookies[SESSION_COOKIE];
      const session = token ? await findSession(ctx.db, token) : null;
      if (!session) throw new AppError('unauthorized', 'Not signed in. Open the sign-in link that `npm start` or `aegis-stream login-link` printed.');
      const org = await getOrg(ctx.db, session.orgId);
      return { org_id: session.orgId, org_name: org?.name ?? session.orgId, csrf_token: session.csrfToken };
    },
  });

  app.post('/api/session/logout', {
    schema: { tags: ['dashboard session'], summary: 'Sign out' },
    handler: async (req, reply) => {
      await authenticate(ctx.db, req); // a cookie-authenticated write: requires the CSRF header
      const token = req.cookies[SESSION_COOKIE];
      if (token) await deleteSession(ctx.db, token);
      void reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: secureCookie });
      return reply.status(204).send();
    },
  });
}
