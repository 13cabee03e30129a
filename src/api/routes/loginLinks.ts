import type { AppContext } from '../context.js';
import type { TypedApp } from '../typed.js';
import { OrgParams, SECURITY, writeErrors } from '../schemas/common.js';
import { LoginLinkView } from '../schemas/session.js';
import { issueLoginLink } from '../../auth/sessions.js';
import { reachablePublicUrl } from '../../config/env.js';
import { loginLinkCheckId } from '../auth.js';
import type { CredentialChecks } from '../credentialChecks.js';

/**
 * A sign-in link asked of the running service. `aegis-stream login-link` opens the database itself,
 * which the embedded default lets one process do at a time: while the service runs there, a user whose
 * first link had been used or had expired could reach the dashboard again only by restarting it (an
 * operator's review). An API key already manages everything the dashboard shows, so one may ask for a
 * link to it.
 */
export function loginLinkRoutes(app: TypedApp, ctx: AppContext, checks: CredentialChecks): void {
  app.post('/api/orgs/:org_id/login-links', {
    schema: {
      tags: ['dashboard session'],
      operationId: 'createLoginLink',
      summary: "Make a one-time sign-in link to the organization's dashboard (valid 15 minutes)",
      description: 'What `aegis-stream login-link` prints, from the running service: for the embedded database, whose files the service holds while it runs.',
      // An API key only (requireOrg refuses a session by this): a session that could make links would
      // renew itself past its 12 hours, and a stolen one outlive `sessions end` (an attacker's review).
      security: SECURITY.apiKey,
      params: OrgParams,
      response: { 201: LoginLinkView, ...writeErrors() },
    },
    handler: async (req, reply) => {
      const publicUrl = reachablePublicUrl(ctx.config.publicUrl, () => req.server.listeningOrigin);
      // The key that asked (SECURITY.apiKey: always one), so that revoking it ends the link and its session.
      const link = await issueLoginLink(ctx.db, req.params.org_id, publicUrl, req.authActor?.type === 'api_key' ? req.authActor.id : null);
      // Opened at once, not in the lane made-up tokens crowd (credentialChecks.ts checkIssued).
      checks.rememberIssued(loginLinkCheckId(link.token), req.params.org_id);
      // Never the link: it signs whoever opens it in. Who asked, as the trail names a key.
      req.log.info({ org_id: req.params.org_id, actor: req.authActor?.id }, 'sign-in link made');
      void reply.header('Cache-Control', 'no-store');
      return reply.status(201).send({ url: link.url, expires_at: link.expiresAt.toISOString() });
    },
  });
}
