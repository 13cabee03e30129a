// `npx tsx bench/transportFloor.ts [--requests N] [--rate N]`
//
// What one HTTPS request costs the sending process before any of the worker's own work: the floor
// under the custom webhook's CPU per event (one request per event). The bench's receiver
// (bench/lib/receiver.ts, its own process, as in `npm run bench`) answers; this process sends ~1 KB
// JSON bodies over keep-alive connections and measures only its own CPU (process.cpuUsage), per
// request, for:
//   undici:   undici's request() on an Agent of 16 connections, nothing else
//   outbound: the service's outbound client (src/delivery/outbound/client.ts: address guard, per-phase
//             timeouts, capped body read, scrubbed headers) on a destination's own pool of 16
// each twice: saturated (16 requests in flight at all times, as a drain) and paced at --rate
// requests per second in 10 ms steps (as the latency scenario's 1,000 events per second), where
// every request pays its own wake-ups. Numbers are for docs/BENCHMARKS.md ("the transport's floor").
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { createOutboundClient } from '../src/delivery/outbound/client.js';
import { numArg } from './lib/args.js';

const argv = process.argv.slice(2);
const REQUESTS = numArg(argv, '--requests', 20_000);
const RATE = numArg(argv, '--rate', 1_000);
const CONCURRENCY = 16;
const WARMUP = 1_000;
const ca = readFileSync(new URL('../test/fixtures/tls/ca.pem', import.meta.url), 'utf8');

const receiver = fork(new URL('./lib/receiver.ts', import.meta.url), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const port = await new Promise<number>((resolve) => receiver.on('message', (m: { type: string; port?: number }) => m.type === 'ready' && resolve(m.port!)));
const url = `https://localhost:${port}/custom/hook`;
const body = JSON.stringify({
  '@timestamp': new Date().toISOString(),
  event: { id: '01JZ8Q0W5N3V6Y7X8Z9A0B1C2D', kind: 'alert', action: 'preflight.decision', dataset: 'aegis.audit' },
  aegis: { summary: 'Prompt blocked: 1 finding', preflight_id: 'pf_bench', decision: 'block', findings: [{ type: 'email', count: 1 }] },
  organization: { id: 'org_bench' },
  user: { id: 'u_1234' },
  message: 'x'.repeat(600),
});

const agent = new Agent({ connections: CONCURRENCY, pipelining: 1, connect: { ca } });
const outbound = createOutboundClient({ allowPrivate: true, timeoutMs: 10_000, userAgent: 'aegis-bench', ca });
const senders: Record<string, () => Promise<void>> = {
  undici: async () => {
    const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
    await res.body.text();
  },
  outbound: async () => {
    const r = await outbound.send({ url, headers: { 'idempotency-key': 'k' }, body, poolKey: 'dest_bench', connections: CONCURRENCY });
    if (r.kind !== 'response' || r.status !== 200) throw new Error(`unexpected answer: ${JSON.stringify(r)}`);
  },
};

async function saturated(send: () => Promise<void>): Promise<number> {
  let left = REQUESTS;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) await send();
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / REQUESTS;
}

async function paced(send: () => Promise<void>): Promise<number> {
  const total = Math.min(REQUESTS, RATE * 10);
  const inFlight: Promise<void>[] = [];
  const before = process.cpuUsage();
  const t0 = performance.now();
  let started = 0;
  await new Promise<void>((resolve) => {
    const step = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE)) - started;
      for (let i = 0; i < due; i++, started++) inFlight.push(send());
      if (started >= total) {
        clearInterval(step);
        resolve();
      }
    }, 10);
  });
  await Promise.all(inFlight);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / total;
}

console.log(
  `client CPU µs per request (load ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')})`,
);
for (const [name, send] of Object.entries(senders)) {
  // Code warm and every connection open before measuring: sent one at a time, the warm-up would open
  // a single connection, and the other 15 (TLS handshakes) would be opened inside the measured run.
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = 0; i < WARMUP / CONCURRENCY; i++) await send();
    }),
  );
  console.log(`${name.padEnd(9)} saturated (${CONCURRENCY} in flight): ${(await saturated(send)).toFixed(1)}`);
  console.log(`${name.padEnd(9)} paced (${RATE}/s):          ${(await paced(send)).toFixed(1)}`);
}
await agent.close();
await outbound.close();
receiver.kill();
