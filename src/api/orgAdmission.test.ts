import { connect, type Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../errors.js';
import { admissionLimits, admitPerOrg, OrgAdmission, type Permit, type RefusalReason } from './orgAdmission.js';

/** Lets every settled promise's continuations run (acquire resolves through promise jobs only). */
const settle = () => new Promise<void>((r) => setImmediate(r));

function gate(maxConcurrent: number, maxQueued: number, maxWaitMs = 60_000) {
  const refused: [string, RefusalReason][] = [];
  let waiting = 0;
  const admission = new OrgAdmission(
    { maxConcurrent, maxQueued, maxWaitMs },
    { refused: (org, reason) => refused.push([org, reason]), waiting: (d) => (waiting += d) },
  );
  return { admission, refused, waiting: () => waiting };
}

/** Starts acquire and records when it is admitted, in what order, or why it was refused. */
function track(admission: OrgAdmission, org: string, order: string[], name: string, signal?: AbortSignal) {
  const t: { permit: Permit | null; error: unknown } = { permit: null, error: null };
  admission.acquire(org, signal).then(
    (p) => {
      t.permit = p;
      order.push(name);
    },
    (e: unknown) => (t.error = e),
  );
  return t;
}

afterEach(() => vi.useRealTimers());

describe('OrgAdmission', () => {
  it('admits up to the cap at once, then the waiters in arrival order as places come back', async () => {
    const { admission, waiting } = gate(2, 10);
    const order: string[] = [];
    const first = [track(admission, 'A', order, 'a1'), track(admission, 'A', order, 'a2')];
    const later = ['a3', 'a4', 'a5'].map((n) => track(admission, 'A', order, n));
    await settle();
    expect(order).toEqual(['a1', 'a2']);
    expect(waiting()).toBe(3);
    first[1]!.permit!.release();
    await settle();
    expect(order).toEqual(['a1', 'a2', 'a3']);
    first[0]!.permit!.release();
    later[0]!.permit!.release();
    await settle();
    expect(order).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(admission.active('A')).toBe(2);
    expect(waiting()).toBe(0);
  });

  it('never makes one organization wait behind another', async () => {
    const { admission } = gate(1, 10);
    const order: string[] = [];
    track(admission, 'A', order, 'a1');
    track(admission, 'A', order, 'a2');
    track(admission, 'B', order, 'b1');
    await settle();
    expect(order).toEqual(['a1', 'b1']);
  });

  it('a newcomer does not overtake a waiter when a place comes back', async () => {
    const { admission } = gate(1, 10);
    const order: string[] = [];
    const a1 = track(admission, 'A', order, 'a1');
    track(admission, 'A', order, 'a2');
    await settle();
    a1.permit!.release();
    track(admission, 'A', order, 'a3');
    await settle();
    expect(order).toEqual(['a1', 'a2']);
  });

  it('refuses at once with rate_limited, naming the limit and its variable, when the queue is full', async () => {
    const { admission, refused } = gate(1, 2);
    const order: string[] = [];
    const ts = ['a1', 'a2', 'a3', 'a4'].map((n) => track(admission, 'A', order, n));
    await settle();
    const err = ts[3]!.error;
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'rate_limited', status: 429, details: { retryAfterS: 1 } });
    expect((err as AppError).message).toMatch(/served 1 at a time \(AEGIS_API_MAX_CONCURRENT_PER_ORG\) and 2 more may wait/);
    expect(refused).toEqual([['A', 'queue_full']]);
    expect(ts.slice(0, 3).map((t) => t.error)).toEqual([null, null, null]);
  });

  it('refuses a waiter whose wait runs out, and its place in the queue is free again', async () => {
    vi.useFakeTimers();
    const { admission, refused, waiting } = gate(1, 1, 30_000);
    const order: string[] = [];
    const a1 = track(admission, 'A', order, 'a1');
    const a2 = track(admission, 'A', order, 'a2');
    await vi.advanceTimersByTimeAsync(29_999);
    expect(a2.error).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(a2.error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/waited 30 s for a place/) });
    expect(refused).toEqual([['A', 'wait_timeout']]);
    expect(waiting()).toBe(0);
    const a3 = track(admission, 'A', order, 'a3');
    await vi.advanceTimersByTimeAsync(0);
    expect(a3.error).toBeNull();
    a1.permit!.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['a1', 'a3']);
  });

  it('a waiter whose client leaves is taken out of the queue and never admitted', async () => {
    const { admission, waiting } = gate(1, 1);
    const order: string[] = [];
    const a1 = track(admission, 'A', order, 'a1');
    const gone = new AbortController();
    const a2 = track(admission, 'A', order, 'a2', gone.signal);
    await settle();
    gone.abort(new Error('client gone'));
    await settle();
    expect(a2.error).toMatchObject({ message: 'client gone' });
    expect(waiting()).toBe(0);
    // Its queue place is free: another may wait, and the freed slot goes to it, not to the one that left.
    const a3 = track(admission, 'A', order, 'a3');
    a1.permit!.release();
    await settle();
    expect(order).toEqual(['a1', 'a3']);
    expect(a3.error).toBeNull();
  });

  it('releases a place once however often release is called', async () => {
    const { admission } = gate(2, 10);
    const order: string[] = [];
    const a1 = track(admission, 'A', order, 'a1');
    track(admission, 'A', order, 'a2');
    track(admission, 'A', order, 'a3');
    track(admission, 'A', order, 'a4');
    await settle();
    a1.permit!.release();
    a1.permit!.release();
    a1.permit!.release();
    await settle();
    expect(order).toEqual(['a1', 'a2', 'a3']);
    expect(admission.active('A')).toBe(2);
  });

  it('forgets an organization with nothing in flight, and 0 admits everything', async () => {
    const { admission } = gate(1, 1);
    const order: string[] = [];
    const a1 = track(admission, 'A', order, 'a1');
    await settle();
    a1.permit!.release();
    expect(admission.active('A')).toBe(0);
    const open = new OrgAdmission(admissionLimits(0));
    const all = Array.from({ length: 50 }, (_, i) => track(open, 'A', order, `o${i}`));
    await settle();
    expect(all.every((t) => t.permit !== null)).toBe(true);
  });
});

