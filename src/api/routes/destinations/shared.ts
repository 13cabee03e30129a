// What every destination route module shares: the OpenAPI tag, the collection path and the
// destination service's dependencies, built once from the app's context.
import type { AppContext } from '../../context.js';
import type { DestinationDeps } from '../../../destinations/deps.js';

export const tags = ['forwarding-destinations'];
export const base = '/api/orgs/:org_id/forwarding-destinations';

export function destinationDeps(ctx: AppContext): DestinationDeps {
  return {
    db: ctx.db,
    keyRing: ctx.keyRing,
    allowPrivate: ctx.config.allowPrivateDestinations,
    limits: ctx.config.orgLimits,
    signingOverlapHours: ctx.config.signingOverlapHours,
    maxHoldHours: ctx.config.maxHoldHours,
    router: ctx.filterRouter,
    logger: ctx.logger,
    backlog: ctx.backlog,
  };
}
