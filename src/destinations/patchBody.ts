import { isDeepStrictEqual } from 'node:util';
import { invalid } from '../errors.js';
import { generateSigningSecret } from '../siem/standardWebhooks.js';
import { getPresetInfo } from '../siem/catalog.js';
import type { PatchDestinationBody } from '../api/schemas/destinations.js';
import { storableFilter } from '../filters/validate.js';
import { checkHeaderName, checkHeaderValue } from './headers.js';
import { checkDestinationName } from './name.js';
import type { DestinationRow } from './row.js';
import type { DestinationPatch } from './writes.js';
import { openSecrets, rotatedSigningSecret, sealAuthHeader, sealOAuthClientSecret } from './credentials.js';
import { checkAuth, oauth2Use } from './oauth2.js';
import { checkHeaderBesideAuth, checkPresetOptions, checkUrl } from './bodyChecks.js';
import type { DestinationDeps } from './deps.js';
import { refuseCredentialsInPlainFields, type OwnCredential, type PlainSettings } from './plainFields.js';
import { isSentBackAs } from '../delivery/urlSecrets.js';
import { movesToAnotherOrigin } from './origin.js';

/** A stored row's plain settings, in a body's shape, for plainFields to tell a changed value from one sent back. */
function storedPlainSettings(row: DestinationRow): PlainSettings {
  return {
    name: row.name,
    ...(row.auth_header_name !== null ? { auth_header_name: row.auth_header_name } : {}),
    options: row.options,
    auth: row.auth && {
      client_id: row.auth.client_id,
      ...(row.auth.tenant_id !== undefined ? { tenant_id: row.auth.tenant_id } : {}),
      ...(row.auth.scope !== null ? { scope: row.auth.scope } : {}),
    },
    filter: row.filter,
  };
}

/**
 * The credentials a PATCH sends: compared with every plain value the destination will have. A URL
 * sent back as stored is none (the dashboard sends it with every save): it counts as stored.
 */
function sentCredentials(row: DestinationRow, body: PatchDestinationBody): OwnCredential[] {
  return [
    ['auth_header_value', body.auth_header_value],
    ['auth.client_secret', body.auth?.client_secret],
    ['url', body.url !== row.url ? body.url : undefined],
  ];
}

/**
 * The stored credentials and URL, opened only when a PATCH changes some plain value. Each sealed
 * column on its own (openSecrets' 'null'): one whose key left the ring must not hide the others, and
 * a PATCH is how such a destination gets a new credential.
 */
function storedCredentials(deps: DestinationDeps, row: DestinationRow): OwnCredential[] {
  const secrets = openSecrets(deps.keyRing, row, new Date(), 'null');
  return [
    ['url', row.url],
    ['auth_header_value', secrets.authHeaderValue],
    ['auth.client_secret', secrets.oauthClientSecret],
    ['signing secret', secrets.signingSecret],
    ['signing secret', secrets.previousSigningSecret?.secret],
  ];
}

