import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPrivatePostgres, type PrivatePostgres } from '../support/privatePostgres.js';
import { slow, startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { spawnWorker, stopWorkers, type WorkerProcess } from '../support/workerProcess.js';
import { receivedCounts, sleep } from '../integration/delivery/support.js';
import { generateKeyBase64 } from '../../src/crypto/keyring.js';
import { openPg } from '../../src/db/pg.js';
import { isDatabaseUnavailable } from '../../src/db/unavailable.js';

// The database server itself restarts (stop, then start: a maintenance restart or a managed
// database's failover), not just a backend terminated. On a private PostgreSQL instance this test
// starts itself, so stopping it disturbs nothing else on the machine. Real service processes in the
// api, worker and all-in-one roles; agents keep posting throughout.
describe('faults: PostgreSQL restarts (private server)', () => {
  let server: PrivatePostgres;
  const key = generateKeyBase64();
  let procs: WorkerProcess[] = [];
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    server = await startPrivatePostgres();
  }, 180_000);
  afterEach(async () => {
    await stopWorkers(procs);
    procs = [];
    for (const r of receivers.splice(0)) await r.close();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  /** A fresh database on the private server for one scenario. */
  async function database(): Promise<string> {
    const name = `s_${randomBytes(5).toString('hex')}`;
    const admin = openPg({ connectionString: server.url, max: 1 });
    await admin.exec(`CREATE DATABASE ${name}`);
    await admin.close();
    return server.url.replace(/\/postgres$/, `/${name}`);
  }

  function spawn(role: 'api' | 'worker' | 'all', databaseUrl: string, orgId: string, apiKey: string): WorkerProcess {
    const p = spawnWorker({
      role,
      databaseUrl,
      encryptionKey: key,
      env: { AEGIS_BOOTSTRAP_ORG_ID: orgId, AEGIS_BOOTSTRAP_API_KEY: apiKey, AEGIS_HTTP_TIMEOUT_MS: '10000' },
    });
    procs.push(p);
    return p;
  }

  const alive = (p: WorkerProcess) => p.proc.exitCode === null && p.proc.signalCode === null;

  /**
   * Agents posting one decision record every 50 ms each (`parallel` of them: with many requests in
   * flight, the restart catches pooled connections in every state: idle, mid-transaction, connecting).
   * Remembers what was accepted and every answer.
   */
  function agent(base: string, orgId: string, apiKey: string, parallel = 1) {
    const accepted: string[] = [];
    const answers: Array<{ status: number; retryAfter: string | null } | { error: string }> = [];
    let stop = false;
    let n = 0;
    const one = async () => {
      while (!stop) {
        const preflightId = `pflt_agent_${n++}_${randomBytes(3).toString('hex')}`;
        try {
          const res = await fetch(`${base}/api/orgs/${orgId}/audit-events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ events: [record(preflightId)] }),
            signal: AbortSignal.timeout(60_000),
          });
          answers.push({ status: res.status, retryAfter: res.headers.get('retry-after') });
          const body = (await res.json()) as { preflight_ids?: string[] };
          if (res.status === 200) accepted.push(...(body.preflight_ids ?? []));
        } catch (err) {
          answers.push({ error: (err as Error).message });
        }
        await sleep(50);
      }
    };
    const loops = Array.from({ length: parallel }, one);
    return {
      accepted,
      answers,
      async stop() {
        stop = true;
        await Promise.all(loops);
      },
    };
  }

  async function createDestination(base: string, orgId: string, apiKey: string, r: Receiver): Promise<string> {
    const res = await fetch(`${base}/api/orgs/${orgId}/forwarding-destinations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${r.url}/hook`, auth_header_name: 'Authorization', auth_header_value: 'Bearer restart-test' }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { destination_id: string }).destination_id;
  }

  async function readyz(base: string): Promise<number> {
    try {
      return (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(30_000) })).status;
    } catch {
      return -1;
    }
  }

  /** Every accepted event arrived; returns how many arrived more than once. */
  async function everyEventDelivered(r: Receiver, accepted: string[]): Promise<number> {
    await r.waitFor(() => {
      const got = receivedCounts(r.requests);
      return accepted.every((id) => got.has(id));
    }, 180_000);
    const got = receivedCounts(r.requests);
    return [...got.values()].reduce((a, b) => a + b, 0) - got.size;
  }

  function expectOnly200or503(answers: ReturnType<typeof agent>['answers']): number {
    // Never a dropped connection, never a 500: 200, or 503 with Retry-After while the server is away.
    for (const a of answers) {
      expect(a).not.toHaveProperty('error');
      if ('status' in a && a.status !== 200) {
        expect(a.status).toBe(503);
        expect(a.retryAfter).toMatch(/^\d+$/);
      }
    }
    return answers.filter((a) => 'status' in a && a.status === 503).length;
  }

  it('a pooled connection cut mid-transaction (checked out, between statements) fails that transaction, not the process', async () => {
    const db = openPg({ connectionString: await database(), max: 2 });
    try {
      await db.exec('CREATE TABLE t (n int)');
      const tx = db.transaction(async (q) => {
        await q.query('INSERT INTO t VALUES (1)');
        // The server goes away while this client is checked out and idle: node-postgres reports it
        // as an 'error' event on the client, which used to have no listener and killed the process.
        await server.stop();
        await sleep(500);
        await q.query('INSERT INTO t VALUES (2)');
      });
      const err = await tx.then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err).not.toBeNull();
      expect(isDatabaseUnavailable(err)).toBe(true);
      await server.start();
      // The pool replaced the broken connection; nothing of the failed transaction was kept.
      await expect
        .poll(async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM t').catch(() => ({ rows: [{ n: -1 }] }))).rows[0]!.n, {
          timeout: 60_000,
        })
        .toBe(0);
    } finally {
      await db.close();
    }
  });

  it('all-in-one: a restart mid-ingest and mid-delivery; the process stays up and delivers everything', async () => {
    const url = await database();
    const orgId = `org_restart_${randomBytes(4).toString('hex')}`;
    const apiKey = `aeg_${randomBytes(24).toString('hex')}`;
    const r = await startReceiver(slow(20));
    receivers.push(r);
    const svc = spawn('all', url, orgId, apiKey);
    const base = await svc.ready(60_000);
    await createDestination(base, orgId, apiKey, r);

    const a = agent(base, orgId, apiKey, 12);
    await expect.poll(() => a.accepted.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(100);
    await server.stop();
    // While it is away: the API refuses with 503 + Retry-After and /readyz says unavailable.
    await expect.poll(() => readyz(base), { timeout: 60_000, interval: 250 }).toBe(503);
    // A load balancer keeps probing through the outage: a line a minute at most, not one per probe.
    const probesFrom = performance.now();
    for (let i = 0; i < 20; i++) expect(await readyz(base)).toBe(503);
    const probeMinutes = Math.floor((performance.now() - probesFrom) / 60_000);
    expect(svc.lines.filter((l) => l.includes('readiness check failed')).length).toBeLessThanOrEqual(1 + probeMinutes + 1);
    // ...and the first is written at once (the process's first failed check).
    await expect.poll(() => svc.lines.filter((l) => l.includes('readiness check failed')).length).toBeGreaterThanOrEqual(1);
    const acceptedBefore = a.accepted.length;
    await sleep(2_000);
    await server.start();
    await expect.poll(() => readyz(base), { timeout: 90_000, interval: 250 }).toBe(200);
    // The end of the outage is in the log too, with how many checks failed (at least the 21 above).
    await expect.poll(() => svc.lines.find((l) => l.includes('readiness check passes again'))).toMatch(/"failed_checks":(2[1-9]|[3-9]\d|\d{3,})/);
    await expect.poll(() => a.accepted.length, { timeout: 90_000 }).toBeGreaterThan(acceptedBefore + 20);
    await a.stop();

    expect(alive(svc)).toBe(true);
    const refused = expectOnly200or503(a.answers);
    expect(refused).toBeGreaterThan(0); // the outage was really seen by the agent
    const duplicates = await everyEventDelivered(r, a.accepted);
    // Duplicates only from requests in flight when the server went away (one lane's claim at most).
    expect(duplicates).toBeLessThanOrEqual(3 * 64);
    // The outage was logged once, not once per connection or per request.
    expect(svc.lines.filter((l) => l.includes('database connection lost')).length).toBe(1);
    expect(svc.lines.some((l) => l.includes('Unhandled') || l.includes('"level":60'))).toBe(false);
  });

  it('api and worker processes: a 30 s outage in the middle of a drain; both stay up and catch up', async () => {
    const url = await database();
    const orgId = `org_restart_${randomBytes(4).toString('hex')}`;
    const apiKey = `aeg_${randomBytes(24).toString('hex')}`;
    // A slow SIEM keeps the drain going while the server stops.
    const r = await startReceiver(slow(100));
    receivers.push(r);
    const api = spawn('api', url, orgId, apiKey);
    const base = await api.ready(60_000);
    await createDestination(base, orgId, apiKey, r);

    // A backlog of 600 events, then the worker starts draining it.
    const backlog: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${base}/api/orgs/${orgId}/audit-events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events: Array.from({ length: 100 }, (_, k) => record(`pflt_backlog_${i}_${k}`)) }),
      });
      expect(res.status).toBe(200);
      backlog.push(...((await res.json()) as { preflight_ids: string[] }).preflight_ids);
    }
    const worker = spawn('worker', url, orgId, apiKey);
    const workerBase = await worker.ready(60_000);
    await r.waitFor((reqs) => reqs.length >= 30, 120_000);
    expect(r.requests.length).toBeLessThan(600); // mid-drain

    const a = agent(base, orgId, apiKey);
    await expect.poll(() => a.accepted.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(10);
    await server.stop();
    await expect.poll(() => readyz(base), { timeout: 60_000, interval: 250 }).toBe(503);
    await expect.poll(() => readyz(workerBase), { timeout: 60_000, interval: 250 }).toBe(503);
    await sleep(30_000);
    expect(alive(api)).toBe(true);
    expect(alive(worker)).toBe(true);
    await server.start();
    await expect.poll(() => readyz(base), { timeout: 90_000, interval: 250 }).toBe(200);
    await expect.poll(() => readyz(workerBase), { timeout: 90_000, interval: 250 }).toBe(200);
    const acceptedBefore = a.accepted.length;
    await expect.poll(() => a.accepted.length, { timeout: 90_000 }).toBeGreaterThan(acceptedBefore + 10);
    await a.stop();

    expect(alive(api)).toBe(true);
    expect(alive(worker)).toBe(true);
    expect(expectOnly200or503(a.answers)).toBeGreaterThan(0);
    // The LISTEN connection came back: events posted after the restart arrive without waiting for the
    // 10 s safety-net poll to find them (the worker's interval here is 1 s, so this checks delivery
    // itself; the log line checks the subscription).
    const duplicates = await everyEventDelivered(r, [...backlog, ...a.accepted]);
    expect(duplicates).toBeLessThanOrEqual(3 * 64);
    await worker.waitForLine((l) => l.includes('LISTEN connection restored'), 60_000);
    await worker.waitForLine((l) => l.includes('delivery resumed'), 60_000);
    for (const p of [api, worker]) expect(p.lines.some((l) => l.includes('Unhandled') || l.includes('"level":60'))).toBe(false);
  });
});

/** A valid agent decision record (the aegis fields of the wire event). */
function record(preflightId: string): Record<string, unknown> {
  return {
    preflight_id: preflightId,
    decision: 'ALLOWED',
    destination: 'AI_TOOL',
    summary: 'No findings.',
    policy_version: 'v1.0',
    policy_id: 'pol_default',
    source_type: 'desktop_agent',
    input_type: 'text',
    input_size_bytes: 120,
    finding_counts_by_type: {},
  };
}
