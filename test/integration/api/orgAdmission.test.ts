// One organization's flood must not slow another's requests (api/orgAdmission.ts): with
// AEGIS_API_MAX_CONCURRENT_PER_ORG=2 the service serves two of an organization's requests at a time,
// queues 128 more (64 per place), and refuses the rest with 429. Requests are held in flight without
// timing: a POST whose Content-Length promises more body than the client has sent keeps its place
// while the server waits for the rest. The gate sits before the database work, so one database
// kind is enough here.
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver, type ReceiverResponse } from '../../support/httpsReceiver.js';
import { serviceWithOrg } from '../../support/serviceWithOrg.js';
import { agentRecord } from '../events/support.js';
import { scrapeMetric } from '../../support/metrics.js';

const POLL = { timeout: 30_000, interval: 50 };
/** 64 waiting per place (QUEUED_PER_PLACE) at AEGIS_API_MAX_CONCURRENT_PER_ORG=2. */
const QUEUED = 128;

interface Held {
  socket: Socket;
  /** Everything the server has answered so far ('' while it has not answered). */
  answer(): string;
  /** Sends the rest of the body: a valid batch, so the request completes 200. */
  finish(): void;
}

describe('per-organization admission (AEGIS_API_MAX_CONCURRENT_PER_ORG=2)', () => {
  const t = serviceWithOrg('pglite', { AEGIS_API_MAX_CONCURRENT_PER_ORG: '2' });
  const open: Socket[] = [];
  let seq = 0;

  afterEach(async () => {
    for (const s of open.splice(0)) s.destroy();
    // Every place and queue slot comes back when the clients go, so the next test starts clean.
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(0);
  });

  const port = () => new URL(t.svc.baseUrl).port;

  /**
   * A POST audit-events of `org` with its headers and the first bytes of its body sent; the rest held
   * back. Returns once the gate has it (admitted or waiting), so what the test sends next comes after
   * it: authentication before the gate takes a moment, and a request sent later could overtake it.
   */
  async function hold(org: { orgId: string; apiKey: string }, { untilAtGate = true } = {}): Promise<Held> {
    const before = untilAtGate ? await atGate() : 0;
    const body = JSON.stringify({ events: [agentRecord({ preflight_id: `pflt_gate_${String(seq++).padStart(8, '0')}` })] });
    const head = [
      `POST /api/orgs/${org.orgId}/audit-events HTTP/1.1`,
      `Host: 127.0.0.1:${port()}`,
      `Authorization: Bearer ${org.apiKey}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      '',
      '',
    ].join('\r\n');
    const socket = connect(Number(port()), '127.0.0.1');
    open.push(socket);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(head + body.slice(0, 10));
    if (untilAtGate) await expect.poll(atGate, POLL).toBe(before + 1);
    return { socket, answer: () => answer, finish: () => void socket.write(body.slice(10)) };
  }

  const metric = (name: string) => scrapeMetric(t.svc, name);
  /** Refusals of every reason. */
  const refusedTotal = async () => (await scrapeMetric(t.svc, 'aegis_api_requests_refused_total')) || 0;

  /** Requests the gate holds, admitted or waiting: one scrape, so the two figures are of one moment. */
  async function atGate(): Promise<number> {
    const res = await t.svc.request('GET', '/metrics');
    const value = (name: string) => Number(/^(\S+) (\S+)$/m.exec(res.text.split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[2] ?? NaN);
    return value('aegis_api_requests_in_flight') + value('aegis_api_requests_waiting');
  }

  /** A complete request of `org`, not awaited: whether it has been answered is read from `settled`. */
  function complete(org: { orgId: string; apiKey: string }) {
    const r = { settled: false, status: 0 };
    const done = t.svc
      .request('POST', `/api/orgs/${org.orgId}/audit-events`, {
        apiKey: org.apiKey,
        body: { events: [agentRecord({ preflight_id: `pflt_gate_${String(seq++).padStart(8, '0')}` })] },
      })
      .then((res) => {
        r.settled = true;
        r.status = res.status;
        return res;
      });
    return { r, done };
  }

  it('refused requests (validation 400, bad JSON) give their place back', async () => {
    const org = t.org;
    for (let i = 0; i < 3; i++) {
      const bad = await t.svc.request('POST', `/api/orgs/${org.orgId}/audit-events`, { apiKey: org.apiKey, rawBody: '{"events": [' });
      expect(bad.status).toBe(400);
      const invalid = await t.svc.request('POST', `/api/orgs/${org.orgId}/audit-events`, { apiKey: org.apiKey, body: { events: [{ decision: 'NO' }] } });
      expect(invalid.status).toBe(400);
      const badId = await t.svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/not-an-id`, { apiKey: org.apiKey });
      expect(badId.status).toBe(400);
    }
    // Both places are free: two held requests are admitted (none waits), a third waits.
    await hold(org);
    await hold(org);
    const third = complete(org);
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(1);
    expect(third.r.settled).toBe(false);
  });

  it("another organization is answered at once while one holds its places; A's third waits for a place to come back", async () => {
    const a = t.org;
    const b = await t.svc.newOrg('Quiet B');
    const [a1, a2] = [await hold(a), await hold(a)];
    const a3 = complete(a);
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(1);

    // (a) B is not queued behind A: answered while A's three are still open.
    const preflight = await t.svc.request('POST', `/api/orgs/${b.orgId}/preflight`, {
      apiKey: b.apiKey,
      body: { input: 'hello', destination: 'AI_TOOL', source_type: 'api', input_type: 'text' },
    });
    expect(preflight.status, preflight.text).toBe(200);
    const list = await t.svc.request('GET', `/api/orgs/${b.orgId}/forwarding-destinations`, { apiKey: b.apiKey });
    expect(list.status).toBe(200);
    // (b) A's third is still waiting, and nothing has been answered to A.
    expect(a3.r.settled).toBe(false);
    expect([a1.answer(), a2.answer()]).toEqual(['', '']);

    // A place comes back when a held request completes: the waiting one is then served.
    a1.finish();
    await expect.poll(() => a1.answer(), POLL).toMatch(/^HTTP\/1\.1 200 /);
    expect((await a3.done).status).toBe(200);

    // ...and when a held request's client goes away.
    const a4 = await hold(a);
    const a5 = complete(a);
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(1);
    expect(a5.r.settled).toBe(false);
    a2.socket.destroy();
    expect((await a5.done).status).toBe(200);
    expect(a4.answer()).toBe('');
  });

  it('with the queue full, the next request of that organization gets 429 rate_limited with Retry-After', async () => {
    const a = await t.svc.newOrg('Flooding A');
    const b = await t.svc.newOrg('Quiet B');
    const refusedBefore = await metric('aegis_api_requests_refused_total');
    await hold(a);
    await hold(a);
    const queued = await Promise.all(Array.from({ length: QUEUED }, () => hold(a, { untilAtGate: false })));
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(QUEUED);

    const refused = await t.svc.request('GET', `/api/orgs/${a.orgId}/forwarding-destinations`, { apiKey: a.apiKey });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.error.code).toBe('rate_limited');
    expect(refused.body.error.message).toMatch(/served 2 at a time \(AEGIS_API_MAX_CONCURRENT_PER_ORG\) and 128 more may wait/);
    expect((await metric('aegis_api_requests_refused_total')) - (Number.isNaN(refusedBefore) ? 0 : refusedBefore)).toBe(1);
    const warned = t.svc.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 40 && l.org_id === a.orgId);
    expect(warned).toEqual([expect.objectContaining({ reason: 'queue_full', max_concurrent: 2 })]);
    expect(t.svc.logs.text()).not.toContain(a.apiKey);

    // B still goes straight through.
    const list = await t.svc.request('GET', `/api/orgs/${b.orgId}/forwarding-destinations`, { apiKey: b.apiKey });
    expect(list.status).toBe(200);

    // Clients that leave while waiting give their queue slot back: one more may wait again.
    queued[0]!.socket.destroy();
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(QUEUED - 1);
    await hold(a);
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(QUEUED);
  });

  it("a pipelined request's place comes back when its client leaves before its turn on the connection", async () => {
    // Node answers pipelined requests of one connection in order: a request queued behind another on
    // a socket that closes is destroyed without its response ever emitting 'close'.
    const a = await t.svc.newOrg('Pipelining A');
    const refusedBefore = await refusedTotal();
    const [h1, h2] = [await hold(a), await hold(a)];
    const get = (n: number) =>
      [`GET /api/orgs/${a.orgId}/forwarding-destinations?n=${n} HTTP/1.1`, `Host: 127.0.0.1:${port()}`, `Authorization: Bearer ${a.apiKey}`, '', ''].join(
        '\r\n',
      );
    const pipelined = connect(Number(port()), '127.0.0.1');
    open.push(pipelined);
    pipelined.on('error', () => undefined);
    await new Promise<void>((resolve) => pipelined.once('connect', resolve));
    pipelined.write(get(1) + get(2));
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(2);
    pipelined.destroy();
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(0);
    // Gone from the queue because the client left, not refused when their wait ran out.
    expect(await refusedTotal()).toBe(refusedBefore);
    // The held requests complete; their places are free again, not given to the pipelined ones.
    h1.finish();
    h2.finish();
    await expect.poll(() => h1.answer() + h2.answer(), POLL).toMatch(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 200 /);
    await expect.poll(() => metric('aegis_api_requests_in_flight'), POLL).toBe(0);
    const after = await t.svc.request('GET', `/api/orgs/${a.orgId}/forwarding-destinations`, { apiKey: a.apiKey });
    expect(after.status).toBe(200);
  });

  it('every place comes back once all clients have left', async () => {
    const a = await t.svc.newOrg('Leaving A');
    for (let i = 0; i < 6; i++) await hold(a, { untilAtGate: false });
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(4);
    for (const s of open.splice(0)) s.destroy();
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(0);
    // Both places are free again: two held are admitted (nobody waits) and a third waits.
    await hold(a);
    await hold(a);
    const third = complete(a);
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(1);
    expect(third.r.settled).toBe(false);
  });
});