/** The columns a PATCH writes (checked), and the new signing secret when it makes one. */
export function buildPatch(
  deps: DestinationDeps,
  orgId: string,
  row: DestinationRow,
  sent: PatchDestinationBody,
): { patch: DestinationPatch; newSecret: string | null } {
  // The URL sent back as stored or as the API shows it (its credential masked): the stored one, no change.
  const keepsUrl = sent.url !== undefined && isSentBackAs(sent.url, row.url);
  const body = keepsUrl ? { ...sent, url: row.url } : sent;
  const id = row.id;
  const patch: DestinationPatch = {};
  // The same rule as create (plainFields.ts), before anything is checked or written: a credential sent
  // here is compared with every plain value, sent or stored; values sent back as stored are not checked
  // otherwise, and the stored credentials (the long random ones) count for new or changed values.
  refuseCredentialsInPlainFields(row.siem, body, {
    stored: storedPlainSettings(row),
    credentials: () => sentCredentials(row, body),
    storedCredentials: () => storedCredentials(deps, row),
  });
  // Said, not "unknown field": a client sending a destination back as read, or trying another SIEM,
  // learns the preset is fixed and what to do instead.
  if (body.siem !== undefined && body.siem !== row.siem) {
    throw invalid('siem', `cannot be changed: this destination sends to ${row.siem}; create a new destination for ${body.siem}`);
  }
  if (body.name !== undefined) patch.name = checkDestinationName(body.name);
  const siem = row.siem;
  if (body.url !== undefined && !keepsUrl) {
    patch.url = checkUrl(body.url, deps.allowPrivate, siem);
    // A stored credential is never sent to a new host: whoever can edit a destination must not be able
    // to redirect its secret to a server they control. Moving to another origin needs the credential
    // again (or "" to go without).
    const moved = movesToAnotherOrigin(row.url, patch.url);
    if (row.auth_header_sealed && moved && body.auth_header_value === undefined) {
      throw invalid(
        'url',
        'moving the destination to another host or port requires auth_header_value in the same request (a stored credential is never sent to a new origin); send "" to move it without one',
      );
    }
    // The same for OAuth2: the access token the stored secret buys goes wherever the URL points.
    if (row.auth_client_secret_sealed && moved && (body.auth === undefined || (body.auth !== null && body.auth.client_secret === undefined))) {
      throw invalid(
        'url',
        'moving the destination to another host or port requires auth with its client_secret in the same request (the access token is never sent to a new origin without it)',
      );
    }
  }
  if (body.auth !== undefined) {
    if (body.auth === null) {
      if (oauth2Use(siem) === 'required') throw invalid('auth', 'cannot be removed: Microsoft Sentinel authenticates with it');
      patch.auth = null;
      patch.auth_client_secret_sealed = null;
    } else {
      const checked = checkAuth(siem, body.auth, {
        allowPrivate: deps.allowPrivate,
        previous: { stored: row.auth, hasSecret: row.auth_client_secret_sealed !== null },
      });
      patch.auth = checked.stored;
      if (checked.secret !== null) patch.auth_client_secret_sealed = sealOAuthClientSecret(deps.keyRing, orgId, id, checked.secret);
    }
  }
  if (body.auth_header_name !== undefined) patch.auth_header_name = checkHeaderName(body.auth_header_name);
  {
    const headerName = patch.auth_header_name !== undefined ? patch.auth_header_name : row.auth_header_name;
    const hasValue = body.auth_header_value !== undefined ? body.auth_header_value !== '' : row.auth_header_sealed !== null;
    const hasAuth = patch.auth !== undefined ? patch.auth !== null : row.auth !== null;
    if (body.auth_header_value !== undefined || body.auth_header_name !== undefined || body.auth !== undefined) {
      checkHeaderBesideAuth(siem, headerName, hasValue, hasAuth);
    }
  }
  if (body.auth_header_value !== undefined) {
    if (body.auth_header_value === '') {
      patch.auth_header_sealed = null;
    } else {
      patch.auth_header_sealed = sealAuthHeader(deps.keyRing, orgId, id, checkHeaderValue(body.auth_header_value));
      if (!row.auth_header_name && !patch.auth_header_name) {
        const def = getPresetInfo(row.siem).defaultHeaderName;
        if (!def) throw invalid('auth_header_name', 'is required: this destination has no header name yet');
        patch.auth_header_name = def;
      }
    }
  }
  if (body.options !== undefined) {
    checkPresetOptions(row.siem, body.options, row.options);
    patch.options = body.options;
  }
  // The dashboard sends the filter back with every save: one stored before its values were checked
  // (a spelling that never matches) is kept as it is rather than refusing a rename or a rotated
  // credential; a changed filter is checked whole.
  // Unchanged, nothing is written: the stored filter stays byte for byte.
  if (body.filter !== undefined && !isDeepStrictEqual(body.filter, row.filter)) patch.filter = storableFilter(body.filter);
  if (body.enabled !== undefined) patch.enabled = body.enabled;
  if (body.format !== undefined) patch.format = body.format;
  let newSecret: string | null = null;
  if (body.signing === false) Object.assign(patch, { signing_secret_sealed: null, previous_signing_secret_sealed: null, previous_signing_secret_until: null });
  if (body.rotate_signing_secret || (body.signing === true && !row.signing_secret_sealed)) {
    if (row.siem !== 'custom') throw invalid('signing', 'Standard Webhooks signing is only for the custom preset');
    newSecret = generateSigningSecret();
    // Switching signing off and rotating in one request starts over: nothing to overlap with.
    const from = body.signing === false ? { ...row, signing_secret_sealed: null } : row;
    Object.assign(patch, rotatedSigningSecret(deps.keyRing, from, newSecret, deps.signingOverlapHours));
  }
  return { patch, newSecret };
}
