// The synchronous test probe: one synthetic event sent now, its result answered and recorded.
import type { AppContext } from '../../context.js';
import type { TypedApp } from '../../typed.js';
import { DestinationParams, errors, SECURITY, writeErrors } from '../../schemas/common.js';
import { TestResult } from '../../schemas/destinations.js';
import * as svc from '../../../destinations/service.js';
import { ProbeRateLimiter } from '../../../destinations/probeRateLimiter.js';
import type { DestinationDeps } from '../../../destinations/deps.js';
import { probeDestination } from '../../../delivery/probe.js';
import { recordTrail } from '../../../trail/record.js';
import { actorOf } from '../../actor.js';
import { base, tags } from './shared.js';

export function destinationProbeRoutes(app: TypedApp, ctx: AppContext, deps: DestinationDeps): void {
  const probeLimiter = new ProbeRateLimiter();
  const orgProbeLimiter = new ProbeRateLimiter(30, 60_000, 'organization');

  app.post(`${base}/:destination_id/test`, {
    schema: {
      tags,
      operationId: 'testDestination',
      summary: 'Send a synthetic aegis.audit_stream.test event now and report the result',
      security: SECURITY.apiWrite,
      params: DestinationParams,
      response: {
        200: TestResult,
        ...writeErrors(),
        ...errors([429], {
          429: "rate_limited: at most 5 test probes a minute per destination and 30 per organization (counted by each API process), or too many of the organization's requests at once (AEGIS_API_MAX_CONCURRENT_PER_ORG); Retry-After says when to try again.",
        }),
      },
    },
    handler: async (req) => {
      const p = req.params;
      const dest = await svc.getDestinationView(deps, p.org_id, p.destination_id); // 404 before spending the rate limit
      probeLimiter.take(p.destination_id);
      orgProbeLimiter.take(p.org_id);
      const result = await probeDestination(ctx.delivery, p.org_id, p.destination_id);
      // Recorded after the probe, with its result: test_sent's outcome is whether the event got through.
      await recordTrail(ctx.db, {
        orgId: p.org_id,
        actor: actorOf(req),
        changes: [
          { action: 'test_sent', changedFields: [], destination: { id: p.destination_id, siem: dest.siem }, outcome: result.ok ? 'success' : 'failure' },
        ],
        router: ctx.filterRouter,
      });
      ctx.wakeLocalWorker();
      req.log.info({ destination_id: p.destination_id, ok: result.ok, status_code: result.status_code }, 'test probe');
      return result;
    },
  });
}
