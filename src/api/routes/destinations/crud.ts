// Creating, listing, reading, editing and deleting destinations, with the filter preview the
// create and edit forms use and the charts of a page of the list.
import type { AppContext } from '../../context.js';
import type { TypedApp } from '../../typed.js';
import { DestinationParams, errors, IdempotencyKeyHeaders, OrgParams, readErrors, SECURITY, writeErrors } from '../../schemas/common.js';
import { DEFAULT_DESTINATIONS_PAGE, Deleted, DestinationList, DestinationRef, DestinationsPageQuery, StatsPage } from '../../schemas/destinationReads.js';
import { CreateDestinationBody, FilterPreview, FilterPreviewBody, PatchDestinationBody } from '../../schemas/destinations.js';
import { previewFilter, PREVIEW_EVENTS } from '../../../filters/preview.js';
import * as svc from '../../../destinations/service.js';
import { refuseCredentialsInPlainFields } from '../../../destinations/plainFields.js';
import type { DestinationDeps } from '../../../destinations/deps.js';
import { runningReplayIds } from '../../../replays/repository.js';
import { destinationsStats } from '../../../queue/stats.js';
import { listDestinationIdsPage } from '../../../destinations/reads.js';
import { actorOf } from '../../actor.js';
import { encodeDestinationsCursor, pageOf } from './cursors.js';
import { base, tags } from './shared.js';

const LIMIT_REACHED = 'limit_reached: a per-organization cap (AEGIS_MAX_DESTINATIONS_PER_ORG, AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG).';

