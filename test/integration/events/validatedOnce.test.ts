import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { Ajv } from 'ajv';
import { openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { AuditEventsRequestSchema, PreflightRequestSchema } from '../../../src/api/schemas/published.js';
import { agentRecord } from './support.js';

/**
 * The producer routes check a body once: the producer (events/record.ts) checks it against the
 * published schema and the privacy guard, so Fastify's ajv must not run the same schema over the same
 * body first (a 1,000-record batch paid for both). Every validator compiled by ajv (Fastify's and the
 * API's own) is counted while it runs over a route body schema.
 */
describe('producer routes validate a body once', () => {
  let tdb: TestDb;
  let svc: TestService;
  let org: { orgId: string; apiKey: string };
  let spy: MockInstance;
  const runs = { PreflightRequest: 0, AuditEventsRequest: 0 };
  const named = new Map<string, keyof typeof runs>([
    [JSON.stringify(PreflightRequestSchema), 'PreflightRequest'],
    [JSON.stringify(AuditEventsRequestSchema), 'AuditEventsRequest'],
  ]);

  beforeAll(async () => {
    // Installed before the service starts: routes compile their validators when the app gets ready.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the instance as this
    const compile = Ajv.prototype.compile;
    spy = vi.spyOn(Ajv.prototype, 'compile').mockImplementation(function (this: Ajv, ...args: Parameters<Ajv['compile']>) {
      const fn = compile.apply(this, args);
      const name = named.get(JSON.stringify(args[0]));
      if (!name) return fn;
      return new Proxy(fn, {
        apply(target, thisArg, callArgs) {
          runs[name]++;
          return Reflect.apply(target, thisArg, callArgs) as unknown;
        },
      });
    } as Ajv['compile']);
    tdb = await openTestDb('pglite');
    svc = await startTestService(tdb.db);
    org = await svc.newOrg();
  });
  afterAll(async () => {
    spy?.mockRestore();
    await svc?.stop();
    await tdb?.close();
  });

  it('POST /audit-events: a valid batch is checked by the producer only', async () => {
    const before = runs.AuditEventsRequest;
    const events = [agentRecord(), agentRecord({ decision: 'BLOCKED' }), agentRecord({ actor_id: 'dana@example.com' })];
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/audit-events`, { apiKey: org.apiKey, body: { events } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.accepted).toBe(3);
    expect(runs.AuditEventsRequest - before).toBe(0);
  });

  it('POST /preflight: a valid body is checked by the producer only', async () => {
    const before = runs.PreflightRequest;
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/preflight`, { apiKey: org.apiKey, body: { input: 'hello', source_type: 'api' } });
    expect(res.status, res.text).toBe(200);
    expect(runs.PreflightRequest - before).toBe(0);
  });

  it('a body the producer cannot read is still refused by the route schema, every problem listed', async () => {
    // Also shows the counting above sees the route's body validator (a count of 0 elsewhere means something).
    const before = runs.AuditEventsRequest;
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/audit-events`, { apiKey: org.apiKey, body: { events: 'no', extra: 1 } });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/extra' }), expect.objectContaining({ path: '/events' })]));
    expect(runs.AuditEventsRequest - before).toBeGreaterThan(0);
    const beforePreflight = runs.PreflightRequest;
    const pf = await svc.request('POST', `/api/orgs/${org.orgId}/preflight`, { apiKey: org.apiKey, body: { input: 5 } });
    expect(pf.status, pf.text).toBe(400);
    expect(runs.PreflightRequest - beforePreflight).toBeGreaterThan(0);
  });
});
