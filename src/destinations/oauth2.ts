// OAuth2 client-credentials settings of a destination (`auth` in the API): the checks the API makes,
// what is stored in the `auth` column (everything but the secret) and what readers see.
//
// Microsoft Sentinel always authenticates this way (a Microsoft Entra ID app: tenant, client id,
// client secret); a custom webhook may. The secret is sealed like every credential and never
// returned; the rules below make sure it is never sent to a host the user did not give it for.
import { invalid } from '../errors.js';
import { checkDestinationUrl } from '../delivery/outbound/url.js';
import { holdsUrlMask, isSentBackAs, shownUrl, URL_MASK_MESSAGE } from '../delivery/urlSecrets.js';
import type { SiemId } from '../siem/catalog.js';
import { ENTRA_TENANT_RE, entraTokenUrl, readEntraTokenUrl, SENTINEL_DEFAULT_SCOPE } from '../siem/microsoft-sentinel/urls.js';
import type { AuthBody, AuthView } from '../api/schemas/destinations.js';

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** The `auth` column: what may be shown again. */
export interface StoredOAuth2 {
  type: 'oauth2_client_credentials';
  token_url: string;
  client_id: string;
  /** null: no scope parameter is sent (the authorization server's default). */
  scope: string | null;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  /** Sentinel: the Entra tenant the token URL was built from, shown back in the form. */
  tenant_id?: string;
}

/** Which presets authenticate with OAuth2, and whether they must. */
export function oauth2Use(siem: SiemId): 'required' | 'optional' | 'none' {
  if (siem === 'microsoft_sentinel') return 'required';
  if (siem === 'custom') return 'optional';
  return 'none';
}

// Printable ASCII without space, for ids; RFC 6749 scope tokens (%x21 / %x23-5B / %x5D-7E) joined by spaces.
const CLIENT_ID_RE = /^[\x21-\x7e]{1,256}$/;
const SCOPE_RE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;
const SECRET_RE = /^[\x20-\x7e]{1,1024}$/;

export interface CheckedAuth {
  stored: StoredOAuth2;
  /** The secret to seal, or null to keep the stored one (PATCH without client_secret). */
  secret: string | null;
}

/**
 * Checks `auth` for a destination of `siem` and returns what to store. `previous` is the stored
 * setting on PATCH: a client_secret may be omitted to keep the stored one only while the token URL
 * stays on the same origin (a stored secret is never sent to a new host).
 */
