import { Type } from 'typebox';
import type { AppContext } from '../context.js';
import type { TypedApp } from '../typed.js';
import { DestinationParams, errors, pageSize, readErrors, SECURITY, writeErrors } from '../schemas/common.js';
import { ReplayList, ReplayListQuery, ReplayParams } from '../schemas/replays.js';
import { assertDestinationExists } from '../../destinations/service.js';
import { cancelRangeReplay, getReplayView, listReplayViews } from '../../replays/service.js';
import { base as destinationsBase, tags } from './destinations/shared.js';

const base = `${destinationsBase}/:destination_id/replays`;

/** Background range replays (docs/history.md): follow, list and cancel. POST .../replay starts one. */
export function replayRoutes(app: TypedApp, ctx: AppContext): void {
  app.get(base, {
    schema: {
      tags,
      operationId: 'listReplays',
      summary: "A destination's background range replays, newest first",
      security: SECURITY.apiRead,
      params: DestinationParams,
      querystring: ReplayListQuery,
      response: { 200: ReplayList, ...readErrors() },
    },
    handler: async (req) => {
      const p = req.params;
      const q = req.query;
      await assertDestinationExists(ctx.db, p.org_id, p.destination_id); // 404 for an unknown destination
      return { replays: await listReplayViews(ctx.db, p.org_id, p.destination_id, pageSize(q.limit, ReplayListQuery.properties.limit)) };
    },
  });

  app.get(`${base}/:replay_id`, {
    schema: {
      tags,
      operationId: 'getReplay',
      summary: "A background range replay's status and progress",
      security: SECURITY.apiRead,
      params: ReplayParams,
      response: { 200: Type.Ref('Replay'), ...readErrors() },
    },
    handler: async (req) => {
      const p = req.params;
      await assertDestinationExists(ctx.db, p.org_id, p.destination_id); // 404 for an unknown or deleted destination
      return getReplayView(ctx.db, p.org_id, p.destination_id, p.replay_id);
    },
  });

  app.post(`${base}/:replay_id/cancel`, {
    schema: {
      tags,
      operationId: 'cancelReplay',
      summary: 'Cancel a running range replay',
      description:
        'No batch is queued after this answers. Events the replay already queued stay queued and are delivered. Cancelling a cancelled replay answers it again.',
      security: SECURITY.apiWrite,
      params: ReplayParams,
      response: { 200: Type.Ref('Replay'), ...writeErrors(), ...errors([409], { 409: 'conflict: the replay has already finished or failed.' }) },
    },
    handler: async (req) => {
      const p = req.params;
      await assertDestinationExists(ctx.db, p.org_id, p.destination_id); // 404 for an unknown or deleted destination
      const view = await cancelRangeReplay(ctx.db, p.org_id, p.destination_id, p.replay_id);
      req.log.info({ destination_id: p.destination_id, replay_id: p.replay_id, replayed: view.replayed }, 'range replay cancelled');
      return view;
    },
  });
}
