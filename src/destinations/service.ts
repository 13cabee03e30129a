import type { Db, Queryable } from '../db/types.js';
import type { OrgLimits } from '../config/env.js';
import type { KeyRing } from '../crypto/keyring.js';
import { AppError, invalid, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { checkDestinationUrl } from '../delivery/outbound/url.js';
import { generateSigningSecret } from '../siem/standardWebhooks.js';
import { getPresetInfo, type SiemId } from '../siem/catalog.js';
import type { CreateDestinationBody, DestinationView, PatchDestinationBody } from '../api/schemas/destinations.js';
import { checkHeaderName, checkHeaderValue } from './headers.js';
import { checkDestinationName } from './name.js';
import * as repo from './repository.js';
import { rotatedSigningSecret, sealAuthHeader, sealSigningSecret } from './credentials.js';
import { toView } from './view.js';
import { storableFilter } from '../filters/validate.js';

export interface DestinationDeps {
  db: Db;
  keyRing: KeyRing;
  allowPrivate: boolean;
  /** Per-organization caps (AEGIS_MAX_DESTINATIONS_PER_ORG, AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG). */
  limits: OrgLimits;
  /** AEGIS_SIGNING_OVERLAP_HOURS: how long a rotated signing secret still signs deliveries. */
  signingOverlapHours: number;
}

/**
 * Refuses a create (adding one destination, enabled or not) or an enable that would pass a cap. Runs in
 * the writing transaction after locking the organization's row, so concurrent requests cannot each
 * see room for one more and together pass the cap.
 */
async function checkOrgLimits(tx: Queryable, limits: OrgLimits, orgId: string, adding: { destination: boolean; enabled: boolean }): Promise<void> {
  const counts = await repo.lockOrgDestinationCounts(tx, orgId);
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

function checkUrl(raw: string, allowPrivate: boolean): string {
  const res = checkDestinationUrl(raw, { allowPrivate });
  if (!res.ok) throw invalid('url', res.message);
  return res.url.toString();
}

async function mustGet(deps: DestinationDeps, orgId: string, id: string) {
  const row = await repo.getDestination(deps.db, orgId, id);
  if (!row) throw notFound('destination');
  return row;
}

export async function createDestination(deps: DestinationDeps, orgId: string, body: CreateDestinationBody): Promise<DestinationView> {
  const siem: SiemId = (body.siem ?? 'custom');
  const url = checkUrl(body.url, deps.allowPrivate);
  const displayName = checkDestinationName(body.name ?? null);
  const preset = getPresetInfo(siem);
  const value = body.auth_header_value ? checkHeaderValue(body.auth_header_value) : null;
  // A preset knows its header (Splunk: Authorization, Datadog: DD-API-KEY, ...), so the name may be omitted.
  const nameRaw = body.auth_header_name ?? (value ? preset.defaultHeaderName : null);
  if (value && !nameRaw) throw invalid('auth_header_name', 'is required when auth_header_value is given');
  const name = nameRaw ? checkHeaderName(nameRaw) : null;
  if (body.signing && siem !== 'custom') throw invalid('signing', 'Standard Webhooks signing is only for the custom preset');
  const filter = storableFilter(body.filter ?? null);

  const id = newId('fwd');
  const signingSecret = body.signing ? generateSigningSecret() : null;
  const enabled = body.enabled ?? true;
  await deps.db.transaction(async (tx) => {
    await checkOrgLimits(tx, deps.limits, orgId, { destination: true, enabled });
    await repo.insertDestination(tx, {
    org_id: orgId,
    id,
    siem,
    name: displayName,
    url,
    auth_header_name: name,
    auth_header_sealed: value ? sealAuthHeader(deps.keyRing, orgId, id, value) : null,
    signing_secret_sealed: signingSecret ? sealSigningSecret(deps.keyRing, orgId, id, signingSecret) : null,
    options: body.options ?? {},
    filter,
    enabled,
  });
  });
  const view = toView(await mustGet(deps, orgId, id));
  return signingSecret ? { ...view, signing_secret: signingSecret } : view;
}

export async function getDestinationView(deps: DestinationDeps, orgId: string, id: string): Promise<DestinationView> {
  return toView(await mustGet(deps, orgId, id));
}

/** One page of the organization's destinations in creation order, and where the next page starts (null: last page). */
export async function listDestinationViews(
  deps: DestinationDeps,
  orgId: string,
  page: { limit: number; after: repo.DestinationPageKey | null },
): Promise<{ views: DestinationView[]; next: repo.DestinationPageKey | null }> {
  const now = new Date();
  const { rows, next } = await repo.listDestinationsPage(deps.db, orgId, page);
  return { views: rows.map((r) => toView(r, now)), next };
}

export async function patchDestination(deps: DestinationDeps, orgId: string, id: string, body: PatchDestinationBody): Promise<DestinationView> {
  const row = await mustGet(deps, orgId, id);
  const patch: repo.DestinationPatch = {};
  if (body.name !== undefined) patch.name = checkDestinationName(body.name);
  if (body.url !== undefined) {
    patch.url = checkUrl(body.url, deps.allowPrivate);
    // A stored credential is never sent to a new host: whoever can edit a destination must not be able
    // to redirect its secret to a server they control. Moving to another origin needs the credential
    // again (or "" to go without).
    if (row.auth_header_sealed && new URL(patch.url).origin !== new URL(row.url).origin && body.auth_header_value === undefined) {
      throw invalid(
        'url',
        'moving the destination to another host requires auth_header_value in the same request (a stored credential is never sent to a new host); send "" to move it without one',
      );
    }
  }
  if (body.auth_header_name !== undefined) patch.auth_header_name = checkHeaderName(body.auth_header_name);
  if (body.auth_header_value !== undefined) {
    if (body.auth_header_value === '') {
      patch.auth_header_sealed = null;
    } else {
      patch.auth_header_sealed = sealAuthHeader(deps.keyRing, orgId, id, checkHeaderValue(body.auth_header_value));
      if (!row.auth_header_name && !patch.auth_header_name) {
        const def = getPresetInfo(row.siem as SiemId).defaultHeaderName;
        if (!def) throw invalid('auth_header_name', 'is required: this destination has no header name yet');
        patch.auth_header_name = def;
      }
    }
  }
  if (body.options !== undefined) patch.options = body.options;
  if (body.filter !== undefined) patch.filter = storableFilter(body.filter);
  if (body.enabled !== undefined) patch.enabled = body.enabled;
  let newSecret: string | null = null;
  if (body.signing === false) Object.assign(patch, { signing_secret_sealed: null, previous_signing_secret_sealed: null, previous_signing_secret_until: null });
  if (body.rotate_signing_secret || (body.signing === true && !row.signing_secret_sealed)) {
    if (row.siem !== 'custom') throw invalid('signing', 'Standard Webhooks signing is only for the custom preset');
    newSecret = generateSigningSecret();
    // Switching signing off and rotating in one request starts over: nothing to overlap with.
    const from = body.signing === false ? { ...row, signing_secret_sealed: null } : row;
    Object.assign(patch, rotatedSigningSecret(deps.keyRing, from, newSecret, deps.signingOverlapHours));
  }
  if (patch.enabled === true && !row.enabled) {
    await deps.db.transaction(async (tx) => {
      await checkOrgLimits(tx, deps.limits, orgId, { destination: false, enabled: true });
      await repo.updateDestination(tx, orgId, id, patch);
    });
  } else {
    await repo.updateDestination(deps.db, orgId, id, patch);
  }
  const view = toView(await mustGet(deps, orgId, id));
  return newSecret ? { ...view, signing_secret: newSecret } : view;
}

export async function removeDestination(deps: DestinationDeps, orgId: string, id: string): Promise<{ deleted: true; cleared_events: number }> {
  const res = await repo.deleteDestination(deps.db, orgId, id);
  if (!res.deleted) throw notFound('destination');
  return { deleted: true, cleared_events: res.clearedEvents };
}

/** Per-destination limit for the synchronous test probe: a small token bucket in this process. */
export class ProbeRateLimiter {
  private readonly hits = new Map<string, number[]>();
  constructor(
    private readonly limit = 5,
    private readonly windowMs = 60_000,
  ) {}
  take(destinationId: string, now = Date.now()): void {
    const recent = (this.hits.get(destinationId) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.limit) {
      const retryAfterS = Math.ceil((recent[0]! + this.windowMs - now) / 1000);
      this.hits.set(destinationId, recent);
      throw new AppError('rate_limited', `At most ${this.limit} test probes per minute per destination; try again in ${retryAfterS} s.`, {
        retryAfterS,
      });
    }
    recent.push(now);
    this.hits.set(destinationId, recent);
    if (this.hits.size > 10_000) this.hits.delete(this.hits.keys().next().value!);
  }
}
