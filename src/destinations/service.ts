import type { Queryable } from '../db/types.js';
import { AppError, notFound } from '../errors.js';
import type { CreateDestinationBody, DestinationView, PatchDestinationBody } from '../api/schemas/destinations.js';
import { getDestination, destinationExists, listDestinationsPage, type DestinationPageKey } from './reads.js';
import { destinationOfIdempotencyKey, insertDestination, lockDestinationRow, lockOrgDestinationCounts, updateDestination } from './writes.js';
import { createRequestDigest, idempotencyKeyDigest } from './idempotency.js';
import { openSecrets } from './credentials.js';
import { clearDeletedDestinationJobs, DELETE_BATCH, purgeDeletedDestination, tombstoneDestination } from './deletion.js';
import { logClearStopped, type Stopped } from './backlogLane.js';
import { cancelDestinationReplays } from '../replays/repository.js';
import { toView } from './view.js';
import type { DestinationDeps } from './deps.js';
import { checkCounts } from './orgLimits.js';
import { buildCreateRow } from './createBody.js';
import { buildPatch } from './patchBody.js';
import type { TrailActor } from '../trail/contract.js';
import { createdFields, destinationChanges, type DestinationConfig } from '../trail/changes.js';
import { recordTrail } from '../trail/record.js';

// The destination operations the API calls: create and PATCH check their body (createBody.ts,
// patchBody.ts), and every change commits with its trail events in one transaction.

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

/**
 * Creates a destination; with `idempotencyKey` (the Idempotency-Key header), a retry of a create whose
 * answer was lost answers the destination its first try made (`replayed`, with its signing secret
 * again: the client never saw it) instead of making a second one that would deliver every event twice
 * (an API client's review); the same key with other settings is refused 409.
 */
export async function createDestination(
  deps: DestinationDeps,
  orgId: string,
  body: CreateDestinationBody,
  actor: TrailActor,
  idempotencyKey?: string,
): Promise<DestinationView & { replayed?: true }> {
  const { row, signingSecret } = buildCreateRow(deps, orgId, body);
  const { id, siem, enabled } = row;
  const idempotency = idempotencyKey === undefined ? null : { keyDigest: idempotencyKeyDigest(idempotencyKey), requestDigest: createRequestDigest(body) };
  const earlier = await deps.db.transaction(async (tx) => {
    // The organization's lock first, so that a retry racing its first try finds the first one's row;
    // the caps after the key, so that a retry answers the destination made even at the cap.
    const counts = await lockOrgDestinationCounts(tx, orgId);
    if (idempotency) {
      const found = await destinationOfIdempotencyKey(tx, orgId, idempotency.keyDigest);
      if (found) {
        if (!found.requestDigest.equals(idempotency.requestDigest))
          throw new AppError(
            'conflict',
            'Idempotency-Key: this key created another destination, with other settings; nothing was created. Use a new key for a new destination.',
          );
        return found.id;
      }
    }
    checkCounts(counts, deps.limits, { destination: true, enabled });
    await insertDestination(tx, row, idempotency);
    // After the insert: an enabled new destination takes its own destination_created event.
    await recordTrail(tx, {
      orgId,
      actor,
      changes: [{ action: 'destination_created', changedFields: createdFields(configOf(row)), destination: { id, siem } }],
      router: deps.router,
    });
    return null;
  });
  if (earlier !== null) {
    const made = await mustGet(deps, orgId, earlier);
    const secret = openSecrets(deps.keyRing, made, new Date(), 'null').signingSecret;
    const view = toView(made, new Date(), deps.maxHoldHours);
    return { ...(secret ? { ...view, signing_secret: secret } : view), replayed: true };
  }
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

/**
 * How long a delete clears its backlog itself before it answers and leaves the rest to the process's
 * lane (backlogLane.ts): a few seconds clear tens of thousands of jobs, so a usual delete answers with
 * its backlog gone, and one with millions still answers within this (and a batch).
 */
export const DELETE_ANSWER_WITHIN_MS = 5_000;

/**
 * Deletes a destination. An enabled one first gets its farewell (the destination_deleted event):
 * its row stays, disabled and invisible to every reader, until the farewell is delivered or
 * dead-lettered, and the worker then removes it with its jobs and delivery log. Its other pending
 * jobs are dropped now (cleared_events: none of them can be claimed once the transaction commits),
 * and its running range replays are cancelled.
 *
 * The change and its trail event commit in one short transaction; the backlog then goes a batch at
 * a time (deletion.ts says why not in that transaction), by the request itself for at most
 * DELETE_ANSWER_WITHIN_MS when the process has a lane for the rest. The request clears, not the lane,
 * so that another organization's backlog of millions in the lane never holds this answer back. Once that transaction has committed the destination is
 * deleted, whatever happens to the batches: a batch that fails (the database gone a moment, a
 * statement limit) or a process that stops before them leaves the rest to the worker (the
 * farewell's runner, or the hourly sweep, removes the row with all its jobs), and the answer still
 * says deleted: an error would have the client retry into a 404.
 */
export async function removeDestination(
  deps: DestinationDeps,
  orgId: string,
  id: string,
  actor: TrailActor,
): Promise<{ deleted: true; cleared_events: number }> {
  const cleared = await deps.db.transaction(async (tx) => {
    const row = await lockDestinationRow(tx, orgId, id);
    if (!row) throw notFound('destination');
    const pending = await tombstoneDestination(tx, orgId, id);
    // Its range replays end with it: none queues for a deleted destination or keeps its org's slot.
    await cancelDestinationReplays(tx, orgId, id);
    await recordTrail(tx, {
      orgId,
      actor,
      changes: [{ action: 'destination_deleted', changedFields: [], destination: { id, siem: row.siem } }],
      // A disabled destination already stopped: it gets no farewell of its own.
      farewellTo: row.enabled ? id : null,
      router: deps.router,
    });
    return pending;
  });
  /** Clears the backlog and removes the row if it may go; false when stopped part-way. */
  const clear = async (stopped: Stopped): Promise<boolean> => {
    await clearDeletedDestinationJobs(deps.db, orgId, id, DELETE_BATCH, stopped);
    // Gone at once unless a farewell (this one, or a disable's still on its way) keeps it.
    await purgeDeletedDestination(deps.db, orgId, id, DELETE_BATCH, stopped);
    return !stopped();
  };
  if (deps.backlog) await deps.backlog.clear(id, clear, deps.deleteAnswerWithinMs ?? DELETE_ANSWER_WITHIN_MS);
  else await clear(() => false).catch((err: unknown) => logClearStopped(deps.logger, id, err));
  return { deleted: true as const, cleared_events: cleared };
}
