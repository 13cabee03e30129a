import { Type, type Static } from 'typebox';

/** At most this many addresses per organization: alerts are for an on-call list, not a newsletter. */
export const MAX_ALERT_EMAILS = 10;
export const MAX_EMAIL_LENGTH = 254;

export const PutNotificationSettingsBody = Type.Object(
  {
    emails: Type.Array(Type.String({ minLength: 1, maxLength: MAX_EMAIL_LENGTH, description: 'An e-mail address (name@example.com).' }), {
      maxItems: MAX_ALERT_EMAILS,
      description: `Who gets alert e-mails (at most ${MAX_ALERT_EMAILS}; [] = none). Needs AEGIS_SMTP_URL on the server.`,
    }),
    webhook_url: Type.Union([Type.String({ minLength: 1, maxLength: 2048 }), Type.Null()], {
      description: 'Operational webhook: an https:// URL that receives alerts as JSON signed with Standard Webhooks; null = none.',
    }),
    rotate_webhook_secret: Type.Optional(Type.Boolean({ description: 'true: a new signing secret, returned once in this answer.' })),
  },
  { additionalProperties: false },
);
export type PutNotificationSettingsBody = Static<typeof PutNotificationSettingsBody>;

export const NotificationSettingsView = Type.Object({
  emails: Type.Array(Type.String()),
  webhook_url: Type.Union([Type.String(), Type.Null()], {
    description:
      "Any credential the URL carries (a chat hook's path secret, ?token=) shown as [redacted]; sent back as shown in a PUT, it keeps the stored URL.",
  }),
  webhook_signing_secret_configured: Type.Boolean({ description: 'A Standard Webhooks secret exists for the operational webhook (never shown again).' }),
  webhook_signing_secret: Type.Optional(
    Type.String({ description: 'whsec_...: only in the answer that created or rotated it. Verify webhook-signature with it.' }),
  ),
  email_available: Type.Boolean({ description: 'Whether this server can send e-mail (AEGIS_SMTP_URL is set).' }),
  updated_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type NotificationSettingsView = Static<typeof NotificationSettingsView>;
