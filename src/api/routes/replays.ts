import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../context.js';
import { DestinationParams } from '../schemas/common.js';
import { ReplayList, ReplayParams } from '../schemas/replays.js';
import { assertDestinationExists } from '../../destinations/service.js';
import { cancelRangeReplay, getReplayView, listReplayViews } from '../../replays/service.js';

const E = { 400: Type.Ref('ErrorBody'), 401: Type.Ref('ErrorBody'), 404: Type.Ref('ErrorBody') };
const tags = ['forwarding-destinations'];
const base = '/api/orgs/:org_id/forwarding-destinations/:destination_id/replays';

/** Background range replays (docs/history.md): follow, list and cancel. POST .../replay starts one. */
export function replayRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get(base, {
    schema: {
      tags,
      summary: "A destination's background range replays, newest first",
      params: DestinationParams,
      querystring: Type.Object(
        { limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]?|100)$', description: 'Replays to list, 1 to 100 (default 20).' })) },
        { additionalProperties: false },
      ),
      response: { 200: ReplayList, ...E },
    },
    handler: async (req) => {
      const p = req.params as { org_id: string; destination_id: string };
      const q = req.query as { limit?: string };
      await assertDestinationExists(ctx.db, p.org_id, p.destination_id); // 404 for an unknown destination
      return { replays: await listReplayViews(ctx.db, p.org_id, p.destination_id, q.limit === undefined ? 20 : Number(q.limit)) };
    },
  });

  app.get(`${base}/:replay_id`, {
    schema: { tags, summary: "A background range replay's status and progress", params: ReplayParams, response: { 200: Type.Ref('Replay'), ...E } },
    handler: async (req) => {
      const p = req.params as { org_id: string; destination_id: string; replay_id: string };
      return getReplayView(ctx.db, p.org_id, p.destination_id, p.replay_id);
    },
  });

  app.post(`${base}/:replay_id/cancel`, {
    schema: {
      tags,
      summary: 'Cancel a running range replay',
      description:
        'No batch is queued after this answers. Events the replay already queued stay queued and are delivered. Cancelling a cancelled replay answers it again.',
      params: ReplayParams,
      response: { 200: Type.Ref('Replay'), ...E, 409: Type.Ref('ErrorBody', { description: 'The replay has already finished or failed (conflict).' }) },
    },
    handler: async (req) => {
      const p = req.params as { org_id: string; destination_id: string; replay_id: string };
      const view = await cancelRangeReplay(ctx.db, p.org_id, p.destination_id, p.replay_id);
      req.log.info({ destination_id: p.destination_id, replay_id: p.replay_id, replayed: view.replayed }, 'range replay cancelled');
      return view;
    },
  });
}
