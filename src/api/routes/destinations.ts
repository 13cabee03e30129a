import type { AppContext } from '../context.js';
import type { Queryable } from '../../db/types.js';
import type { TypedApp } from '../typed.js';
import { DestinationParams, errors, OPTIONAL_BODY, OrgParams, readErrors, SECURITY, writeErrors } from '../schemas/common.js';
import {
  AttemptsPage,
  AttemptsQuery,
  DEFAULT_DESTINATIONS_PAGE,
  Deleted,
  DestinationList,
  DestinationsPageQuery,
  DestinationStats,
  FailedEventsPage,
  FailedEventsQuery,
  ReplayBody,
  StatsPage,
} from '../schemas/destinationReads.js';
import { CreateDestinationBody, DestinationView, FilterPreview, FilterPreviewBody, PatchDestinationBody, TestResult } from '../schemas/destinations.js';
import { previewFilter, PREVIEW_EVENTS } from '../../filters/preview.js';
import * as svc from '../../destinations/service.js';
import { ProbeRateLimiter } from '../../destinations/probeRateLimiter.js';
import { probeDestination } from '../../delivery/probe.js';
import { listFailedEvents } from '../../queue/deadLetters.js';
import { replayDeadLetters } from '../../destinations/replay.js';
import { requestRangeReplay } from '../../replays/service.js';
import { runningReplayIds } from '../../replays/repository.js';
import { ReplayAccepted, ReplayDone } from '../schemas/replays.js';
import { destinationStats, destinationsStats } from '../../queue/stats.js';
import { listDestinationIdsPage, type DestinationPageKey } from '../../destinations/reads.js';
import { listAttempts } from '../../queue/attempts.js';
import { invalid } from '../../errors.js';
import { decodePageCursor, encodePageCursor } from '../pageCursor.js';
import { recordTrail } from '../../trail/record.js';
import { actorOf } from '../actor.js';
import { DESTINATION_ID_PATTERN } from '../../ids.js';

const LIMIT_REACHED = 'limit_reached: a per-organization cap (AEGIS_MAX_DESTINATIONS_PER_ORG, AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG).';
const tags = ['forwarding-destinations'];
const base = '/api/orgs/:org_id/forwarding-destinations';

