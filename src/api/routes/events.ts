import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../context.js';
import { OrgParams } from '../schemas/common.js';
import { AppError, invalid } from '../../errors.js';
import { runPreflight, recordAgentDecisions, MAX_INPUT_BYTES, MAX_BATCH } from '../../events/record.js';
import { pullEvents, START } from '../../events/pull.js';
import { decodePullCursor, encodePullCursor, MAX_CURSOR_LENGTH } from '../../events/pullCursor.js';

const E = { 400: Type.Ref('ErrorBody'), 401: Type.Ref('ErrorBody'), 404: Type.Ref('ErrorBody'), 413: Type.Ref('ErrorBody') };

/**
 * The producer routes take text that may hold secrets, so a refused body must not echo any of it, not
 * even a property name (`{"input": "...", "<an SSN>": 1}`). The validation error is attached to the
 * request and rethrown here, so the error handler lists every problem with names passed through
 * safeSegment (see requestViolations).
 */
function refuseInvalid(req: FastifyRequest): void {
  if (req.validationError) throw req.validationError;
}

export function eventRoutes(app: FastifyInstance, ctx: AppContext): void {
  // Destination filters compiled once and reused across requests (filters/router.ts).
  const router = ctx.filterRouter;
  app.post('/api/orgs/:org_id/preflight', {
    // 1 MiB of text can take up to 4 MiB as UTF-8 JSON; the input limit itself is checked in bytes.
    bodyLimit: 5 * MAX_INPUT_BYTES,
    attachValidation: true,
    schema: {
      tags: ['audit events'],
      summary: 'Scan text, record the metadata-only audit event and return the masked text',
      params: OrgParams,
      body: Type.Object(
        {
          input: Type.String({ description: 'The text to check. Never stored, logged or forwarded.' }),
          destination: Type.Optional(Type.String({ maxLength: 64 })),
          source_type: Type.Optional(Type.String({ maxLength: 64 })),
          input_type: Type.Optional(Type.String({ maxLength: 64 })),
          actor_id: Type.Optional(Type.String({ maxLength: 256 })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          preflight_id: Type.String(),
          decision: Type.String(),
          masked_input: Type.String(),
          summary: Type.String(),
          finding_counts_by_type: Type.Record(Type.String(), Type.Integer()),
          policy_id: Type.String(),
          policy_version: Type.String(),
        }),
        ...E,
      },
    },
    handler: async (req) => {
      refuseInvalid(req);
      const { org_id } = req.params as { org_id: string };
      const res = await runPreflight(ctx.db, org_id, req.body as Parameters<typeof runPreflight>[2], router);
      ctx.metrics.eventsRecorded.inc({ source: 'preflight' });
      req.log.info({ preflight_id: res.preflight_id, decision: res.decision }, 'preflight recorded');
      ctx.wakeLocalWorker();
      return res;
    },
  });

  app.post('/api/orgs/:org_id/audit-events', {
    // 1,000 records at their schema maxima (500-character summary, 256-character actor_id, 64 finding
    // types), JSON-escaped, come to about 10 MB: the default 2 MiB would refuse a valid batch.
    bodyLimit: 12 * 1024 * 1024,
    attachValidation: true,
    schema: {
      tags: ['audit events'],
      summary: 'Record decisions that agents made on-device (all or nothing, idempotent on preflight_id)',
      params: OrgParams,
      body: Type.Object(
        { events: Type.Array(Type.Unknown(), { description: `1 to ${MAX_BATCH} decision records (see schemas/api-bodies.schema.json).` }) },
        { additionalProperties: false },
      ),
      response: {
        // Exactly the published AuditEventsResponse (closed): a retried batch gets the same answer.
        200: Type.Object({ accepted: Type.Integer(), preflight_ids: Type.Array(Type.String()) }, { additionalProperties: false }),
        ...E,
      },
    },
    handler: async (req) => {
      refuseInvalid(req);
      const { org_id } = req.params as { org_id: string };
      const { events } = req.body as { events: unknown[] };
      if (events.length === 0) throw new AppError('validation_failed', 'events: must hold at least one record');
      if (events.length > MAX_BATCH) throw new AppError('payload_too_large', `events: at most ${MAX_BATCH} records per request; got ${events.length}`);
      const res = await recordAgentDecisions(ctx.db, org_id, events, router);
      ctx.metrics.eventsRecorded.inc({ source: 'agent' }, res.newlyRecorded);
      req.log.info({ accepted: res.accepted, already_recorded: res.accepted - res.newlyRecorded }, 'agent decisions recorded');
      if (res.newlyRecorded > 0) ctx.wakeLocalWorker();
      return { accepted: res.accepted, preflight_ids: res.preflight_ids };
    },
  });

  // The pull API, for SIEMs that poll: the org's recorded events in recording order, as a webhook
  // destination receives them. See events/pull.ts for why a cursor never skips or repeats an event.
  app.get('/api/orgs/:org_id/audit-events', {
    schema: {
      tags: ['audit events'],
      summary: 'Read recorded audit events, oldest recorded first, with a cursor to poll for more',
      params: OrgParams,
      querystring: Type.Object(
        {
          // Query strings are text: the API never coerces types, so the number is checked by pattern.
          limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: 'Events per page, 1 to 1000 (default 100).' })),
          cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: MAX_CURSOR_LENGTH, description: 'next_cursor of the previous answer, as is.' })),
          since: Type.Optional(Type.String({ format: 'date-time', maxLength: 64, description: "Only events whose @timestamp is at or after this time (RFC 3339)." })),
          until: Type.Optional(Type.String({ format: 'date-time', maxLength: 64, description: "Only events whose @timestamp is before this time (RFC 3339)." })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object(
          {
            events: Type.Array(Type.Unknown({ description: 'A wire event (schemas/audit-event.schema.json, or schemas/config-change-event.schema.json for the configuration trail), exactly as a custom webhook destination receives it.' })),
            next_cursor: Type.String({
              description:
                'Always set: pass it as cursor to read on. When has_more is false you are caught up; poll again later with the same cursor for events recorded since.',
            }),
            has_more: Type.Boolean({
              description:
                'True when more can be read right away: the page was full, or (with since/until) this request examined as many recorded events as one request may before the page filled, so a page can hold fewer events than limit, even none. Keep reading with next_cursor.',
            }),
          },
          { additionalProperties: false },
        ),
        ...E,
      },
    },
    handler: async (req) => {
      const { org_id } = req.params as { org_id: string };
      const q = req.query as { limit?: string; cursor?: string; since?: string; until?: string };
      const since = q.since === undefined ? null : new Date(q.since);
      const until = q.until === undefined ? null : new Date(q.until);
      if (since && Number.isNaN(since.getTime())) throw invalid('since', 'is not a representable date-time');
      if (until && Number.isNaN(until.getTime())) throw invalid('until', 'is not a representable date-time');
      if (since && until && since > until) throw invalid('until', 'is before since');
      const after = q.cursor === undefined ? null : decodePullCursor(ctx.keyRing, org_id, q.cursor);
      const page = await pullEvents(ctx.db, org_id, { after, since, until, limit: q.limit === undefined ? 100 : Number(q.limit) });
      return { events: page.events, next_cursor: encodePullCursor(ctx.keyRing, org_id, page.last ?? START), has_more: page.more };
    },
  });
}
