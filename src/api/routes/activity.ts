import type { AppContext } from '../context.js';
import type { TypedApp } from '../typed.js';
import { OrgParams, pageSize, readErrors, SECURITY } from '../schemas/common.js';
import { ActivityPage, ActivityQuery, type ActivityEntry } from '../schemas/activity.js';
import { listTrail } from '../../trail/repository.js';
import { invalid } from '../../errors.js';
import { decodePageCursor, encodePageCursor } from '../pageCursor.js';
import { parseDateTime } from '../../events/dateTime.js';

/** The configuration trail for the dashboard's Activity page (docs/trail.md). */
export function activityRoutes(app: TypedApp, ctx: AppContext): void {
  app.get('/api/orgs/:org_id/activity', {
    schema: {
      tags: ['activity'],
      operationId: 'listActivity',
      summary: 'The configuration trail: who changed what in forwarding configuration, and when, newest first',
      description:
        'Every change to destinations and notification settings, as recorded (and forwarded to the SIEMs) with event.dataset "aegis.audit_stream". Field names only, never values. Kept as long as audit events (AEGIS_RETENTION_DAYS).',
      security: SECURITY.apiRead,
      params: OrgParams,
      querystring: ActivityQuery,
      response: { 200: ActivityPage, ...readErrors() },
    },
    handler: async (req): Promise<ActivityPage> => {
      const { org_id } = req.params;
      const q = req.query;
      const page = await listTrail(ctx.db, org_id, {
        limit: pageSize(q.limit, ActivityQuery.properties.limit),
        before: q.cursor === undefined ? null : decodeCursor(q.cursor),
      });
      return {
        activity: page.events.map(({ id, occurredAt, payload, destinationName }): ActivityEntry => ({
          event_id: id,
          occurred_at: occurredAt.toISOString(),
          action: payload.event.action,
          outcome: payload.event.outcome,
          actor_type: payload.aegis.actor_type,
          actor_id: payload.aegis.actor_id,
          destination_id: payload.aegis.destination_id ?? null,
          siem: payload.aegis.siem ?? null,
          destination_name: destinationName,
          changed_fields: payload.aegis.changed_fields,
          summary: payload.aegis.summary,
        })),
        next_cursor: page.last ? encodeCursor(page.last) : null,
      };
    },
  });
}

// The REST lists' one cursor form (pageCursor.ts), checked again here for this list's fields.
const PREFIX = 't1.';
function encodeCursor(p: { occurredAt: Date; id: string }): string {
  return encodePageCursor(PREFIX, [p.occurredAt.toISOString(), p.id]);
}
function decodeCursor(cursor: string): { occurredAt: Date; id: string } {
  const [at, id] = decodePageCursor(PREFIX, cursor, 2);
  // The API's one date-time reader: an edited cursor's year 0000 is a 400 here, not the database's 500.
  const occurredAt = parseDateTime(at ?? '');
  if (!id || !/^cfg_[A-Za-z0-9_-]{1,60}$/.test(id) || !occurredAt.ok) {
    throw invalid('cursor', 'is not a cursor this API gave out; pass next_cursor from the previous page as is');
  }
  return { occurredAt: occurredAt.date, id };
}
