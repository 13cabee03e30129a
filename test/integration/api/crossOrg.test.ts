// Tenancy across the whole API: no organization reads or changes another's data through any route.
// The routes come from the app's own route table, so a route added later fails here until the
// matrix below says how to call it.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { agentRecord } from '../events/support.js';
import { seedEvents } from '../delivery/support.js';

/** Routes under /api/ that belong to no organization's path (the session names its own). */
const NOT_ORG_SCOPED = new Set(['GET /api/session', 'HEAD /api/session', 'POST /api/session/logout']);

/** Every "METHOD /path" the app serves: hidden routes and the HEAD Fastify adds to each GET included. */
function registeredRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  // Without a common prefix every line is a route, its path relative to the line it hangs from.
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    if (line.trim() === '') continue;
    const m = /^((?:│ {3}| {4})*)[├└]── (.*) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) throw new Error(`cannot read this line of the route table: ${line}`);
    stack.length = m[1]!.length / 4;
    stack.push(m[2]!);
    for (const method of m[3]!.split(', ')) routes.push(`${method} ${stack.join('')}`);
  }
  return routes;
}

interface Variant {
  body?: unknown;
  query?: string;
}
interface Ids {
  org: string;
  dest: string;
  replay: string;
}

describe.each(DB_KINDS)('no organization reaches another through any route (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;
  let A: { orgId: string; apiKey: string };
  let B: { orgId: string; apiKey: string };
  let a: Ids;
  let bDest: string;
  let deadJobA: number;
  let deadRowA: number;
  let eventsA: string[];
  let cursorA: string;
  let activityCursorA: string;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    // No worker and no replay runner: A's range replay stays running and nothing changes A's rows
    // behind the test's back, so "unchanged" is an exact comparison.
    svc = await startTestService(tdb.db, { AEGIS_REPLAY_BATCH: '10' }, 'api');
    receiver = await startReceiver();
    A = await svc.newOrg('Org A');
    B = await svc.newOrg('Org B');
    const asA = (method: string, path: string, body?: unknown) =>
      svc.request(method, `/api/orgs/${A.orgId}${path}`, { apiKey: A.apiKey, ...(body !== undefined ? { body } : {}) });

    const d = await asA('POST', '/forwarding-destinations', { url: `${receiver.url}/org-a-only`, name: 'org-a-secret-name', enabled: false });
    expect(d.status).toBe(201);
    eventsA = await seedEvents(tdb.db, A.orgId, 30);
    // More events than one batch: a background replay, answered 202 with its id.
    const r = await asA('POST', `/forwarding-destinations/${d.body.destination_id}/replay`, { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' });
    expect(r.status).toBe(202);
    a = { org: A.orgId, dest: d.body.destination_id, replay: r.body.replay_id };
    // A dead letter: one of the replay's jobs, failed for good (no worker runs to fail one).
    const dead = await tdb.db.query<{ id: string }>(
      `UPDATE forwarding_jobs SET status = 'failed', attempts = 4, settled_at = now(), last_error = 'planted'
        WHERE org_id = $1 AND id = (SELECT min(id) FROM forwarding_jobs WHERE org_id = $1 AND destination_id = $2) RETURNING id`,
      [A.orgId, a.dest],
    );
    deadRowA = Number(dead.rows[0]!.id);
    const deadLetters = (await asA('GET', `/forwarding-destinations/${a.dest}/failed-events`)).body.events;
    expect(deadLetters).toHaveLength(1);
    // The number A is shown for it (orgs/tenantNumbers.ts), which B may have got hold of.
    deadJobA = deadLetters[0].job_id;
    // A delivery-log row: the test probe.
    expect((await asA('POST', `/forwarding-destinations/${a.dest}/test`)).status).toBe(200);
    expect((await asA('GET', `/forwarding-destinations/${a.dest}/attempts`)).body.attempts.length).toBeGreaterThan(0);
    expect((await asA('PUT', '/notification-settings', { emails: [], webhook_url: `${receiver.url}/org-a-alerts` })).status).toBe(200);
    cursorA = (await asA('GET', '/audit-events?limit=5')).body.next_cursor;
    activityCursorA = (await asA('GET', '/activity?limit=1')).body.next_cursor;
    expect(cursorA).toBeTruthy();
    expect(activityCursorA).toBeTruthy();

    const bd = await svc.request('POST', `/api/orgs/${B.orgId}/forwarding-destinations`, {
      apiKey: B.apiKey,
      body: { url: `${receiver.url}/org-b`, enabled: false },
    });
    bDest = bd.body.destination_id;
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  /**
   * How to call each organization's route: valid requests (so that a refusal is the tenancy check's,
   * not a validation error), every form a route takes. A HEAD route is called as its GET.
   */
  function matrix(): Record<string, Variant[]> {
    const D = '/api/orgs/:org_id/forwarding-destinations';
    const one: Variant[] = [{}];
    return {
      [`GET ${D}`]: one,
      [`POST ${D}`]: [{ body: { url: `${receiver.url}/planted-by-b`, enabled: false } }],
      [`POST ${D}/filter-preview`]: [{ body: { filter: null } }, { body: { filter: { 'aegis.decision': 'ALLOWED_WITH_MASKING' } } }],
      [`GET ${D}/stats`]: one,
      [`GET ${D}/:destination_id`]: one,
      [`PATCH ${D}/:destination_id`]: [{ body: { name: 'hijacked', enabled: true, url: `${receiver.url}/planted-by-b` } }],
      [`DELETE ${D}/:destination_id`]: one,
      [`POST ${D}/:destination_id/test`]: one,
      [`GET ${D}/:destination_id/failed-events`]: one,
      // Both forms: dead letters (no body, {}, named jobs) and a time range.
      [`POST ${D}/:destination_id/replay`]: [
        {},
        { body: {} },
        { body: { job_ids: [deadJobA] } },
        { body: { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' } },
      ],
      [`GET ${D}/:destination_id/stats`]: one,
      [`GET ${D}/:destination_id/attempts`]: one,
      [`GET ${D}/:destination_id/replays`]: one,
      [`GET ${D}/:destination_id/replays/:replay_id`]: one,
      [`POST ${D}/:destination_id/replays/:replay_id/cancel`]: one,
      ['POST /api/orgs/:org_id/preflight']: [{ body: { input: 'hello from org b' } }],
      ['POST /api/orgs/:org_id/audit-events']: [{ body: { events: [agentRecord()] } }],
      ['GET /api/orgs/:org_id/audit-events']: [{}, { query: `cursor=${encodeURIComponent(cursorA)}` }],
      ['GET /api/orgs/:org_id/activity']: [{}, { query: `cursor=${encodeURIComponent(activityCursorA)}` }],
      ['GET /api/orgs/:org_id/notification-settings']: one,
      ['PUT /api/orgs/:org_id/notification-settings']: [{ body: { emails: [], webhook_url: `${receiver.url}/planted-by-b`, rotate_webhook_secret: true } }],
      ['POST /api/orgs/:org_id/login-links']: one,
    };
  }
  function variantsOf(route: string): Variant[] | undefined {
    const m = matrix();
    return m[route] ?? (route.startsWith('HEAD ') ? m[`GET ${route.slice(5)}`] : undefined);
  }

  function fill(template: string, ids: Ids): string {
    const path = template.replace(':org_id', ids.org).replace(':destination_id', ids.dest).replace(':replay_id', ids.replay);
    const unknown = /:\w+/.exec(path);
    if (unknown) throw new Error(`no id to put in ${unknown[0]} of ${template}: give it one in fill()`);
    return path;
  }

  /** A's data, row by row, from every table that holds an organization's rows. */
  async function snapshotOfA(): Promise<string[]> {
    const { rows: tables } = await tdb.db.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name IN ('org_id', 'id') ORDER BY table_name, column_name DESC`,
    );
    const out: string[] = [];
    const seen = new Set<string>();
    for (const { table_name: t, column_name: c } of tables) {
      // org_id sorts first: a table with both is read by org_id; orgs (id only) by its id.
      if (seen.has(t) || (c === 'id' && t !== 'orgs')) continue;
      seen.add(t);
      const { rows } = await tdb.db.query<{ j: string }>(`SELECT row_to_json(x)::text AS j FROM ${t} x WHERE ${c} = $1`, [A.orgId]);
      out.push(...rows.map((r) => `${t} ${r.j}`).sort());
    }
    return out;
  }

  it('every organization route is in the matrix', () => {
    const routes = registeredRoutes(svc.service.app!);
    const orgScoped = routes.filter((r) => (r.split(' ')[1]!.startsWith('/api/') || r.includes(':org_id')) && !NOT_ORG_SCOPED.has(r));
    expect(orgScoped.length).toBeGreaterThan(20);
    const missing = orgScoped.filter((r) => variantsOf(r) === undefined);
    expect(missing, 'routes this test does not call across organizations: add them to matrix()').toEqual([]);
    // And the matrix names no route that is gone (a renamed one would otherwise go untested).
    expect(Object.keys(matrix()).filter((r) => !routes.includes(r))).toEqual([]);
  });

  it("B's key answers 404 on A's path and on A's ids under its own path, leaks nothing and changes nothing", async () => {
    const routes = registeredRoutes(svc.service.app!).filter((r) => variantsOf(r) !== undefined);
    const viewA = (await svc.request('GET', `/api/orgs/${A.orgId}/forwarding-destinations/${a.dest}`, { apiKey: A.apiKey })).body;
    const settingsA = (await svc.request('GET', `/api/orgs/${A.orgId}/notification-settings`, { apiKey: A.apiKey })).body;
    const eventCountA = () => tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1', [A.orgId]).then((r) => r.rows[0]!.n);
    const eventsBefore = await eventCountA();
    const before = await snapshotOfA();
    // The snapshot reads what the test planted (a query gone wrong would compare nothing to nothing).
    for (const t of ['orgs', 'destinations', 'forwarding_jobs', 'delivery_attempts', 'replays', 'notification_settings', 'audit_events'])
      expect(before.some((row) => row.startsWith(`${t} `))).toBe(true);
    // What B must never see: A's ids, its destination's name and URLs, its events.
    const secrets = [A.orgId, a.dest, a.replay, 'org-a-secret-name', '/org-a-only', '/org-a-alerts', ...eventsA];
    const leaks: string[] = [];
    const refusedWrongly: string[] = [];

    const call = async (route: string, ids: Ids, v: Variant) => {
      const [method, template] = route.split(' ') as [string, string];
      const path = fill(template, ids) + (v.query ? `?${v.query}` : '');
      const res = await svc.request(method, path, { apiKey: B.apiKey, ...(v.body !== undefined ? { body: v.body } : {}) });
      const label = `${route} as B on ${ids.org === A.orgId ? "A's path" : "B's path"}${v.body !== undefined ? ` ${JSON.stringify(v.body)}` : ''}${v.query ? ` ?${v.query}` : ''}`;
      const found = secrets.filter((s) => res.text.includes(s) || [...res.headers.values()].some((h) => h.includes(s)));
      if (found.length > 0) leaks.push(`${label}: ${res.status} shows ${found.slice(0, 3).join(', ')}`);
      return { res, label };
    };
    const expect404 = async (route: string, ids: Ids, v: Variant) => {
      const { res, label } = await call(route, ids, v);
      const ok = res.status === 404 && (route.startsWith('HEAD ') || res.body?.error?.code === 'not_found');
      if (!ok) refusedWrongly.push(`${label}: ${res.status} ${res.text.slice(0, 120)}`);
    };

    for (const route of routes) {
      const template = route.split(' ')[1]!;
      for (const v of variantsOf(route)!) {
        // (1) A's path, A's ids.
        await expect404(route, a, v);
        // (2) B's own path naming A's destination (and replay).
        if (template.includes(':destination_id')) await expect404(route, { ...a, org: B.orgId }, v);
        // (3) B's own destination naming A's replay.
        if (template.includes(':replay_id')) await expect404(route, { org: B.orgId, dest: bDest, replay: a.replay }, v);
        // (4) B reading its own: none of A's data, whatever cursor it brings.
        if ((route.startsWith('GET ') || route.startsWith('HEAD ')) && !template.includes(':replay_id')) {
          const { res, label } = await call(route, { org: B.orgId, dest: bDest, replay: a.replay }, v);
          if (res.status >= 500) refusedWrongly.push(`${label}: ${res.status}`);
        }
      }
    }
    // B's own destination, replaying A's dead letter by the number A is shown and by its row id:
    // nothing of A's is queued.
    const named = await svc.request('POST', `/api/orgs/${B.orgId}/forwarding-destinations/${bDest}/replay`, {
      apiKey: B.apiKey,
      body: { job_ids: [deadJobA, deadRowA] },
    });
    expect(named.status).toBe(200);
    expect(named.body.replayed).toBe(0);
    // B's filter preview examines B's events only.
    const preview = await svc.request('POST', `/api/orgs/${B.orgId}/forwarding-destinations/filter-preview`, { apiKey: B.apiKey, body: { filter: null } });
    const countB = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1', [B.orgId]);
    expect(preview.body.of).toBe(countB.rows[0]!.n);

    expect(refusedWrongly).toEqual([]);
    expect(leaks).toEqual([]);
    // A's data is as it was: its destination, settings, events, dead letter and running replay.
    expect(await snapshotOfA()).toEqual(before);
    const asA = (path: string) => svc.request('GET', `/api/orgs/${A.orgId}${path}`, { apiKey: A.apiKey });
    expect((await asA(`/forwarding-destinations/${a.dest}`)).body).toEqual(viewA);
    expect((await asA('/notification-settings')).body).toEqual(settingsA);
    expect((await asA(`/forwarding-destinations/${a.dest}/replays/${a.replay}`)).body.status).toBe('running');
    expect((await asA(`/forwarding-destinations/${a.dest}/failed-events`)).body.events.map((e: { job_id: number }) => e.job_id)).toEqual([deadJobA]);
    expect(await eventCountA()).toBe(eventsBefore);
    expect(receiver.requests.filter((r) => r.path.includes('planted-by-b'))).toEqual([]);
  });
});
