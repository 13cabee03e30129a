import { request } from 'node:https';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_CA_PEM, closedPort, flap, respondWith, startReceiver, type Receiver } from './httpsReceiver.js';

const open: Receiver[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

function post(r: Receiver, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${r.url}/in`,
      { method: 'POST', ca: TEST_CA_PEM, headers: { 'content-length': String(body.length), ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('httpsReceiver', () => {
  it('records requests, gunzips gzip bodies and keeps the raw bytes', async () => {
    const r = await startReceiver();
    open.push(r);
    expect(r.url).toBe(`https://127.0.0.1:${r.port}`);
    const raw = gzipSync('{"a":1}');
    expect((await post(r, raw, { 'content-encoding': 'gzip' })).status).toBe(200);
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0]!.body.toString()).toBe('{"a":1}');
    expect(r.requests[0]!.rawBody.equals(raw)).toBe(true);
    expect(r.requests[0]!.path).toBe('/in');
    expect(r.count).toBe(1);
    expect(r.connections).toBe(1);
  });

  it('switches handlers and flaps', async () => {
    const r = await startReceiver(respondWith(418, 'teapot'));
    open.push(r);
    expect(await post(r, Buffer.from('x'))).toEqual({ status: 418, body: 'teapot' });
    r.setHandler(flap({ failures: 2, successes: 1, repeat: true }));
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(r, Buffer.from('x'))).status);
    expect(statuses).toEqual([503, 503, 200, 503, 503, 200]);
  });

  it('waitFor resolves when the predicate holds and rejects on timeout', async () => {
    const r = await startReceiver();
    open.push(r);
    const waiting = r.waitFor((reqs) => reqs.length >= 2, 2_000);
    await post(r, Buffer.from('1'));
    await post(r, Buffer.from('2'));
    expect((await waiting).map((q) => q.body.toString())).toEqual(['1', '2']);
    await expect(r.waitFor((reqs) => reqs.length >= 3, 50)).rejects.toThrow(/not met/);
  });

  it('can skip recording for benchmarks', async () => {
    const r = await startReceiver(undefined, { record: false });
    open.push(r);
    await post(r, Buffer.from('x'));
    expect(r.requests).toHaveLength(0);
    expect(r.count).toBe(1);
  });

  it('closedPort gives a port nobody listens on', async () => {
    const port = await closedPort();
    expect(port).toBeGreaterThan(0);
  });
});
