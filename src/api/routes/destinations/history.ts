// What happened to a destination's events, and putting them back: dead letters, replays (of dead
// letters or of a time range), the hourly stats and the delivery log.
import type { AppContext } from '../../context.js';
import type { Queryable } from '../../../db/types.js';
import type { TypedApp } from '../../typed.js';
import { DestinationParams, errors, OPTIONAL_BODY, pageSize, readErrors, SECURITY, writeErrors } from '../../schemas/common.js';
import { AttemptsPage, AttemptsQuery, DestinationStats, FailedEventsPage, FailedEventsQuery, ReplayBody } from '../../schemas/destinationReads.js';
import * as svc from '../../../destinations/service.js';
import type { DestinationDeps } from '../../../destinations/deps.js';
import { listFailedEvents } from '../../../queue/deadLetters.js';
import { replayDeadLetters } from '../../../destinations/replay.js';
import { requestRangeReplay } from '../../../replays/service.js';
import { ReplayAccepted, ReplayDone } from '../../schemas/replays.js';
import { destinationStats } from '../../../queue/stats.js';
import { listAttempts } from '../../../queue/attempts.js';
import { invalid } from '../../../errors.js';
import { readNumber, readNumbers, tenantNumbers } from '../../../orgs/tenantNumbers.js';
import { dateTimeField, sinceUntilExact } from '../../../events/contract.js';
import { recordTrail } from '../../../trail/record.js';
import { actorOf } from '../../actor.js';
import { decodeAttemptsCursor, encodeAttemptsCursor } from './cursors.js';
import { base, tags } from './shared.js';
import { StoredJson, storedJsonSerializerCompiler } from '../../storedJsonPage.js';

export function destinationHistoryRoutes(app: TypedApp, ctx: AppContext, deps: DestinationDeps): void {
  app.get(`${base}/:destination_id/failed-events`, {
    schema: {
      tags,
      operationId: 'listFailedEvents',
      summary: 'List dead-lettered events',
      security: SECURITY.apiRead,
      params: DestinationParams,
      querystring: FailedEventsQuery,
      response: { 200: FailedEventsPage, ...readErrors() },
    },
    // Each event is its stored JSON text spliced into the page (queue/deadLetters.ts), as the pull
    // API's are: up to 1,000 of them, parsed and written again, held the API's one thread.
    serializerCompiler: storedJsonSerializerCompiler,
    handler: async (req) => {
      const p = req.params;
      const q = req.query;
      await svc.assertDestinationExists(ctx.db, p.org_id, p.destination_id); // a 404, without the view's counts
      const jobs = await tenantNumbers(ctx.db, p.org_id, 'job');
      const page = await listFailedEvents(ctx.db, p.org_id, p.destination_id, {
        limit: pageSize(q.limit, FailedEventsQuery.properties.limit),
        beforeId: q.before_id ? readNumber(jobs, Number(q.before_id), 'before_id') : null,
      });
      const shown = jobs.showAll(page.events.map((e) => e.job_id));
      return {
        ...page,
        events: page.events.map((e, i) => ({ ...e, job_id: shown[i]!, event: new StoredJson(e.event) })),
        next_before_id: page.next_before_id === null ? null : jobs.show(page.next_before_id),
      };
    },
  });

  app.post(`${base}/:destination_id/replay`, {
    schema: {
      tags,
      operationId: 'replayDestination',
      summary: 'Put dead-lettered events back in the queue, or queue every recorded event of a time range',
      description:
        'Without a body (an empty body of any content type counts as none), or with `{}` or `job_ids`: replays dead letters. With `from` and `to` (RFC 3339): queues every event of the organization whose @timestamp is in [from, to) for this destination, in bounded batches, skipping events already waiting for it. The window is trimmed to what the SIEM accepts (Datadog 18 h, New Relic 48 h), with the reason in `message`; retention (AEGIS_RETENTION_DAYS) deletes events by when they were recorded, so a backfilled event is replayed however old its @timestamp. A window of at most one batch (AEGIS_REPLAY_BATCH, 5,000 events) is queued before answering 200; a larger one answers 202 with its first batch queued and a `replay_id`, and runs on in the background (GET .../replays/{replay_id}).',
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
    // The body is optional: a bare POST (no body, or an empty one of any type: api/jsonBody.ts) replays every dead letter.
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
        return (
          reply
            .status(202)
            // From the route's parameters, not the request's path: "…/replay/" (a trailing slash, which the
            // router accepts) gave "…/replay//replays/…", which led nowhere (an attacker's review).
            .header('location', `/api/orgs/${p.org_id}/forwarding-destinations/${p.destination_id}/replays/${replay.replay_id}`)
            .send({ ...result, replay_id: replay.replay_id, replay })
        );
      }
      let jobIds: number[] | null = null;
      if (body.job_ids !== undefined) {
        const jobs = await tenantNumbers(ctx.db, p.org_id, 'job');
        jobIds = readNumbers(jobs, body.job_ids, 'job_ids');
      }
      const result = await replayDeadLetters(ctx.db, target, { jobIds, record: recordRequested });
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
      operationId: 'getDestinationStats',
      summary: 'Delivered and failed events per hour over the last 24 hours',
      security: SECURITY.apiRead,
      params: DestinationParams,
      response: { 200: DestinationStats, ...readErrors() },
    },
    handler: async (req) => {
      const p = req.params;
      await svc.assertDestinationExists(ctx.db, p.org_id, p.destination_id); // a 404, without the view's counts
      return destinationStats(ctx.db, p.org_id, p.destination_id);
    },
  });

  // The delivery log: every request sent to the SIEM (deliveries and test probes), newest first.
  // Snippets were scrubbed of the destination's credentials before they were stored.
  app.get(`${base}/:destination_id/attempts`, {
    schema: {
      tags,
      operationId: 'listDeliveryAttempts',
      summary: "A destination's delivery log: one entry per request sent, newest first",
      security: SECURITY.apiRead,
      params: DestinationParams,
      querystring: AttemptsQuery,
      response: { 200: AttemptsPage, ...readErrors() },
    },
    handler: async (req) => {
      const p = req.params;
      const q = req.query;
      await svc.assertDestinationExists(ctx.db, p.org_id, p.destination_id); // a 404, without the view's counts
      const positions = await tenantNumbers(ctx.db, p.org_id, 'attempt');
      const page = await listAttempts(ctx.db, p.org_id, p.destination_id, {
        limit: pageSize(q.limit, AttemptsQuery.properties.limit),
        beforeId: q.cursor === undefined ? null : readNumber(positions, decodeAttemptsCursor(q.cursor), 'cursor'),
        outcome: q.outcome ?? null,
        // The schema's "date-time" format is looser than what the API takes: parseDateTime has the last word.
        ...sinceUntilExact(q),
      });
      return { attempts: page.attempts, next_cursor: page.afterId !== null ? encodeAttemptsCursor(positions.show(page.afterId)) : null };
    },
  });
}

/** The window of a range replay, or null for a dead-letter replay; 400 naming the field when half given. */
function replayWindow(body: ReplayBody): { from: Date; to: Date } | null {
  if (body.from === undefined && body.to === undefined) return null;
  if (body.job_ids !== undefined) throw invalid('job_ids', 'replays dead letters and cannot be combined with from and to');
  if (body.from === undefined) throw invalid('from', 'is required with to');
  if (body.to === undefined) throw invalid('to', 'is required with from');
  return { from: dateTimeField('from', body.from), to: dateTimeField('to', body.to) };
}
