import { Type } from 'typebox';
import type { AppContext } from '../context.js';
import type { TypedApp } from '../typed.js';
import { errors, IdempotencyKeyHeaders, OrgParams, pageLimit, pageSize, readErrors, SECURITY, writeErrors } from '../schemas/common.js';
import {
  AuditEventsPageSchema,
  AuditEventsRequestSchema,
  AuditEventsResponseSchema,
  PreflightRequestSchema,
  PreflightResponseSchema,
} from '../schemas/published.js';
import { AppError, invalid } from '../../errors.js';
import { producerValidatorCompiler } from '../producerValidation.js';
import { runPreflight, recordAgentDecisions, MAX_INPUT_BYTES, MAX_BATCH } from '../../events/record.js';
import { pullEvents, START } from '../../events/pull.js';
import { decodePullCursor, encodePullCursor, MAX_CURSOR_LENGTH } from '../../events/pullCursor.js';
import { sinceUntil } from '../../events/contract.js';
import { StoredJson, storedJsonSerializerCompiler } from '../storedJsonPage.js';

// Query strings are text: the API never coerces types, so the number is checked by pattern.
const EVENTS_PAGE_LIMIT = pageLimit(1000, 100, 'Events per page');

const isObject = (x: unknown): x is object => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * The producer routes are documented by the published schemas (schemas/api-bodies.schema.json), and
 * the producer itself checks a body against them (events/validate.ts), also running the privacy guard,
 * listing every problem of every record and answering 413 for an input over its byte limit. A refused
 * body must not echo any of its text, not even a property name (`{"input": "...", "<an SSN>": 1}`).
 *
 * - A body the producer can read (preflight: an object whose input is text; audit-events: an object
 *   holding only an events array) goes to the producer unchecked by the route (see
 *   producerValidation.ts): checking it twice cost as much again and the producer's answer is the
 *   complete one. It cannot get through unchecked: the producer's checks are the same schema.
 * - Anything else fails the route schema and is refused by the error handler with every problem,
 *   names passed through safeSegment (see requestViolations).
 */
function preflightReadable(body: unknown): boolean {
  return isObject(body) && 'input' in body && typeof body.input === 'string';
}
function auditEventsReadable(body: unknown): boolean {
  return isObject(body) && Object.keys(body).every((k) => k === 'events') && 'events' in body && Array.isArray(body.events);
}

/** JSON values a batch of audit events may hold: a record at its schema maxima is about 80 (64 finding counts). */
const AUDIT_EVENTS_MAX_JSON_VALUES = MAX_BATCH * 100;