// A place is held until the route's handler has finished, not only until the client is gone: Fastify
// does not stop a handler when its client disconnects, so giving the place back on 'close' let one
// organization run any number of handlers at once by sending requests and dropping each connection.
// The handler held here is a destination's test probe, waiting on a receiver that answers only when
// the test says so.
describe('a place is held until the handler ends, client gone or not (AEGIS_API_MAX_CONCURRENT_PER_ORG=1)', () => {
  // The probe's own timeout at its ceiling: the probe must end because the test released it, not by itself.
  const t = serviceWithOrg('pglite', { AEGIS_API_MAX_CONCURRENT_PER_ORG: '1', AEGIS_HTTP_TIMEOUT_MS: '120000' });
  const receivers: Receiver[] = [];
  const sockets: Socket[] = [];
  /** Each probe the receiver has been sent waits until its release is called. */
  const pending: Array<() => void> = [];

  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const release of pending.splice(0)) release();
  });
  afterAll(async () => {
    for (const r of receivers) await r.close();
  });

  const metric = (name: string) => scrapeMetric(t.svc, name);

  async function heldReceiver(): Promise<Receiver> {
    const r = await startReceiver(
      () => new Promise<ReceiverResponse>((resolve) => pending.push(() => resolve({ status: 200, body: '{"text":"Success","code":0}' }))),
    );
    receivers.push(r);
    return r;
  }

  async function destination(org: { orgId: string; apiKey: string }, r: Receiver): Promise<string> {
    const created = await t.svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: `${r.url}/ingest`, auth_header_name: 'Authorization', auth_header_value: 'Bearer probe' },
    });
    expect(created.status, created.text).toBe(201);
    return created.body.destination_id as string;
  }

  /** POST .../test on a raw connection: the caller decides when the client goes away. */
  async function rawProbe(org: { orgId: string; apiKey: string }, destinationId: string): Promise<Socket> {
    const port = Number(new URL(t.svc.baseUrl).port);
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      [
        `POST /api/orgs/${org.orgId}/forwarding-destinations/${destinationId}/test HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        `Authorization: Bearer ${org.apiKey}`,
        'Content-Length: 0',
        'Connection: close',
        '',
        '',
      ].join('\r\n'),
    );
    return socket;
  }

  function list(org: { orgId: string; apiKey: string }) {
    const r = { settled: false, status: 0 };
    const done = t.svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey }).then((res) => {
      r.settled = true;
      r.status = res.status;
      return res;
    });
    return { r, done };
  }

  it("a probe whose client left keeps its organization's place until the probe ends; other organizations are served meanwhile", async () => {
    const a = await t.svc.newOrg('Dropping A');
    const b = await t.svc.newOrg('Quiet B');
    const r = await heldReceiver();
    const dest = await destination(a, r);

    const client = await rawProbe(a, dest);
    // The handler is running: its probe reached the receiver, which has not answered.
    await expect.poll(() => r.requests.length, POLL).toBe(1);
    client.resetAndDestroy();

    // B is served while A's handler runs (and, answered after A's client left, B's requests also
    // come after the server saw that connection close).
    const bList = await t.svc.request('GET', `/api/orgs/${b.orgId}/forwarding-destinations`, { apiKey: b.apiKey });
    expect(bList.status).toBe(200);
    const bPreflight = await t.svc.request('POST', `/api/orgs/${b.orgId}/preflight`, {
      apiKey: b.apiKey,
      body: { input: 'hello', destination: 'AI_TOOL', source_type: 'api', input_type: 'text' },
    });
    expect(bPreflight.status, bPreflight.text).toBe(200);

    // A's next request is not admitted while the probe runs: it waits for the place.
    const next = list(a);
    await expect.poll(async () => next.r.settled || (await metric('aegis_api_requests_waiting')) === 1, POLL).toBe(true);
    expect(next.r, "admitted while the dropped request's handler still ran").toEqual({ settled: false, status: 0 });
    expect(await metric('aegis_api_requests_in_flight')).toBe(1);

    // The probe ends: its place passes to the waiting request.
    pending.shift()!();
    expect((await next.done).status).toBe(200);
    await expect.poll(() => metric('aegis_api_requests_in_flight'), POLL).toBe(0);
  });

  it('after many dropped requests whose handlers outlived their clients, the organization has its whole limit back', async () => {
    const a = await t.svc.newOrg('Many drops A');
    const r = await heldReceiver();
    const dests = [await destination(a, r), await destination(a, r), await destination(a, r)];
    const before = r.requests.length;
    for (let i = 0; i < 9; i++) {
      // Each probe runs alone (the limit is 1), outlives its client, and is then let finish.
      const client = await rawProbe(a, dests[i % dests.length]!);
      await expect.poll(() => r.requests.length, POLL).toBe(before + i + 1);
      client.resetAndDestroy();
      pending.shift()!();
    }
    // And requests that wait and leave: sent, queued behind a held probe, dropped while waiting.
    const held = await rawProbe(a, dests[0]!);
    await expect.poll(() => r.requests.length, POLL).toBe(before + 10);
    const waiters = await Promise.all(Array.from({ length: 5 }, () => rawProbe(a, dests[1]!)));
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(5);
    for (const w of waiters) w.resetAndDestroy();
    held.resetAndDestroy();
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(0);
    // None of the waiters ran a probe, and the held one still holds the place.
    expect(r.requests.length).toBe(before + 10);
    pending.shift()!();
    await expect.poll(() => metric('aegis_api_requests_in_flight'), POLL).toBe(0);

    // The whole limit (1) is back: one request is admitted, the next waits for it.
    const client = await rawProbe(a, dests[2]!);
    await expect.poll(() => r.requests.length, POLL).toBe(before + 11);
    const next = list(a);
    await expect.poll(() => metric('aegis_api_requests_waiting'), POLL).toBe(1);
    expect(next.r.settled).toBe(false);
    pending.shift()!();
    expect((await next.done).status).toBe(200);
    client.destroy();
    await expect.poll(() => metric('aegis_api_requests_in_flight'), POLL).toBe(0);
  });
});
