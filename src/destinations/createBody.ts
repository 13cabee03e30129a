import { invalid } from '../errors.js';
import { newId } from '../ids.js';
import { generateSigningSecret } from '../siem/standardWebhooks.js';
import { getPresetInfo, type SiemId } from '../siem/catalog.js';
import { DEFAULT_OUTPUT_FORMAT } from '../siem/outputFormat.js';
import type { CreateDestinationBody } from '../api/schemas/destinations.js';
import { storableFilter } from '../filters/validate.js';
import { checkHeaderName, checkHeaderValue } from './headers.js';
import { checkDestinationName } from './name.js';
import type { DestinationRow } from './row.js';
import { sealAuthHeader, sealOAuthClientSecret, sealSigningSecret } from './credentials.js';
import { checkAuth, oauth2Use } from './oauth2.js';
import { checkHeaderBesideAuth, checkPresetOptions, checkUrl } from './bodyChecks.js';
import type { DestinationDeps } from './deps.js';
import { refuseCredentialsInPlainFields } from './plainFields.js';

/** The row a create inserts, every column given. */
export type NewDestinationRow = Pick<
  DestinationRow,
  | 'org_id'
  | 'id'
  | 'siem'
  | 'format'
  | 'name'
  | 'url'
  | 'auth_header_name'
  | 'auth_header_sealed'
  | 'signing_secret_sealed'
  | 'options'
  | 'filter'
  | 'enabled'
  | 'auth'
  | 'auth_client_secret_sealed'
>;

/** The row a create body makes (checked, credentials sealed), and the signing secret when it makes one. */
export function buildCreateRow(deps: DestinationDeps, orgId: string, body: CreateDestinationBody): { row: NewDestinationRow; signingSecret: string | null } {
  const siem: SiemId = body.siem ?? 'custom';
  // First: a credential pasted into a plain field is named as such, not as a malformed header name.
  refuseCredentialsInPlainFields(siem, body, {
    credentials: () => [
      ['auth_header_value', body.auth_header_value],
      ['auth.client_secret', body.auth?.client_secret],
      ['url', body.url],
    ],
  });
  const url = checkUrl(body.url, deps.allowPrivate, siem);
  const displayName = checkDestinationName(body.name ?? null);
  const preset = getPresetInfo(siem);
  const value = body.auth_header_value ? checkHeaderValue(body.auth_header_value) : null;
  // A preset knows its header (Splunk: Authorization, Datadog: DD-API-KEY, ...), so the name may be omitted.
  const nameRaw = body.auth_header_name ?? (value ? preset.defaultHeaderName : null);
  if (value && !nameRaw) throw invalid('auth_header_name', 'is required when auth_header_value is given');
  const name = nameRaw ? checkHeaderName(nameRaw) : null;
  if (body.signing && siem !== 'custom') throw invalid('signing', 'Standard Webhooks signing is only for the custom preset');
  checkPresetOptions(siem, body.options);
  if (!body.auth && oauth2Use(siem) === 'required') {
    throw invalid('auth', 'is required for Microsoft Sentinel: {"type": "oauth2_client_credentials", "tenant_id", "client_id", "client_secret"}');
  }
  const auth = body.auth ? checkAuth(siem, body.auth, { allowPrivate: deps.allowPrivate }) : null;
  checkHeaderBesideAuth(siem, name, value !== null, auth !== null);
  const filter = storableFilter(body.filter ?? null);

  const id = newId('fwd');
  const signingSecret = body.signing ? generateSigningSecret() : null;
  const row: NewDestinationRow = {
    org_id: orgId,
    id,
    siem,
    format: body.format ?? DEFAULT_OUTPUT_FORMAT,
    name: displayName,
    url,
    auth_header_name: name,
    auth_header_sealed: value ? sealAuthHeader(deps.keyRing, orgId, id, value) : null,
    signing_secret_sealed: signingSecret ? sealSigningSecret(deps.keyRing, orgId, id, signingSecret) : null,
    options: body.options ?? {},
    filter,
    enabled: body.enabled ?? true,
    auth: auth?.stored ?? null,
    auth_client_secret_sealed: auth?.secret ? sealOAuthClientSecret(deps.keyRing, orgId, id, auth.secret) : null,
  };
  return { row, signingSecret };
}
