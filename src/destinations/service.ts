import type { Db, Queryable } from '../db/types.js';
import type { OrgLimits } from '../config/env.js';
import type { KeyRing } from '../crypto/keyring.js';
import { AppError, invalid, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { checkDestinationUrl } from '../delivery/outbound/url.js';
import { generateSigningSecret } from '../siem/standardWebhooks.js';
import { getPresetInfo, type SiemId } from '../siem/catalog.js';
import { normalizeSentinelUrl } from '../siem/microsoft-sentinel/urls.js';
import { DEFAULT_OUTPUT_FORMAT } from '../siem/outputFormat.js';
import type { CreateDestinationBody, DestinationView, PatchDestinationBody } from '../api/schemas/destinations.js';
import { checkHeaderName, checkHeaderValue } from './headers.js';
import { isSendableHeaderValue } from '../siem/types.js';
import { checkDestinationName } from './name.js';
import type { DestinationRow } from './row.js';
import { destinationExists, getDestination, listDestinationsPage, type DestinationPageKey } from './reads.js';
import { insertDestination, lockDestinationRow, lockOrgDestinationCounts, updateDestination, type DestinationPatch } from './writes.js';
import { purgeDeletedDestination, tombstoneDestination } from './deletion.js';
import { rotatedSigningSecret, sealAuthHeader, sealOAuthClientSecret, sealSigningSecret } from './credentials.js';
import { checkAuth, oauth2Use } from './oauth2.js';
import { toView } from './view.js';
import { storableFilter } from '../filters/validate.js';
import type { TrailActor } from '../trail/contract.js';
import { createdFields, destinationChanges, type DestinationConfig } from '../trail/changes.js';
import { recordTrail } from '../trail/record.js';
import type { FilterRouter } from '../filters/router.js';

export interface DestinationDeps {
  db: Db;
  keyRing: KeyRing;
  allowPrivate: boolean;
  /** Per-organization caps (AEGIS_MAX_DESTINATIONS_PER_ORG, AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG). */
  limits: OrgLimits;
  /** AEGIS_SIGNING_OVERLAP_HOURS: how long a rotated signing secret still signs deliveries. */
  signingOverlapHours: number;
  /** AEGIS_MAX_HOLD_HOURS: the views' hold_limit_at. */
  maxHoldHours?: number;
  /** The service's compiled filters, for the trail events recorded under the change's locks. */
  router?: FilterRouter;
}

/**
 * Refuses a create (adding one destination, enabled or not) or an enable that would pass a cap. Runs in
 * the writing transaction after locking the organization's row, so concurrent requests cannot each
 * see room for one more and together pass the cap.
 */
async function checkOrgLimits(tx: Queryable, limits: OrgLimits, orgId: string, adding: { destination: boolean; enabled: boolean }): Promise<void> {
  checkCounts(await lockOrgDestinationCounts(tx, orgId), limits, adding);
}

function checkCounts(counts: { total: number; enabled: number }, limits: OrgLimits, adding: { destination: boolean; enabled: boolean }): void {
  if (adding.destination && counts.total >= limits.destinations) {
    throw new AppError(
      'limit_reached',
      `This organization has ${counts.total} destinations, the most it may have (AEGIS_MAX_DESTINATIONS_PER_ORG = ${limits.destinations}). Delete one first, or ask the operator to raise the cap.`,
    );
  }
  if (adding.enabled && counts.enabled >= limits.enabledDestinations) {
    throw new AppError(
      'limit_reached',
      `This organization has ${counts.enabled} enabled destinations, the most it may have at once (AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG = ${limits.enabledDestinations}). Disable one first, create this one with "enabled": false, or ask the operator to raise the cap.`,
    );
  }
}

function checkUrl(raw: string, allowPrivate: boolean, siem: SiemId): string {
  const res = checkDestinationUrl(raw, { allowPrivate });
  if (!res.ok) throw invalid('url', res.message);
  if (siem === 'microsoft_sentinel') {
    const sentinel = normalizeSentinelUrl(res.url.toString());
    if (!sentinel.ok) throw invalid('url', sentinel.message);
    return sentinel.url;
  }
  return res.url.toString();
}

/**
 * With OAuth2, the Authorization header carries the access token: a configured header of that name
 * would fight it, and Microsoft Sentinel takes no other credential.
 */
function checkHeaderBesideAuth(siem: SiemId, headerName: string | null, hasValue: boolean, hasAuth: boolean): void {
  if (siem === 'microsoft_sentinel' && hasValue) {
    throw invalid('auth_header_value', "Microsoft Sentinel authenticates with auth (an Entra ID app's client credentials), not a header value");
  }
  if (hasAuth && hasValue && headerName?.toLowerCase() === 'authorization') {
    throw invalid('auth_header_name', 'cannot be Authorization with auth set: the OAuth2 access token is sent in the Authorization header');
  }
}

async function mustGet(deps: DestinationDeps, orgId: string, id: string) {
  const row = await getDestination(deps.db, orgId, id);
  if (!row) throw notFound('destination');
  return row;
}

/**
 * 404 unless the organization has this destination. For routes that only need to know that it
 * exists: the view counts the destination's queue, which costs a walk of its pending jobs.
 */
export async function assertDestinationExists(db: Queryable, orgId: string, id: string): Promise<void> {
  if (!(await destinationExists(db, orgId, id))) throw notFound('destination');
}

/** A row's configuration as the trail compares it (trail/changes.ts). */
function configOf(r: Omit<DestinationConfig, 'options'> & { options: Record<string, unknown> }): DestinationConfig {
  return {
    name: r.name,
    url: r.url,
    format: r.format,
    auth_header_name: r.auth_header_name,
    auth_header_sealed: r.auth_header_sealed,
    signing_secret_sealed: r.signing_secret_sealed,
    options: r.options,
    filter: r.filter,
    enabled: r.enabled,
    auth: r.auth,
    auth_client_secret_sealed: r.auth_client_secret_sealed,
  };
}

/** The options Sumo Logic sends as X-Sumo-* header values (sumo-logic/encoder.ts). */
const SUMO_HEADER_OPTIONS = ['category', 'sourceName', 'sourceHost', 'fields'] as const;

/** Options the schema accepts for every preset but only one preset understands. */
function checkPresetOptions(siem: SiemId, options: CreateDestinationBody['options']): void {
  // Silently ignoring it elsewhere would let a user believe their events are acknowledged.
  if (options?.indexer_ack !== undefined && siem !== 'splunk_hec')
    throw invalid('options.indexer_ack', 'is only for the splunk_hec preset (Splunk HEC indexer acknowledgement)');
  // Sumo Logic sends these as X-Sumo-* header values; a value HTTP cannot carry would fail every
  // delivery (or be dropped by the encoder), so refuse it here, where the user can fix it.
  for (const key of SUMO_HEADER_OPTIONS) {
    const value = options?.[key];
    if (value !== undefined && !isSendableHeaderValue(value))
      throw invalid(`options.${key}`, 'contains a line break, control or non-ASCII character, which an HTTP header value cannot carry');
  }
}

export async function createDestination(deps: DestinationDeps, orgId: string, body: CreateDestinationBody, actor: TrailActor): Promise<DestinationView> {
  const siem: SiemId = body.siem ?? 'custom';
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
  const enabled = body.enabled ?? true;
  const row = {
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
    enabled,
    auth: auth?.stored ?? null,
    auth_client_secret_sealed: auth?.secret ? sealOAuthClientSecret(deps.keyRing, orgId, id, auth.secret) : null,
  };
  await deps.db.transaction(async (tx) => {
    await checkOrgLimits(tx, deps.limits, orgId, { destination: true, enabled });
    await insertDestination(tx, row);
    // After the insert: an enabled new destination takes its own destination_created event.
    await recordTrail(tx, {
      orgId,
      actor,
      changes: [{ action: 'destination_created', changedFields: createdFields(configOf(row)), destination: { id, siem } }],
      router: deps.router,
    });
  });
  const view = toView(await mustGet(deps, orgId, id), new Date(), deps.maxHoldHours);
  return signingSecret ? { ...view, signing_secret: signingSecret } : view;
}

export async function getDestinationView(deps: DestinationDeps, orgId: string, id: string): Promise<DestinationView> {
  return toView(await mustGet(deps, orgId, id), new Date(), deps.maxHoldHours);
}

/** One page of the organization's destinations in creation order, and where the next page starts (null: last page). */
export async function listDestinationViews(
  deps: DestinationDeps,
  orgId: string,
  page: { limit: number; after: DestinationPageKey | null },
): Promise<{ views: DestinationView[]; next: DestinationPageKey | null }> {
  const now = new Date();
  const { rows, next } = await listDestinationsPage(deps.db, orgId, page);
  return { views: rows.map((r) => toView(r, now, deps.maxHoldHours)), next };
}

export async function patchDestination(
  deps: DestinationDeps,
  orgId: string,
  id: string,
  body: PatchDestinationBody,
  actor: TrailActor,
): Promise<DestinationView> {
  let newSecret: string | null = null;
  // One transaction: the change and its trail events commit together, computed from the row as
  // locked here (so two concurrent PATCHes each record what they really changed).
  await deps.db.transaction(async (tx) => {
    // Enabling checks the cap under the organization's lock, taken before the row's (the order create uses).
    const counts = body.enabled === true ? await lockOrgDestinationCounts(tx, orgId) : null;
    const row = await lockDestinationRow(tx, orgId, id);
    if (!row) throw notFound('destination');
    const patch = buildPatch(deps, orgId, row, body);
    newSecret = patch.newSecret;
    if (counts && !row.enabled) checkCounts(counts, deps.limits, { destination: false, enabled: true });
    await updateDestination(tx, orgId, id, patch.patch);
    const changes = destinationChanges(configOf(row), configOf({ ...row, ...patch.patch }), { signingRotated: patch.newSecret !== null });
    const disabling = row.enabled && patch.patch.enabled === false;
    await recordTrail(tx, {
      orgId,
      actor,
      changes: changes.map((c) => ({ ...c, destination: { id, siem: row.siem } })),
      farewellTo: disabling ? id : null,
      router: deps.router,
    });
  });
  const view = toView(await mustGet(deps, orgId, id), new Date(), deps.maxHoldHours);
  return newSecret ? { ...view, signing_secret: newSecret } : view;
}

/** The columns a PATCH writes (checked), and the new signing secret when it makes one. */
function buildPatch(
  deps: DestinationDeps,
  orgId: string,
  row: DestinationRow,
  body: PatchDestinationBody,
): { patch: DestinationPatch; newSecret: string | null } {
  const id = row.id;
  const patch: DestinationPatch = {};
  if (body.name !== undefined) patch.name = checkDestinationName(body.name);
  const siem = row.siem;
  if (body.url !== undefined) {
    patch.url = checkUrl(body.url, deps.allowPrivate, siem);
    // A stored credential is never sent to a new host: whoever can edit a destination must not be able
    // to redirect its secret to a server they control. Moving to another origin needs the credential
    // again (or "" to go without).
    const moved = new URL(patch.url).origin !== new URL(row.url).origin;
    if (row.auth_header_sealed && moved && body.auth_header_value === undefined) {
      throw invalid(
        'url',
        'moving the destination to another host requires auth_header_value in the same request (a stored credential is never sent to a new host); send "" to move it without one',
      );
    }
    // The same for OAuth2: the access token the stored secret buys goes wherever the URL points.
    if (row.auth_client_secret_sealed && moved && (body.auth === undefined || (body.auth !== null && body.auth.client_secret === undefined))) {
      throw invalid(
        'url',
        'moving the destination to another host requires auth with its client_secret in the same request (the access token is never sent to a new host without it)',
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
    checkPresetOptions(row.siem, body.options);
    patch.options = body.options;
  }
  if (body.filter !== undefined) patch.filter = storableFilter(body.filter);
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

/**
 * Deletes a destination. An enabled one first gets its farewell (the destination_deleted event):
 * its row stays, disabled and invisible to every reader, until the farewell is delivered or
 * dead-lettered, and the worker then removes it with its jobs and delivery log. Its other pending
 * jobs are cleared now (cleared_events), as before.
 */
export async function removeDestination(
  deps: DestinationDeps,
  orgId: string,
  id: string,
  actor: TrailActor,
): Promise<{ deleted: true; cleared_events: number }> {
  return deps.db.transaction(async (tx) => {
    const row = await lockDestinationRow(tx, orgId, id);
    if (!row) throw notFound('destination');
    const cleared = await tombstoneDestination(tx, orgId, id);
    await recordTrail(tx, {
      orgId,
      actor,
      changes: [{ action: 'destination_deleted', changedFields: [], destination: { id, siem: row.siem } }],
      // A disabled destination already stopped: it gets no farewell of its own.
      farewellTo: row.enabled ? id : null,
      router: deps.router,
    });
    // Gone at once unless a farewell (this one, or a disable's still on its way) keeps it.
    await purgeDeletedDestination(tx, orgId, id);
    return { deleted: true as const, cleared_events: cleared };
  });
}

/**
 * Limit for the synchronous test probe: a small sliding window per key in this process. The API
 * keeps one per destination and one per organization: each test is also a test_sent trail event
 * forwarded to every enabled destination of the organization, so without the second an organization
 * with N destinations could queue 5 x N x N jobs a minute.
 */
export class ProbeRateLimiter {
  private readonly hits = new Map<string, number[]>();
  constructor(
    private readonly limit = 5,
    private readonly windowMs = 60_000,
    private readonly per: 'destination' | 'organization' = 'destination',
  ) {}
  take(key: string, now = Date.now()): void {
    const recent = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.limit) {
      const retryAfterS = Math.ceil((recent[0]! + this.windowMs - now) / 1000);
      this.hits.set(key, recent);
      throw new AppError('rate_limited', `At most ${this.limit} test probes per minute per ${this.per}; try again in ${retryAfterS} s.`, {
        retryAfterS,
      });
    }
    recent.push(now);
    this.hits.set(key, recent);
    if (this.hits.size > 10_000) this.hits.delete(this.hits.keys().next().value!);
  }
}
