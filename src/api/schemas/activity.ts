import { Type, type Static } from 'typebox';
import { pageLimit } from './common.js';
import { TRAIL_ACTIONS, type TrailAction } from '../../trail/contract.js';

/** One entry of the Activity page: a configuration trail event, flattened (names, never values). */
export const ActivityEntry = Type.Object(
  {
    event_id: Type.String({ description: 'The trail event\'s event.id ("cfg_..."), as forwarded to the SIEMs.' }),
    occurred_at: Type.String({ format: 'date-time', description: 'When the change was made.' }),
    action: Type.Unsafe<TrailAction>({ type: 'string', enum: [...TRAIL_ACTIONS], description: 'event.action: what changed.' }),
    outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')], { description: 'failure only for a test_sent whose event did not get through.' }),
    actor_type: Type.Union([Type.Literal('api_key'), Type.Literal('dashboard_session'), Type.Literal('cli')]),
    actor_id: Type.String({
      description:
        'key_<16 hex> (an API key), ses_<16 hex> (a dashboard session) or cli_<16 hex> (the command line, from the OS user and host): never the key or the cookie.',
    }),
    destination_id: Type.Union([Type.String(), Type.Null()], { description: 'The destination changed; null for notification settings.' }),
    siem: Type.Union([Type.String(), Type.Null()], { description: "The destination's SIEM preset; null for notification settings." }),
    destination_name: Type.Union([Type.String(), Type.Null()], {
      description:
        "The destination's name now (it may have been renamed since); null when it has none, was deleted, or for notification settings. Not part of the trail event.",
    }),
    changed_fields: Type.Array(Type.String(), { description: 'Names of the fields changed (url, options.index, filter, ...), never values.' }),
    summary: Type.String({ description: 'One line, as the SIEMs show it.' }),
  },
  { additionalProperties: false },
);
export type ActivityEntry = Static<typeof ActivityEntry>;

export const ActivityPage = Type.Object(
  {
    activity: Type.Array(ActivityEntry, { description: 'Newest first.' }),
    next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next (older) page; null on the last page.' }),
  },
  { additionalProperties: false },
);
export type ActivityPage = Static<typeof ActivityPage>;

export const ActivityQuery = Type.Object(
  {
    // Query strings are text: the API never coerces types, so the number is checked by pattern.
    limit: pageLimit(100, 50, 'Entries per page'),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,200}$', description: 'next_cursor of the previous page.' })),
  },
  { additionalProperties: false },
);