export function destinationCrudRoutes(app: TypedApp, ctx: AppContext, deps: DestinationDeps): void {
  app.post(base, {
    schema: {
      tags,
      operationId: 'createDestination',
      summary: 'Create a destination',
      description:
        'With an Idempotency-Key header, a retry (its answer lost to a timeout) answers the destination the first try created, ' +
        'its signing secret included, with `Idempotent-Replayed: true`, instead of creating a second one that would receive every event twice; ' +
        'the same key with other settings is refused 409.',
      security: SECURITY.apiWrite,
      params: OrgParams,
      headers: IdempotencyKeyHeaders,
      body: CreateDestinationBody,
      response: {
        201: DestinationRef,
        ...writeErrors(),
        ...errors([409], { 409: `${LIMIT_REACHED} conflict: the Idempotency-Key created another destination, with other settings.` }),
      },
    },
    handler: async (req, reply) => {
      const { org_id } = req.params;
      const { replayed, ...view } = await svc.createDestination(deps, org_id, req.body, actorOf(req), req.headers['idempotency-key']);
      if (replayed) {
        req.log.info({ destination_id: view.destination_id }, 'destination create retried under its Idempotency-Key; answered the one made');
        return reply.status(201).header('Idempotent-Replayed', 'true').send(view);
      }
      req.log.info({ destination_id: view.destination_id, siem: view.siem, enabled: view.enabled }, 'destination created');
      ctx.wakeWorkers();
      return reply.status(201).send(view);
    },
  });

  // Before the routes with :destination_id, so the path reads as what it is; Fastify prefers the
  // static segment either way.
  app.post(`${base}/filter-preview`, {
    schema: {
      tags,
      operationId: 'previewFilter',
      summary: `How many of the organization's last ${PREVIEW_EVENTS.toLocaleString('en-US')} recorded events a filter matches`,
      description: 'Checks the filter exactly as create and PATCH do (400 naming the path inside the filter) and answers counts only.',
      security: SECURITY.apiWrite,
      params: OrgParams,
      body: FilterPreviewBody,
      response: { 200: FilterPreview, ...writeErrors() },
    },
    handler: async (req) => {
      const { org_id } = req.params;
      // The credential check a save makes of a filter's values (for no preset in particular: the
      // filter is the same whatever destination it is saved on), so the preview's count is never
      // shown for a filter the save then refuses.
      refuseCredentialsInPlainFields('custom', { filter: req.body.filter });
      return previewFilter(ctx.db, org_id, req.body.filter);
    },
  });

  app.get(base, {
    schema: {
      tags,
      operationId: 'listDestinations',
      summary: "List the organization's destinations, a page at a time, in creation order",
      description:
        'With `limit` or `cursor`: answers `{"destinations": [...], "next_cursor"}`; pass next_cursor back as `cursor` for the next page (null on the last). ' +
        `Without either: the bare array of earlier versions, holding the first ${DEFAULT_DESTINATIONS_PAGE} destinations, with a \`Link: <...>; rel="next"\` header when there are more.`,
      security: SECURITY.apiRead,
      params: OrgParams,
      querystring: DestinationsPageQuery,
      response: { 200: DestinationList, ...readErrors() },
    },
    handler: async (req, reply) => {
      const { org_id } = req.params;
      const q = req.query;
      const { views, next } = await svc.listDestinationViews(deps, org_id, pageOf(q));
      const nextCursor = next ? encodeDestinationsCursor(next) : null;
      if (q.limit !== undefined || q.cursor !== undefined) return { destinations: views, next_cursor: nextCursor };
      // Earlier clients expect the array itself: the next page is announced the RFC 8288 way.
      if (nextCursor)
        void reply.header(
          'link',
          `<${base.replace(':org_id', encodeURIComponent(org_id))}?limit=${DEFAULT_DESTINATIONS_PAGE}&cursor=${nextCursor}>; rel="next"`,
        );
      return views;
    },
  });

  // Every card's chart of a page of destinations in one request (same order, limit and cursor as the
  // list), instead of one /{id}/stats request per card. A static segment: Fastify prefers it to
  // /:destination_id, and destination ids always start with fwd_.
  app.get(`${base}/stats`, {
    schema: {
      tags,
      operationId: 'listDestinationStats',
      summary: 'Delivered and failed events per hour over the last 24 hours, for a page of destinations',
      description:
        'Pages like the list (same order, `limit` default 100 up to 500, `cursor` from either answer), so a page of cards needs one request for its charts and for the background replays they follow.',
      security: SECURITY.apiRead,
      params: OrgParams,
      querystring: DestinationsPageQuery,
      response: { 200: StatsPage, ...readErrors() },
    },
    handler: async (req) => {
      const { org_id } = req.params;
      const { ids, next } = await listDestinationIdsPage(ctx.db, org_id, pageOf(req.query));
      const [byId, replaying] = await Promise.all([destinationsStats(ctx.db, org_id, ids), runningReplayIds(ctx.db, org_id, ids)]);
      return {
        stats: ids.map((id) => ({ destination_id: id, hours: byId.get(id) ?? [], running_replay_id: replaying.get(id) ?? null })),
        next_cursor: next ? encodeDestinationsCursor(next) : null,
      };
    },
  });

  app.get(`${base}/:destination_id`, {
    schema: {
      tags,
      operationId: 'getDestination',
      summary: 'Get one destination',
      security: SECURITY.apiRead,
      params: DestinationParams,
      response: { 200: DestinationRef, ...readErrors() },
    },
    handler: async (req) => {
      const p = req.params;
      return svc.getDestinationView(deps, p.org_id, p.destination_id);
    },
  });

  app.patch(`${base}/:destination_id`, {
    schema: {
      tags,
      operationId: 'updateDestination',
      summary: 'Enable or disable, rotate or clear the auth header, or edit URL and settings',
      security: SECURITY.apiWrite,
      params: DestinationParams,
      body: PatchDestinationBody,
      response: { 200: DestinationRef, ...writeErrors(), ...errors([409], { 409: 'limit_reached: enabling would pass the cap of enabled destinations.' }) },
    },
    handler: async (req) => {
      const p = req.params;
      const body = req.body;
      const view = await svc.patchDestination(deps, p.org_id, p.destination_id, body, actorOf(req));
      // Field names only: never values (auth_header_value is a credential).
      req.log.info({ destination_id: p.destination_id, changed: Object.keys(body) }, 'destination updated');
      if (body.enabled) ctx.wakeWorkers();
      return view;
    },
  });

  app.delete(`${base}/:destination_id`, {
    schema: {
      tags,
      operationId: 'deleteDestination',
      summary: 'Delete a destination and clear its pending queued events',
      security: SECURITY.apiWrite,
      params: DestinationParams,
      response: { 200: Deleted, ...writeErrors() },
    },
    handler: async (req) => {
      const p = req.params;
      const res = await svc.removeDestination(deps, p.org_id, p.destination_id, actorOf(req));
      req.log.info({ destination_id: p.destination_id, cleared_events: res.cleared_events }, 'destination deleted');
      return res;
    },
  });
}