export function destinationRoutes(app: TypedApp, ctx: AppContext): void {
  const deps = {
    db: ctx.db,
    keyRing: ctx.keyRing,
    allowPrivate: ctx.config.allowPrivateDestinations,
    limits: ctx.config.orgLimits,
    signingOverlapHours: ctx.config.signingOverlapHours,
    maxHoldHours: ctx.config.maxHoldHours,
    router: ctx.filterRouter,
  };
  const probeLimiter = new ProbeRateLimiter();
  const orgProbeLimiter = new ProbeRateLimiter(30, 60_000, 'organization');

  app.post(base, {
    schema: {
      tags,
      summary: 'Create a destination',
      security: SECURITY.apiWrite,
      params: OrgParams,
      body: CreateDestinationBody,
      response: { 201: DestinationView, ...writeErrors(), ...errors([409], { 409: LIMIT_REACHED }) },
    },
    handler: async (req, reply) => {
      const { org_id } = req.params;
      const view = await svc.createDestination(deps, org_id, req.body, actorOf(req));
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
      summary: `How many of the organization's last ${PREVIEW_EVENTS.toLocaleString('en-US')} recorded events a filter matches`,
      description: 'Checks the filter exactly as create and PATCH do (400 naming the path inside the filter) and answers counts only.',
      security: SECURITY.apiWrite,
      params: OrgParams,
      body: FilterPreviewBody,
      response: { 200: FilterPreview, ...writeErrors() },
    },
    handler: async (req) => {
      const { org_id } = req.params;
      return previewFilter(ctx.db, org_id, req.body.filter);
    },
  });

  app.get(base, {
    schema: {
      tags,
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
      summary: 'Get one destination',
      security: SECURITY.apiRead,
      params: DestinationParams,
      response: { 200: DestinationView, ...readErrors() },
    },
    handler: async (req) => {
      const p = req.params;
      return svc.getDestinationView(deps, p.org_id, p.destination_id);
    },
  });

  app.patch(`${base}/:destination_id`, {
    schema: {
      tags,
      summary: 'Enable or disable, rotate or clear the auth header, or edit URL and settings',
      security: SECURITY.apiWrite,
      params: DestinationParams,
      body: PatchDestinationBody,
      response: { 200: DestinationView, ...writeErrors(), ...errors([409], { 409: 'limit_reached: enabling would pass the cap of enabled destinations.' }) },
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

  app.post(`${base}/:destination_id/test`, {
    schema: {
      tags,
      summary: 'Send a synthetic aegis.audit_stream.test event now and report the result',
      security: SECURITY.apiWrite,
      params: DestinationParams,
      response: {
        200: TestResult,
        ...writeErrors(),
        ...errors([429], { 429: 'rate_limited: at most 5 test probes a minute per destination and 30 per organization; Retry-After says when to try again.' }),
      },
    },
    handler: async (req) => {
      const p = req.params;
      const dest = await svc.getDestinationView(deps, p.org_id, p.destination_id); // 404 before spending the rate limit
      probeLimiter.take(p.destination_id);
      orgProbeLimiter.take(p.org_id);
      const result = await probeDestination(ctx.delivery, p.org_id, p.destination_id);
      // Recorded after the probe, with its result: test_sent's outcome is whether the event got through.
      await recordTrail(ctx.db, {
        orgId: p.org_id,
        actor: actorOf(req),
        changes: [
          { action: 'test_sent', changedFields: [], destination: { id: p.destination_id, siem: dest.siem }, outcome: result.ok ? 'success' : 'failure' },
        ],
        router: ctx.filterRouter,
      });
      ctx.wakeLocalWorker();
      req.log.info({ destination_id: p.destination_id, ok: result.ok, status_code: result.status_code }, 'test probe');
      return result;
    },
  });

  app.get(`${base}/:destination_id/failed-events`, {
    schema: {
      tags,
      summary: 'List dead-lettered events',
      security: SECURITY.apiRead,
      params: DestinationParams,
      querystring: FailedEventsQuery,
      response: { 200: FailedEventsPage, ...readErrors() },
    },
    handler: async (req) => {
      const p = req.params;
      const q = req.query;
      await svc.getDestinationView(deps, p.org_id, p.destination_id);
      return listFailedEvents(ctx.db, p.org_id, p.destination_id, {
        limit: Math.min(Math.max(Number(q.limit ?? 100), 1), 1000),
        beforeId: q.before_id ? Number(q.before_id) : null,
      });
    },
  });

  app.post(`${base}/:destination_id/replay`, {
    schema: {
      tags,
      summary: 'Put dead-lettered events back in the queue, or queue every recorded event of a time range',
      description:
        'Without a body (or with `{}` or `job_ids`): replays dead letters. With `from` and `to` (RFC 3339): queues every event of the organization whose @timestamp is in [from, to) for this destination, in bounded batches, skipping events already waiting for it. The window is trimmed to what the SIEM accepts (Datadog 18 h, New Relic 48 h) and to AEGIS_RETENTION_DAYS, with the reason in `message`. A window of at most one batch (AEGIS_REPLAY_BATCH, 5,000 events) is queued before answering 200; a larger one answers 202 with its first batch queued and a `replay_id`, and runs on in the background (GET .../replays/{replay_id}).',
      security: SECURITY.apiWrite,
      params: DestinationParams,
      body: ReplayBody,
      [OPTIONAL_BODY]: true,
      response: {
        200: ReplayDone,
        202: ReplayAccepted,
        ...writeErrors(),
        ...errors([409], {
          409: 'limit_reached: a range replay past a per-organization cap: AEGIS_MAX_RUNNING_REPLAYS_PER_ORG running at once, or AEGIS_MAX_REPLAY_EVENTS in one window. Nothing was queued.',
        }),
      },
    },
    // The body is optional: a bare POST (no body, no content type) replays every dead letter.
    preValidation: async (req) => {
      if (req.body === undefined || req.body === null) req.body = {};
    },
    handler: async (req, reply) => {
      const p = req.params;
      const body = req.body;
      const range = replayWindow(body);
      const dest = await svc.getDestinationView(deps, p.org_id, p.destination_id);
      const target = { orgId: p.org_id, id: p.destination_id, siem: dest.siem };
      // Recorded in the transaction of the replay's first batch, so a refused request (e.g. over the
      // per-organization cap) records nothing and an accepted one is never without its trail event; a
      // background replay goes on after this answer, the request is the change.
      const recordRequested = (tx: Queryable) =>
        recordTrail(tx, {
          orgId: p.org_id,
          actor: actorOf(req),
          changes: [{ action: 'replay_requested', changedFields: Object.keys(body).sort(), destination: { id: p.destination_id, siem: target.siem } }],
          router: ctx.filterRouter,
        });
      if (range) {
        const replayDeps = { db: ctx.db, limits: ctx.config.replays, retentionDays: ctx.config.retentionDays };
        const { replay, ...result } = await requestRangeReplay(
          replayDeps,
          target,
          range,
          req.authMethod === 'session' ? 'dashboard' : 'api_key',
          recordRequested,
        );
        req.log.info(
          { destination_id: p.destination_id, range: true, replayed: result.replayed, skipped_too_old: result.skipped_too_old, replay_id: replay?.replay_id },
          replay ? 'time range replay accepted' : 'time range replayed',
        );
        ctx.wakeWorkers();
        if (!replay) return result;
        ctx.wakeReplays();
        return reply
          .status(202)
          .header('location', `${(req.url.split('?')[0] ?? '').replace(/\/replay$/, '')}/replays/${replay.replay_id}`)
          .send({ ...result, replay_id: replay.replay_id, replay });
      }
      const result = await replayDeadLetters(ctx.db, target, { jobIds: body.job_ids ?? null, record: recordRequested });
      req.log.info(
        { destination_id: p.destination_id, range: false, replayed: result.replayed, skipped_too_old: result.skipped_too_old },
        'dead letters replayed',
      );
      ctx.wakeWorkers();
      return result;
    },
  });

  app.get(`${base}/:destination_id/stats`, {
    schema: {
      tags,
      summary: 'Delivered and failed events per hour over the last 24 hours',
      security: SECURITY.apiRead,
      params: DestinationParams,
      response: { 200: DestinationStats, ...readErrors() },
    },
    handler: async (req) => {
      const p = req.params;
      await svc.getDestinationView(deps, p.org_id, p.destination_id);
      return destinationStats(ctx.db, p.org_id, p.destination_id);
    },
  });

  // The delivery log: every request sent to the SIEM (deliveries and test probes), newest first.
  // Snippets were scrubbed of the destination's credentials before they were stored.
  app.get(`${base}/:destination_id/attempts`, {
    schema: {
      tags,
      summary: "A destination's delivery log: one entry per request sent, newest first",
      security: SECURITY.apiRead,
      params: DestinationParams,
      querystring: AttemptsQuery,
      response: { 200: AttemptsPage, ...readErrors() },
    },
    handler: async (req) => {
      const p = req.params;
      const q = req.query;
      await svc.getDestinationView(deps, p.org_id, p.destination_id);
      const page = await listAttempts(ctx.db, p.org_id, p.destination_id, {
        limit: q.limit === undefined ? 50 : Number(q.limit),
        beforeId: q.cursor === undefined ? null : decodeAttemptsCursor(q.cursor),
        outcome: q.outcome ?? null,
        since: q.since ? new Date(q.since) : null,
        until: q.until ? new Date(q.until) : null,
      });
      return { attempts: page.attempts, next_cursor: page.afterId !== null ? encodeAttemptsCursor(page.afterId) : null };
    },
  });
}

function pageOf(q: DestinationsPageQuery): { limit: number; after: DestinationPageKey | null } {
  return {
    limit: q.limit === undefined ? DEFAULT_DESTINATIONS_PAGE : Number(q.limit),
    after: q.cursor === undefined ? null : decodeDestinationsCursor(q.cursor),
  };
}

const DESTINATIONS_CURSOR = 'd1.';
function encodeDestinationsCursor(key: DestinationPageKey): string {
  return encodePageCursor(DESTINATIONS_CURSOR, [key.createdAt, key.id]);
}
function decodeDestinationsCursor(cursor: string): DestinationPageKey {
  const [createdAt, id] = decodePageCursor(DESTINATIONS_CURSOR, cursor, 2) as [string, string];
  // Checked here so a forged cursor is a 400 naming it, never a database cast error.
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/.test(createdAt) ||
    Number.isNaN(Date.parse(`${createdAt}Z`)) ||
    !new RegExp(DESTINATION_ID_PATTERN).test(id)
  ) {
    throw invalid('cursor', 'is not a cursor this API gave out; pass next_cursor from the previous page as is');
  }
  return { createdAt, id };
}

const ATTEMPTS_CURSOR = 'a1.';
function encodeAttemptsCursor(lastId: number): string {
  return encodePageCursor(ATTEMPTS_CURSOR, [String(lastId)]);
}
function decodeAttemptsCursor(cursor: string): number {
  const id = Number(decodePageCursor(ATTEMPTS_CURSOR, cursor, 1)[0]);
  if (!Number.isSafeInteger(id) || id < 1) throw invalid('cursor', 'is not a cursor this API gave out; pass next_cursor from the previous page as is');
  return id;
}

/** The window of a range replay, or null for a dead-letter replay; 400 naming the field when half given. */
function replayWindow(body: ReplayBody): { from: Date; to: Date } | null {
  if (body.from === undefined && body.to === undefined) return null;
  if (body.job_ids !== undefined) throw invalid('job_ids', 'replays dead letters and cannot be combined with from and to');
  if (body.from === undefined) throw invalid('from', 'is required with to');
  if (body.to === undefined) throw invalid('to', 'is required with from');
  const from = new Date(body.from);
  const to = new Date(body.to);
  if (Number.isNaN(from.getTime())) throw invalid('from', 'is not a representable date-time');
  if (Number.isNaN(to.getTime())) throw invalid('to', 'is not a representable date-time');
  return { from, to };
}