/**
 * The gate as the API wires it (admitPerOrg on a scope), in a real Fastify server reached over real
 * connections: the organization comes from an x-org header, and each request's handler (and, for
 * /slow-start, a preHandler before it) waits until the test settles it.
 */
describe('admitPerOrg', () => {
  const POLL = { timeout: 30_000, interval: 20 };
  let app: FastifyInstance | null = null;
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await app?.close();
    app = null;
  });

  async function start(limit: number) {
    const admission = new OrgAdmission(admissionLimits(limit));
    const started: string[] = [];
    const closed: string[] = [];
    const handlers = new Map<string, { resolve(): void; reject(e: Error): void }>();
    const preHandlers = new Map<string, () => void>();
    const server = Fastify();
    app = server;
    await server.register(async (api) => {
      api.addHook('onRequest', async (req, reply) => {
        req.authOrgId = String(req.headers['x-org']);
        reply.raw.once('close', () => closed.push((req.params as { id: string }).id));
      });
      admitPerOrg(api, admission);
      const handler = async (req: { params: unknown }) => {
        const { id } = req.params as { id: string };
        started.push(id);
        await new Promise<void>((resolve, reject) => handlers.set(id, { resolve, reject }));
        return { id };
      };
      api.post('/work/:id', handler);
      api.post('/slow-start/:id', {
        preHandler: async (req) => {
          await new Promise<void>((resolve) => preHandlers.set((req.params as { id: string }).id, resolve));
        },
        handler,
      });
    });
    const address = await server.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(address).port);
    async function send(path: string, org = 'A'): Promise<Socket> {
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nx-org: ${org}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return socket;
    }
    return { admission, started, closed, handlers, preHandlers, send };
  }

  it('keeps the place while a handler whose client left runs, and gives it back when the handler resolves or throws', async () => {
    const { admission, started, closed, handlers, send } = await start(1);
    for (const outcome of ['resolve', 'throw'] as const) {
      const id = `${outcome}-1`;
      const first = await send(`/work/${id}`);
      await expect.poll(() => started.includes(id), POLL).toBe(true);
      first.resetAndDestroy();
      await expect.poll(() => closed.includes(id), POLL).toBe(true);
      // The client is gone; its handler still runs and keeps the place: the next one waits.
      expect(admission.active('A')).toBe(1);
      const next = `${outcome}-2`;
      await send(`/work/${next}`);
      await expect.poll(() => admission.waiting(), POLL).toBe(1);
      expect(started).not.toContain(next);
      // Another organization is not held up.
      await send('/work/other', 'B');
      await expect.poll(() => started.includes('other'), POLL).toBe(true);
      handlers.get('other')!.resolve();
      if (outcome === 'resolve') handlers.get(id)!.resolve();
      else handlers.get(id)!.reject(new Error('handler failed after its client left'));
      await expect.poll(() => started.includes(next), POLL).toBe(true);
      handlers.get(next)!.resolve();
      await expect.poll(() => admission.active('A') + admission.active('B'), POLL).toBe(0);
      started.length = 0;
    }
  });

  it('runs no handler for a request whose client left after its admission, before its handler, and frees its place', async () => {
    const { admission, started, closed, preHandlers, handlers, send } = await start(1);
    const client = await send('/slow-start/gone');
    await expect.poll(() => preHandlers.has('gone'), POLL).toBe(true);
    client.resetAndDestroy();
    await expect.poll(() => closed.includes('gone'), POLL).toBe(true);
    preHandlers.get('gone')!();
    await expect.poll(() => admission.active('A'), POLL).toBe(0);
    // The whole limit is back: the next request runs.
    await send('/work/next');
    await expect.poll(() => started, POLL).toEqual(['next']);
    handlers.get('next')!.resolve();
    await expect.poll(() => admission.active('A'), POLL).toBe(0);
  });

  it('gives every place back after many requests that left while running, while waiting, or before their handler', async () => {
    const { admission, started, closed, handlers, preHandlers, send } = await start(2);
    const clients: Socket[] = [];
    for (let i = 0; i < 2; i++) clients.push(await send(`/work/run-${i}`));
    await expect.poll(() => started.length, POLL).toBe(2);
    for (let i = 0; i < 10; i++) clients.push(await send(`/work/wait-${i}`));
    await expect.poll(() => admission.waiting(), POLL).toBe(10);
    for (const c of clients.splice(0)) c.resetAndDestroy();
    await expect.poll(() => admission.waiting(), POLL).toBe(0);
    expect(admission.active('A')).toBe(2);
    handlers.get('run-0')!.resolve();
    handlers.get('run-1')!.reject(new Error('failed'));
    await expect.poll(() => admission.active('A'), POLL).toBe(0);
    const slow = [await send('/slow-start/s0'), await send('/slow-start/s1')];
    await expect.poll(() => preHandlers.size, POLL).toBe(2);
    for (const c of slow) c.resetAndDestroy();
    await expect.poll(() => closed.includes('s0') && closed.includes('s1'), POLL).toBe(true);
    for (const go of preHandlers.values()) go();
    await expect.poll(() => admission.active('A'), POLL).toBe(0);
    expect(started).toEqual(['run-0', 'run-1']);
    // Both places: two run, a third waits.
    for (const id of ['a', 'b', 'c']) await send(`/work/${id}`);
    await expect.poll(() => started.length, POLL).toBe(4);
    await expect.poll(() => admission.waiting(), POLL).toBe(1);
    for (const id of ['a', 'b']) handlers.get(id)!.resolve();
    await expect.poll(() => started.includes('c'), POLL).toBe(true);
    handlers.get('c')!.resolve();
    await expect.poll(() => admission.active('A'), POLL).toBe(0);
  });
});
