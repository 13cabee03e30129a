/**
 * Which trail events one configuration request makes, from the stored state before and after it.
 * Pure: the service computes the new state, this names what changed. Only names leave this module:
 * values (URLs, filters, credentials, addresses) are compared here and never copied out.
 */
import { isDeepStrictEqual } from 'node:util';
import type { TrailAction } from './contract.js';

/** The OAuth2 client credentials setting without its secret (destinations/oauth2.ts StoredOAuth2). */
export interface OAuth2Config {
  token_url: string;
  client_id: string;
  scope: string | null;
  token_endpoint_auth_method: string;
  tenant_id?: string;
}

/** The configuration fields of a destination that a change can touch (credentials as presence only). */
export interface DestinationConfig {
  name: string | null;
  url: string;
  /** The output format, 'ecs' or 'ocsf'. */
  format: string;
  auth_header_name: string | null;
  /** The sealed credential box: a new box is a new credential, whatever its value. */
  auth_header_sealed: Uint8Array | null;
  signing_secret_sealed: Uint8Array | null;
  options: Record<string, unknown>;
  filter: Record<string, unknown> | null;
  enabled: boolean;
  /** OAuth2 client credentials (non-secret part); null: none. */
  auth: OAuth2Config | null;
  /** The sealed OAuth2 client secret: a new box is a new secret. */
  auth_client_secret_sealed: Uint8Array | null;
}

export interface NamedChange {
  action: TrailAction;
  changedFields: string[];
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.from(a).equals(Buffer.from(b));
}

/** `options.<key>` for every option added, removed or changed (keys are the schema's closed set). */
function optionChanges(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => !isDeepStrictEqual(before[k], after[k])).map((k) => `options.${k}`);
}

/** The non-secret OAuth2 fields, in the order they are named (`auth.<field>`). */
const AUTH_FIELDS = ['token_url', 'client_id', 'scope', 'tenant_id', 'token_endpoint_auth_method'] as const;

/** `auth.<field>` for each non-secret OAuth2 field set (created) or changed (absent counts as null). */
function authChanges(before: OAuth2Config | null, after: OAuth2Config | null): string[] {
  const get = (c: OAuth2Config | null, k: (typeof AUTH_FIELDS)[number]) => c?.[k] ?? null;
  return AUTH_FIELDS.filter((k) => get(before, k) !== get(after, k)).map((k) => `auth.${k}`);
}

/**
 * The trail events of a PATCH, in TRAIL_ACTIONS order: settings (destination_updated), then the
 * credential, the signing secret, and enabling or disabling last, so a SIEM reads "updated, then
 * disabled". A request that changes nothing records nothing.
 */
export function destinationChanges(before: DestinationConfig, after: DestinationConfig, opts: { signingRotated: boolean }): NamedChange[] {
  const out: NamedChange[] = [];
  const updated: string[] = [];
  if (before.name !== after.name) updated.push('name');
  if (before.url !== after.url) updated.push('url');
  if (before.format !== after.format) updated.push('format');
  if (before.auth_header_name !== after.auth_header_name) updated.push('auth_header_name');
  updated.push(...optionChanges(before.options, after.options));
  if (!isDeepStrictEqual(before.filter, after.filter)) updated.push('filter');
  const signingOn = (c: DestinationConfig) => c.signing_secret_sealed !== null;
  if (signingOn(before) !== signingOn(after)) updated.push('signing');
  // Removing auth is one credential_removed below; its settings go with the secret.
  if (after.auth !== null) updated.push(...authChanges(before.auth, after.auth));
  if (updated.length > 0) out.push({ action: 'destination_updated', changedFields: updated });

  if (!sameBytes(before.auth_header_sealed, after.auth_header_sealed)) {
    out.push(
      after.auth_header_sealed === null
        ? { action: 'credential_removed', changedFields: ['auth_header_value'] }
        : { action: 'credential_rotated', changedFields: ['auth_header_value'] },
    );
  }
  if (before.auth !== null && after.auth === null) {
    out.push({ action: 'credential_removed', changedFields: ['auth'] });
  } else if (after.auth_client_secret_sealed !== null && !sameBytes(before.auth_client_secret_sealed, after.auth_client_secret_sealed)) {
    out.push({ action: 'credential_rotated', changedFields: ['auth.client_secret'] });
  }
  // Turning signing on makes the first secret (destination_updated: signing); a rotation replaces one.
  if (opts.signingRotated && signingOn(before) && signingOn(after)) out.push({ action: 'signing_secret_rotated', changedFields: ['signing_secret'] });
  if (!before.enabled && after.enabled) out.push({ action: 'destination_enabled', changedFields: ['enabled'] });
  if (before.enabled && !after.enabled) out.push({ action: 'destination_disabled', changedFields: ['enabled'] });
  return out;
}

/** The fields a new destination was created with (names of what the request set). */
export function createdFields(config: DestinationConfig): string[] {
  const f = ['url', 'format'];
  if (config.name !== null) f.push('name');
  if (config.auth_header_name !== null) f.push('auth_header_name');
  if (config.auth_header_sealed !== null) f.push('auth_header_value');
  f.push(
    ...Object.keys(config.options)
      .sort()
      .map((k) => `options.${k}`),
  );
  if (config.filter !== null) f.push('filter');
  if (config.signing_secret_sealed !== null) f.push('signing');
  f.push(...authChanges(null, config.auth));
  if (config.auth_client_secret_sealed !== null) f.push('auth.client_secret');
  f.push('enabled');
  return f;
}

export interface NotificationConfig {
  emails: string[];
  webhook_url: string | null;
  webhook_secret_sealed: Uint8Array | null;
}

/** notification_settings_changed's fields, or null when the PUT changed nothing. */
export function notificationChanges(before: NotificationConfig | null, after: NotificationConfig): NamedChange | null {
  const b = before ?? { emails: [], webhook_url: null, webhook_secret_sealed: null };
  const fields: string[] = [];
  if (!isDeepStrictEqual(b.emails, after.emails)) fields.push('emails');
  if (b.webhook_url !== after.webhook_url) fields.push('webhook_url');
  if (!sameBytes(b.webhook_secret_sealed, after.webhook_secret_sealed)) fields.push('webhook_signing_secret');
  return fields.length > 0 ? { action: 'notification_settings_changed', changedFields: fields } : null;
}