export function eventRoutes(app: TypedApp, ctx: AppContext): void {
  // Destination filters compiled once and reused across requests (filters/router.ts).
  const router = ctx.filterRouter;
  // Before the body is read (a route's onRequest runs after authentication): no room, no recording.
  const roomToRecord = async () => {
    if (ctx.diskRoom?.low()) {
      throw new AppError(
        'service_unavailable',
        `The disk holding this service's database is nearly full (less than the ${ctx.config.minFreeDiskMb} MB free it keeps); nothing was recorded. Retry later: the operator has been told.`,
        { retryAfterS: 30 },
      );
    }
  };
  app.post('/api/orgs/:org_id/preflight', {
    onRequest: roomToRecord,
    // 1 MiB of text can take up to 4 MiB as UTF-8 JSON; the input limit itself is checked in bytes.
    bodyLimit: 5 * MAX_INPUT_BYTES,
    // The input is scanned and answered masked, never stored: a lone surrogate in it is read.
    config: { unstoredFields: ['input'] },
    validatorCompiler: producerValidatorCompiler(preflightReadable),
    schema: {
      tags: ['audit events'],
      operationId: 'preflight',
      summary: 'Scan text, record the metadata-only audit event and return the masked text',
      description:
        'With an Idempotency-Key header, a retry (its answer lost to a timeout) is answered for the same preflight_id and records nothing new; ' +
        'the same key with another input or other settings is refused 409, nothing recorded. Without one, every call records a new event.',
      security: SECURITY.apiWrite,
      params: OrgParams,
      headers: IdempotencyKeyHeaders,
      body: PreflightRequestSchema,
      response: {
        200: PreflightResponseSchema,
        ...writeErrors(),
        ...errors([409, 413], {
          409: 'conflict: the Idempotency-Key was used for a preflight of another input or other settings.',
          413: 'payload_too_large: the body, or input over 1 MiB (in UTF-8 bytes).',
        }),
      },
    },
    handler: async (req) => {
      const { org_id } = req.params;
      const res = await runPreflight(ctx.db, org_id, req.body, router, req.headers['idempotency-key']);
      ctx.metrics.eventsRecorded.inc({ source: 'preflight' });
      req.log.info({ preflight_id: res.preflight_id, decision: res.decision }, 'preflight recorded');
      ctx.wakeLocalWorker();
      return res;
    },
  });

  app.post('/api/orgs/:org_id/audit-events', {
    onRequest: roomToRecord,
    // 1,000 records at their schema maxima (500-character summary, 256-character actor_id, 64 finding
    // types), JSON-escaped, come to about 10 MB: the default 2 MiB would refuse a valid batch.
    bodyLimit: 12 * 1024 * 1024,
    config: { maxJsonValues: AUDIT_EVENTS_MAX_JSON_VALUES },
    validatorCompiler: producerValidatorCompiler(auditEventsReadable),
    schema: {
      tags: ['audit events'],
      operationId: 'recordAuditEvents',
      summary: 'Record decisions that agents made on-device (all or nothing, idempotent on preflight_id)',
      security: SECURITY.apiWrite,
      params: OrgParams,
      body: AuditEventsRequestSchema,
      response: {
        // Exactly the published AuditEventsResponse (closed): a retried batch gets the same ids back.
        200: AuditEventsResponseSchema,
        ...writeErrors(),
        ...errors([413], {
          413: `payload_too_large: the body (over 12 MiB, or over ${AUDIT_EVENTS_MAX_JSON_VALUES.toLocaleString('en-US')} JSON values), or more than ${MAX_BATCH} records.`,
        }),
      },
    },
    handler: async (req) => {
      const { org_id } = req.params;
      const { events } = req.body;
      if (events.length === 0) throw invalid('events', 'must hold at least one record');
      if (events.length > MAX_BATCH) throw new AppError('payload_too_large', `events: at most ${MAX_BATCH} records per request; got ${events.length}`);
      // The body's size says what checking it costs (the records' count does not: one may be 10 MiB).
      const length = Number(req.headers['content-length']);
      const res = await recordAgentDecisions(ctx.db, org_id, events, Number.isFinite(length) ? length : null, router);
      ctx.metrics.eventsRecorded.inc({ source: 'agent' }, res.newlyRecorded);
      const alreadyRecorded = res.accepted - res.newlyRecorded;
      req.log.info({ accepted: res.accepted, already_recorded: alreadyRecorded }, 'agent decisions recorded');
      if (res.newlyRecorded > 0) ctx.wakeLocalWorker();
      // Told to the agent too (an API client's review: an id reused for another decision was dropped
      // with the answer a fresh batch gets, so the agent never learnt its ids collide).
      return { accepted: res.accepted, preflight_ids: res.preflight_ids, already_recorded: alreadyRecorded };
    },
  });

  // The pull API, for SIEMs that poll: the org's recorded events in recording order, as a webhook
  // destination receives them. See events/pull.ts for why a cursor never skips or repeats an event.
  app.get('/api/orgs/:org_id/audit-events', {
    schema: {
      tags: ['audit events'],
      operationId: 'listAuditEvents',
      summary: 'Read recorded audit events, oldest recorded first, with a cursor to poll for more',
      security: SECURITY.apiRead,
      params: OrgParams,
      querystring: Type.Object(
        {
          limit: EVENTS_PAGE_LIMIT,
          cursor: Type.Optional(
            Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: MAX_CURSOR_LENGTH, description: 'next_cursor of the previous answer, as is.' }),
          ),
          since: Type.Optional(
            Type.String({ format: 'date-time', maxLength: 64, description: 'Only events whose @timestamp is at or after this time (RFC 3339).' }),
          ),
          until: Type.Optional(
            Type.String({ format: 'date-time', maxLength: 64, description: 'Only events whose @timestamp is before this time (RFC 3339).' }),
          ),
        },
        { additionalProperties: false },
      ),
      response: { 200: AuditEventsPageSchema, ...readErrors() },
    },
    // The events are stored wire events, sent as stored: their JSON texts spliced into the page
    // (events/pull.ts, api/storedJsonPage.ts), never parsed and written again. The published page
    // schema documents them; a schema-driven serializer would also match each against both event
    // schemas (anyOf) to write it.
    serializerCompiler: storedJsonSerializerCompiler,
    handler: async (req) => {
      const { org_id } = req.params;
      const q = req.query;
      // The schema's "date-time" format is looser than what the API takes: parseDateTime has the last word.
      const { since, until } = sinceUntil(q);
      const after = q.cursor === undefined ? null : decodePullCursor(ctx.keyRing, org_id, q.cursor);
      const page = await pullEvents(ctx.db, org_id, { after, since, until, limit: pageSize(q.limit, EVENTS_PAGE_LIMIT) });
      return {
        events: page.events.map((text) => new StoredJson(text)),
        next_cursor: encodePullCursor(ctx.keyRing, org_id, page.last ?? START),
        has_more: page.more,
      };
    },
  });
}
