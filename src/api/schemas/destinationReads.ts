/**
 * The destination routes' pages, logs and charts, and the replay request: their query strings and
 * answers. (The destination itself, its create and PATCH bodies: destinations.ts.)
 */
import { Type, type Static } from 'typebox';
import { pageLimit } from './common.js';
import type { DestinationView } from './destinations.js';
import { CAPPED_COUNT } from '../../queue/countCap.js';
import { FILTERED_SCAN_ROWS } from '../../queue/attempts.js';
import { patternMeans } from '../../events/violation.js';

const NextCursor = Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last page.' });

/** Destinations per page when a request names no limit; the bare-array answer holds this many. */
export const DEFAULT_DESTINATIONS_PAGE = 100;

// Query strings are text: the API never coerces types, so numbers are checked by pattern.
export const DestinationsPageQuery = Type.Object(
  {
    limit: pageLimit(500, DEFAULT_DESTINATIONS_PAGE, 'Destinations per page'),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,400}$', description: 'next_cursor of the previous page.' })),
  },
  { additionalProperties: false },
);
export type DestinationsPageQuery = Static<typeof DestinationsPageQuery>;

// The destination as registered once under its $id (app.ts), referred to wherever an answer holds one:
// inlined, the document repeated its 6 KB five times and a generated client got five unrelated types
// for one destination (an API client's review).
export const DestinationRef = Type.Ref('Destination');

export const DestinationsPage = Type.Object({ destinations: Type.Array(DestinationRef), next_cursor: NextCursor });
// As clients read it: Type.Ref('Destination') has no static type of its own.
export type DestinationsPage = Omit<Static<typeof DestinationsPage>, 'destinations'> & { destinations: DestinationView[] };
export const DestinationList = Type.Union([
  DestinationsPage,
  Type.Array(DestinationRef, { description: 'Without limit and cursor (earlier clients): the first page as a bare array.' }),
]);

export const HourStat = Type.Object({ hour: Type.String({ format: 'date-time' }), delivered: Type.Integer(), failed: Type.Integer() });
export type HourStat = Static<typeof HourStat>;
export const DestinationStats = Type.Object({ hours: Type.Array(HourStat, { description: 'The last 24 hours, oldest first.' }) });
export const StatsPage = Type.Object({
  stats: Type.Array(
    Type.Object({
      destination_id: Type.String(),
      hours: Type.Array(HourStat),
      running_replay_id: Type.Union([Type.String(), Type.Null()], {
        description: 'The newest background range replay still running for it (GET .../replays/{replay_id}), or null.',
      }),
    }),
  ),
  next_cursor: NextCursor,
});
export type StatsPage = Static<typeof StatsPage>;

export const Deleted = Type.Object({ deleted: Type.Boolean(), cleared_events: Type.Integer({ description: 'Queued events dropped with it.' }) });
export type Deleted = Static<typeof Deleted>;

const BEFORE_ID_PATTERN = '^[0-9]{1,18}$';
patternMeans(BEFORE_ID_PATTERN, 'must be the next_before_id of the previous page: a whole number of up to 18 digits');

export const FailedEventsQuery = Type.Object(
  {
    limit: pageLimit(1000, 100, 'Dead letters per page'),
    before_id: Type.Optional(Type.String({ pattern: BEFORE_ID_PATTERN, description: 'next_before_id of the previous page.' })),
  },
  { additionalProperties: false },
);
export const FailedEvent = Type.Object({
  job_id: Type.Integer({
    minimum: 1,
    description:
      "This organization's number for the dead letter: pass it in job_ids to replay it. Numbers are unordered and stay the same for the dead letter; they are not row ids and say nothing about other organizations' activity.",
  }),
  event_id: Type.String(),
  attempts: Type.Integer(),
  last_error: Type.Union([Type.String(), Type.Null()]),
  last_status_code: Type.Union([Type.Integer(), Type.Null()]),
  failed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  event: Type.Unknown({ description: 'The wire event (metadata only), as it would be delivered.' }),
});
export type FailedEvent = Static<typeof FailedEvent>;
export const FailedEventsPage = Type.Object({
  events: Type.Array(FailedEvent, { description: 'Newest first.' }),
  total: Type.Integer({
    description: `Dead letters of this destination in all, ${CAPPED_COUNT} (the count stops there, so a page costs the same whatever the backlog).`,
  }),
  next_before_id: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as before_id for the next page; null on the last page.' }),
});
export type FailedEventsPage = Static<typeof FailedEventsPage>;

export const AttemptsQuery = Type.Object(
  {
    limit: pageLimit(500, 50, 'Entries per page'),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,40}$', description: 'next_cursor of the previous page.' })),
    outcome: Type.Optional(
      Type.Union([Type.Literal('failed'), Type.Literal('delivered')], {
        description: 'failed: requests that recorded an error; delivered: those that did not.',
      }),
    ),
    since: Type.Optional(Type.String({ format: 'date-time', maxLength: 64, description: 'Only requests at or after this time.' })),
    until: Type.Optional(Type.String({ format: 'date-time', maxLength: 64, description: 'Only requests before this time.' })),
  },
  { additionalProperties: false },
);
export type AttemptsQuery = Static<typeof AttemptsQuery>;
export const Attempt = Type.Object({
  attempted_at: Type.String({ format: 'date-time' }),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  event_count: Type.Integer(),
  delivered_count: Type.Integer(),
  failed_count: Type.Integer(),
  duration_ms: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  response_snippet: Type.Union([Type.String(), Type.Null()]),
});
export type Attempt = Static<typeof Attempt>;
export const AttemptsPage = Type.Object({
  attempts: Type.Array(Attempt),
  next_cursor: Type.Union([Type.String(), Type.Null()], {
    description: `Pass as cursor for the next (older) page; null on the last page. With outcome, since or until, one page examines at most ${FILTERED_SCAN_ROWS} entries of the log, newest first, so it may hold fewer entries than limit, or none, and still have a next_cursor: follow it until it is null.`,
  }),
});
export type AttemptsPage = Static<typeof AttemptsPage>;

export const ReplayBody = Type.Object(
  {
    job_ids: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), { maxItems: 1000, description: 'Dead letters to replay (default: all).' }),
    ),
    from: Type.Optional(Type.String({ format: 'date-time', maxLength: 64, description: 'Start of the window (inclusive), RFC 3339. Needs to.' })),
    to: Type.Optional(Type.String({ format: 'date-time', maxLength: 64, description: 'End of the window (exclusive), RFC 3339. Needs from.' })),
  },
  { additionalProperties: false },
);
export type ReplayBody = Static<typeof ReplayBody>;
