import { Type } from 'typebox';
import type { AppContext } from '../context.js';
import type { TypedApp } from '../typed.js';
import { errors, SECURITY } from '../schemas/common.js';
import { timingSafeEqual } from 'node:crypto';
import { migrationsApplied } from '../../db/migrate.js';
import { isReadOnlyRefusal } from '../../db/unavailable.js';
import { digestKey } from '../../auth/apiKeys.js';
import { bearerToken } from '../auth.js';
import { AppError } from '../../errors.js';
import { LineThrottle } from '../../lineThrottle.js';

/**
 * With AEGIS_METRICS_TOKEN set, /metrics wants `Authorization: Bearer <token>`. Both sides are
 * digested first, so the comparison takes the same time whatever the length or the first wrong byte.
 */
function metricsTokenCheck(token: string | null): (authorization: string | undefined) => void {
  if (token === null) return () => undefined;
  const expected = digestKey(token);
  return (authorization) => {
    const given = bearerToken(authorization) ?? '';
    if (!timingSafeEqual(digestKey(given), expected)) {
      throw new AppError('unauthorized', '/metrics requires "Authorization: Bearer <AEGIS_METRICS_TOKEN>".');
    }
  };
}

const Ready = Type.Object({ status: Type.Literal('ready') }, { additionalProperties: false });
const Unavailable = Type.Object(
  {
    status: Type.Literal('unavailable'),
    reason: Type.String({ description: 'migrations not applied, database read-only (writes refused), or database unreachable.' }),
  },
  { additionalProperties: false, description: 'Not ready: take this process out of rotation.' },
);

export function healthRoutes(app: TypedApp, ctx: AppContext): void {
  // A load balancer probes every few seconds, and anyone who reaches the port may probe as often as
  // they like: a line per failed probe filled the log for the whole of an outage (an observability
  // review counted 30 warn lines for 30 probes), when disk may be what ran out.
  const failedProbeLines = new LineThrottle(60_000);
  // Failed checks since the last that passed: the line saying the database is back carries it, so the
  // log bounds the outage though most failures were held back.
  let failedChecks = 0;
  // Probes and scrapers carry no API key: these routes need none (/metrics: see its description).
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        operationId: 'getHealth',
        summary: 'The process is up',
        security: SECURITY.none,
        response: { 200: Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        operationId: 'getReadiness',
        summary: 'The database is reachable and migrated',
        security: SECURITY.none,
        response: { 200: Ready, 503: Unavailable },
      },
    },
    async (req, reply) => {
      try {
        if (!(await migrationsApplied(ctx.db))) return reply.status(503).send({ status: 'unavailable', reason: 'migrations not applied' });
        if (failedChecks > 0) {
          req.log.info({ failed_checks: failedChecks }, 'readiness check passes again: the database is reachable');
          failedChecks = 0;
        }
        return { status: 'ready' as const };
      } catch (err) {
        failedChecks++;
        const heldBack = failedProbeLines.take((err as Error).message);
        if (heldBack !== null) req.log.warn({ err: (err as Error).message, failed_since_last_line: heldBack }, 'readiness check failed (logged once a minute)');
        return reply.status(503).send({ status: 'unavailable', reason: isReadOnlyRefusal(err) ? 'database read-only' : 'database unreachable' });
      }
    },
  );

  const checkMetricsToken = metricsTokenCheck(ctx.config.metricsToken);
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        description:
          'With AEGIS_METRICS_TOKEN set: requires `Authorization: Bearer <token>` and labels series per destination. Unset: open, aggregate series only.',
        hide: false,
        // The token is AEGIS_METRICS_TOKEN, not an API key; optional, so no security requirement is stated.
        security: SECURITY.none,
        response: {
          200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: Type.String() } } },
          ...errors([401, 500], { 401: 'unauthorized: AEGIS_METRICS_TOKEN is set and the request did not send it.' }),
        },
      },
    },
    async (req, reply) => {
      checkMetricsToken(req.headers.authorization);
      const body = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(body);
    },
  );
}
