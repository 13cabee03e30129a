// The notification settings' rules: validated addresses, a webhook URL held to the destination URL
// checks, and the webhook's Standard Webhooks secret sealed like destination credentials.
import { holdsUrlMask, isSentBackAs, shownUrl, URL_MASK_MESSAGE } from '../delivery/urlSecrets.js';
import { alertAddressAllowed } from './recipients.js';
import type { Db } from '../db/types.js';
import type { KeyRing } from '../crypto/keyring.js';
import { associatedData, open, seal } from '../crypto/sealedBox.js';
import { checkDestinationUrl } from '../delivery/outbound/url.js';
import { generateSigningSecret } from '../siem/standardWebhooks.js';
import { validationFailed } from '../errors.js';
import type { Violation } from '../events/violation.js';
import type { NotificationSettingsView, PutNotificationSettingsBody } from '../api/schemas/notifications.js';
import { getNotificationSettings, putNotificationSettings, type NotificationSettingsRow } from './repository.js';
import type { TrailActor } from '../trail/contract.js';
import { notificationChanges } from '../trail/changes.js';
import type { FilterRouter } from '../filters/router.js';
import { recordTrail } from '../trail/record.js';

export interface SettingsDeps {
  db: Db;
  keyRing: KeyRing;
  allowPrivate: boolean;
  emailAvailable: boolean;
  /** AEGIS_ALERT_EMAIL_DOMAINS: the domains addresses must be at, or null for any. */
  emailDomains: readonly string[] | null;
  /** The service's compiled filters, for the trail event recorded in the settings' transaction. */
  router?: FilterRouter;
}

// A plain addr-spec: no display name, comments, quotes, spaces or line breaks, so an address can
// never smuggle a header or a second recipient into the message.
const LOCAL = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*";
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const EMAIL = new RegExp(`^${LOCAL}@${LABEL}(?:\\.${LABEL})+$`);

export function isEmailAddress(s: string): boolean {
  const at = s.lastIndexOf('@');
  return s.length <= 254 && at > 0 && at <= 64 && EMAIL.test(s);
}

/** The webhook secret's associated data: the organization and a purpose no destination id can take. */
export const webhookSecretAad = (orgId: string) => associatedData(orgId, 'notifications', 'signing_secret');

export function openWebhookSecret(ring: KeyRing, row: Pick<NotificationSettingsRow, 'org_id' | 'webhook_secret_sealed'>): string | null {
  // PGlite returns bytea as a Uint8Array, pg as a Buffer.
  return row.webhook_secret_sealed ? open(ring, Buffer.from(row.webhook_secret_sealed), webhookSecretAad(row.org_id)) : null;
}

function view(row: NotificationSettingsRow | null, emailAvailable: boolean): NotificationSettingsView {
  return {
    emails: row?.emails ?? [],
    // Its credential masked, as a destination's URL is (shownUrl): a chat hook's URL is its secret.
    webhook_url: row?.webhook_url ? shownUrl(row.webhook_url) : null,
    webhook_signing_secret_configured: row?.webhook_secret_sealed != null,
    email_available: emailAvailable,
    updated_at: row ? new Date(row.updated_at).toISOString() : null,
  };
}

export async function getSettingsView(deps: SettingsDeps, orgId: string): Promise<NotificationSettingsView> {
  return view(await getNotificationSettings(deps.db, orgId), deps.emailAvailable);
}

export async function putSettings(deps: SettingsDeps, orgId: string, body: PutNotificationSettingsBody, actor: TrailActor): Promise<NotificationSettingsView> {
  const violations: Violation[] = [];
  const emails: string[] = [];
  const seen = new Set<string>();
  body.emails.forEach((raw, i) => {
    const e = raw.trim();
    if (!isEmailAddress(e)) violations.push({ path: `/emails/${i}`, message: 'must be an e-mail address like name@example.com' });
    else if (!alertAddressAllowed(e, deps.emailDomains))
      violations.push({
        path: `/emails/${i}`,
        // The allowed domains are not listed: on a service shared by several customers, the operator's
        // list is their domains, and the answer would name the others to anyone who sends a wrong address.
        message: "is not at a domain this service sends alert e-mails to (its operator chooses them; ask them which, or use your organization's own domain)",
      });
    else if (seen.has(e.toLowerCase())) violations.push({ path: `/emails/${i}`, message: 'is listed twice' });
    else {
      seen.add(e.toLowerCase());
      emails.push(e);
    }
  });
  let webhookUrl: string | null = null;
  // The URL as GET shows it, its credential masked, or as stored, sent back unchanged: the stored one
  // (a PUT sends every setting with each save). Any other URL holding the mask lacks its credential.
  let sentUrl = body.webhook_url;
  if (sentUrl !== null && holdsUrlMask(sentUrl)) {
    const stored = (await getNotificationSettings(deps.db, orgId))?.webhook_url ?? null;
    if (stored !== null && isSentBackAs(sentUrl, stored)) sentUrl = stored;
    else {
      violations.push({ path: '/webhook_url', message: URL_MASK_MESSAGE });
      sentUrl = null;
    }
  }
  if (sentUrl !== null) {
    const res = checkDestinationUrl(sentUrl, { allowPrivate: deps.allowPrivate });
    if (!res.ok) violations.push({ path: '/webhook_url', message: res.message });
    else webhookUrl = res.url.toString();
  }
  if (body.rotate_webhook_secret && webhookUrl === null && violations.length === 0) {
    violations.push({ path: '/rotate_webhook_secret', message: 'needs a webhook_url' });
  }
  if (violations.length > 0) throw validationFailed(violations);

  return deps.db.transaction(async (tx) => {
    const current = await getNotificationSettings(tx, orgId);
    let sealed = webhookUrl === null ? null : (current?.webhook_secret_sealed ?? null);
    let newSecret: string | null = null;
    if (webhookUrl !== null && (sealed === null || body.rotate_webhook_secret)) {
      newSecret = generateSigningSecret();
      sealed = seal(deps.keyRing, newSecret, webhookSecretAad(orgId));
    }
    const row = await putNotificationSettings(tx, { org_id: orgId, emails, webhook_url: webhookUrl, webhook_secret_sealed: sealed });
    // Names of what changed (emails, webhook_url, webhook_signing_secret), never the addresses or URL.
    const change = notificationChanges(current, { emails, webhook_url: webhookUrl, webhook_secret_sealed: sealed });
    await recordTrail(tx, { orgId, actor, changes: change ? [change] : [], router: deps.router });
    const v = view(row, deps.emailAvailable);
    return newSecret ? { ...v, webhook_signing_secret: newSecret } : v;
  });
}
