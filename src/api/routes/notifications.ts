import type { AppContext } from '../context.js';
import type { TypedApp } from '../typed.js';
import { OrgParams, readErrors, SECURITY, writeErrors } from '../schemas/common.js';
import { NotificationSettingsView, PutNotificationSettingsBody } from '../schemas/notifications.js';
import { getSettingsView, putSettings } from '../../alerts/settings.js';
import { actorOf } from '../actor.js';

const tags = ['notification-settings'];
const path = '/api/orgs/:org_id/notification-settings';

/** Where an organization's alerts go (docs/alerts.md). */
export function notificationRoutes(app: TypedApp, ctx: AppContext): void {
  const deps = {
    db: ctx.db,
    keyRing: ctx.keyRing,
    allowPrivate: ctx.config.allowPrivateDestinations,
    emailAvailable: ctx.config.alerts.smtpUrl !== null,
    emailDomains: ctx.config.alerts.emailDomains,
    router: ctx.filterRouter,
  };

  app.get(path, {
    schema: {
      tags,
      operationId: 'getNotificationSettings',
      summary: 'Where alerts about failing destinations are sent',
      security: SECURITY.apiRead,
      params: OrgParams,
      response: { 200: NotificationSettingsView, ...readErrors() },
    },
    handler: async (req) => getSettingsView(deps, req.params.org_id),
  });

  app.put(path, {
    schema: {
      tags,
      operationId: 'setNotificationSettings',
      summary: 'Set the alert e-mail addresses and the operational webhook (replaces both)',
      security: SECURITY.apiWrite,
      params: OrgParams,
      body: PutNotificationSettingsBody,
      response: { 200: NotificationSettingsView, ...writeErrors() },
    },
    handler: async (req) => {
      const { org_id } = req.params;
      const body = req.body;
      const view = await putSettings(deps, org_id, body, actorOf(req));
      // Counts only: addresses are personal data and the URL may carry a token.
      req.log.info(
        { emails: view.emails.length, webhook: view.webhook_url !== null, secret_rotated: view.webhook_signing_secret !== undefined },
        'notification settings updated',
      );
      return view;
    },
  });
}