export function checkAuth(
  siem: SiemId,
  body: AuthBody,
  opts: { allowPrivate: boolean; previous?: { stored: StoredOAuth2 | null; hasSecret: boolean } },
): CheckedAuth {
  const use = oauth2Use(siem);
  if (use === 'none') throw invalid('auth', 'OAuth2 client credentials are available for the microsoft_sentinel and custom presets only');

  const tenant = body.tenant_id?.trim();
  if (tenant !== undefined && !ENTRA_TENANT_RE.test(tenant)) {
    throw invalid('auth.tenant_id', 'must be the Directory (tenant) ID, a GUID, or a verified domain such as contoso.onmicrosoft.com');
  }
  if (tenant !== undefined && siem !== 'microsoft_sentinel') throw invalid('auth.tenant_id', 'is for the microsoft_sentinel preset; give token_url instead');
  let tokenUrlRaw = body.token_url?.trim();
  if (tokenUrlRaw === undefined || tokenUrlRaw === '') {
    if (tenant === undefined) {
      throw invalid(
        siem === 'microsoft_sentinel' ? 'auth.tenant_id' : 'auth.token_url',
        siem === 'microsoft_sentinel' ? 'is required (or token_url, for a sovereign cloud)' : "is required: the authorization server's token endpoint",
      );
    }
    tokenUrlRaw = entraTokenUrl(tenant);
  }
  // The token URL as GET shows it (shownTokenUrl: its credential masked), sent back unchanged: the
  // stored one. Any other URL holding the mask lacks its credential.
  if (holdsUrlMask(tokenUrlRaw)) {
    const stored = opts.previous?.stored?.token_url;
    if (stored === undefined || !isSentBackAs(tokenUrlRaw, stored)) throw invalid('auth.token_url', URL_MASK_MESSAGE);
    tokenUrlRaw = stored;
  }
  const checked = checkDestinationUrl(tokenUrlRaw, { allowPrivate: opts.allowPrivate });
  if (!checked.ok) throw invalid('auth.token_url', checked.message);
  const tokenUrl = checked.url.toString();
  // Sentinel's token URL at Entra ID names its tenant in the path (see readEntraTokenUrl). With
  // tenant_id too, the two must agree, or the form would show one tenant while tokens come from
  // another. A token URL that is not Entra ID's (another sovereign cloud, a proxy) names no tenant;
  // tenant_id is then kept as the label shown.
  const entra = siem === 'microsoft_sentinel' ? readEntraTokenUrl(tokenUrl) : undefined;
  if (entra && 'problem' in entra) throw invalid('auth.token_url', entra.problem);
  const tenantInUrl = entra && 'tenant' in entra ? entra.tenant : undefined;
  if (tenant !== undefined && tenantInUrl !== undefined && tenantInUrl.toLowerCase() !== tenant.toLowerCase()) {
    throw invalid('auth.tenant_id', `is ${tenant}, but token_url asks tenant ${tenantInUrl} for tokens; give the same tenant in both, or only one of them`);
  }

  const clientId = body.client_id.trim();
  if (!CLIENT_ID_RE.test(clientId)) throw invalid('auth.client_id', 'must be 1 to 256 visible ASCII characters');

  let scope: string | null;
  if (body.scope === undefined) scope = siem === 'microsoft_sentinel' ? SENTINEL_DEFAULT_SCOPE : null;
  else {
    scope = body.scope.trim();
    if (scope === '') scope = null;
    else if (scope.length > 1024 || !SCOPE_RE.test(scope)) {
      throw invalid('auth.scope', 'must be space-separated scope tokens of visible ASCII characters (no " or \\), at most 1024 characters');
    }
  }
  if (siem === 'microsoft_sentinel' && scope === null) throw invalid('auth.scope', `is required for Microsoft Sentinel (${SENTINEL_DEFAULT_SCOPE})`);

  const method: TokenEndpointAuthMethod = body.token_endpoint_auth_method ?? (siem === 'microsoft_sentinel' ? 'client_secret_post' : 'client_secret_basic');

  let secret: string | null = null;
  if (body.client_secret !== undefined) {
    // Never echoes the value: it is a credential.
    secret = body.client_secret.trim();
    if (!SECRET_RE.test(secret)) throw invalid('auth.client_secret', 'must be 1 to 1024 visible ASCII characters (no line breaks)');
  } else {
    const prev = opts.previous;
    if (!prev || !prev.hasSecret || !prev.stored) throw invalid('auth.client_secret', 'is required');
    if (new URL(prev.stored.token_url).origin !== new URL(tokenUrl).origin) {
      throw invalid('auth.client_secret', 'is required when the token URL moves to another host (a stored secret is never sent to a new host)');
    }
  }

  const stored: StoredOAuth2 = { type: 'oauth2_client_credentials', token_url: tokenUrl, client_id: clientId, scope, token_endpoint_auth_method: method };
  const tenantShown = tenant ?? tenantInUrl;
  if (tenantShown !== undefined) stored.tenant_id = tenantShown;
  return { stored, secret };
}

/**
 * The token URL as the API shows it: a credential in it masked, as a destination's url is (a token
 * proxy's `?code=` is its key: an OAuth2 review found it shown in clear, while every answer quoting
 * it was scrubbed). Entra ID's own token URL is shown whole: its path names the tenant, which the
 * Sentinel form reads back, and it holds no credential.
 */
function shownTokenUrl(tokenUrl: string): string {
  const entra = readEntraTokenUrl(tokenUrl);
  return 'tenant' in entra && new URL(tokenUrl).search === '' ? tokenUrl : shownUrl(tokenUrl);
}

/** What the API shows: the settings, and whether a secret is stored (never the secret). */
export function authView(stored: StoredOAuth2 | null, hasSecret: boolean): AuthView | null {
  if (!stored) return null;
  return {
    type: stored.type,
    token_url: shownTokenUrl(stored.token_url),
    client_id: stored.client_id,
    scope: stored.scope,
    token_endpoint_auth_method: stored.token_endpoint_auth_method,
    ...(stored.tenant_id !== undefined ? { tenant_id: stored.tenant_id } : {}),
    client_secret_configured: hasSecret,
  };
}
