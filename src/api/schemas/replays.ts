import { Type, type Static } from 'typebox';
import { pageLimit } from './common.js';
import { DESTINATION_ID_PATTERN, ORG_ID_PATTERN, REPLAY_ID_PATTERN } from '../../ids.js';
import { CAPPED_COUNT } from '../../queue/countCap.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const ReplayParams = Type.Object(
  {
    org_id: Type.String({ pattern: ORG_ID_PATTERN, maxLength: 64 }),
    destination_id: Type.String({ pattern: DESTINATION_ID_PATTERN, maxLength: 64 }),
    replay_id: Type.String({ pattern: REPLAY_ID_PATTERN, maxLength: 64 }),
  },
  { additionalProperties: false },
);

const Replayed = Type.Integer({ description: 'Events put (back) in the queue for this destination (for a background replay: so far).' });
const SkippedTooOld = Type.Integer({
  description: `Events left out because they are older than this SIEM keeps (Datadog 18 h, New Relic 48 h). Dead letters, and the events before a range replay's trimmed start, are ${CAPPED_COUNT} (a background replay adds those its walk found too old by then).`,
});
const SkippedTooFarAhead = Type.Integer({
  description: `Dead-letter replays only: dead letters left out because they are dated further ahead than this SIEM accepts (Datadog 2 h; the source's clock is likely wrong), ${CAPPED_COUNT}. A range replay trims its window's end instead and says so in message.`,
});
const Message = Nullable(
  Type.String({ description: 'Why some events were left out or the window was trimmed (and, when 202, where to follow the replay), or null.' }),
);

/** A background range replay: its window, status and progress. */
export const ReplayView = Type.Object(
  {
    replay_id: Type.String({ description: 'rpl_...' }),
    destination_id: Type.String(),
    status: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('cancelled'), Type.Literal('failed')], {
      description: 'running until the whole window is queued (done), it is cancelled, or it fails (error says why).',
    }),
    from: Type.String({ format: 'date-time', description: 'The window as requested (inclusive).' }),
    to: Type.String({
      format: 'date-time',
      description: "End of the window (exclusive): as requested, or earlier when trimmed to the SIEM's future window (Datadog: 2 h ahead; message says so).",
    }),
    start_at: Type.String({ format: 'date-time', description: 'Where the walk starts: from, or later when the window was trimmed.' }),
    replayed: Type.Integer({ description: 'Jobs queued for this destination so far.' }),
    scanned: Type.Integer({
      description:
        'Recorded events of the window walked so far (queued, filtered out, already waiting, or skipped as too old by the time the walk reached them).',
    }),
    total_estimate: Type.Integer({ description: 'Recorded events in [start_at, to) when the replay was accepted.' }),
    progress: Type.Number({ minimum: 0, maximum: 1, description: 'scanned / total_estimate, 1 when done.' }),
    position_at: Nullable(Type.String({ format: 'date-time', description: 'The @timestamp the walk has reached (its cursor); null before the first batch.' })),
    skipped_too_old: SkippedTooOld,
    filtered_out: Type.Integer({ description: "Events walked that do not match the destination's filter." }),
    already_pending: Type.Integer({ description: 'Events walked that were already waiting for this destination (not queued twice).' }),
    message: Nullable(Type.String({ description: 'Why the window was trimmed and why walked events made no job, or null.' })),
    error: Nullable(Type.String({ description: 'Why a failed replay stopped.' })),
    created_by: Type.String({ description: 'api_key, dashboard or cli.' }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time', description: 'Last progress.' }),
    finished_at: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'Replay' },
);
export type ReplayView = Static<typeof ReplayView>;

/** 200: the replay is complete (dead letters, or a window of at most one batch). */
export const ReplayDone = Type.Object({
  replayed: Replayed,
  skipped_too_old: SkippedTooOld,
  // Not in a range replay's answer: its far-ahead events are left out by trimming `to` (message).
  skipped_too_far_ahead: Type.Optional(SkippedTooFarAhead),
  message: Message,
});

/** 202: the window's first batch is queued, the rest runs in the background. */
export const ReplayAccepted = Type.Object({
  replayed: Replayed,
  skipped_too_old: SkippedTooOld,
  message: Message,
  replay_id: Type.String({ description: 'Follow it at GET .../replays/{replay_id}; cancel with POST .../replays/{replay_id}/cancel.' }),
  replay: Type.Ref('Replay'),
});

export const ReplayList = Type.Object({ replays: Type.Array(Type.Ref('Replay')) });

// The answers as clients read them: Type.Ref('Replay') has no static type of its own.
export type ReplayDoneView = Static<typeof ReplayDone>;
export type ReplayAcceptedView = Omit<Static<typeof ReplayAccepted>, 'replay'> & { replay: ReplayView };
/** A range replay's answer: queued at once (200, no replay_id) or running in the background (202). */
export type RangeReplayResult = ReplayDoneView & Partial<Pick<ReplayAcceptedView, 'replay_id' | 'replay'>>;
export type ReplayListView = { replays: ReplayView[] };

export const ReplayListQuery = Type.Object({ limit: pageLimit(100, 20, 'Replays to list') }, { additionalProperties: false });
