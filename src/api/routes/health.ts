import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { timingSafeEqual } from 'node:crypto';
import { migrationsApplied } from '../../db/migrate.js';
import { digestKey } from '../../auth/apiKeys.js';
import { AppError } from '../../errors.js';

/**
 * With AEGIS_METRICS_TOKEN set, /metrics wants `Authorization: Bearer <token>`. Both sides are
 * digested first, so the comparison takes the same time whatever the length or the first wrong byte.
 */
function metricsTokenCheck(token: string | null): (authorization: string | undefined) => void {
  if (token === null) return () => undefined;
  const expected = digestKey(token);
  return (authorization) => {
    const given = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1] ?? '';
    if (!timingSafeEqual(digestKey(given), expected)) {
      throw new AppError('unauthorized', '/metrics requires "Authorization: Bearer <AEGIS_METRICS_TOKEN>".');
    }
  };
}

export function healthRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is up' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { tags: ['health'], summary: 'The database is reachable and migrated' } }, async (req, reply) => {
    try {
      if (!(await migrationsApplied(ctx.db))) return reply.status(503).send({ status: 'unavailable', reason: 'migrations not applied' });
      return { status: 'ready' };
    } catch (err) {
      req.log.warn({ err: (err as Error).message }, 'readiness check failed');
      return reply.status(503).send({ status: 'unavailable', reason: 'database unreachable' });
    }
  });

  const checkMetricsToken = metricsTokenCheck(ctx.config.metricsToken);
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics',
        description:
          'With AEGIS_METRICS_TOKEN set: requires `Authorization: Bearer <token>` and labels series per destination. Unset: open, aggregate series only.',
        hide: false,
      },
    },
    async (req, reply) => {
      checkMetricsToken(req.headers.authorization);
      const body = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(body);
    },
  );
}
