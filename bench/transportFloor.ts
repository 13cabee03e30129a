// `npx tsx bench/transportFloor.ts [--requests N] [--rate N] [--src-rev <commit>] [--runtime=tsx]`
//
// What one HTTPS request costs the sending process before any of the worker's own work: the floor
// under the custom webhook's CPU per event (one request per event). The bench's receiver
// (bench/lib/receiver.ts, its own process, as in `npm run bench`) answers; this process sends ~1 KB
// JSON bodies over keep-alive connections and measures only its own CPU (process.cpuUsage), per
// request, for:
//   undici:       undici's top-level request(url, { dispatcher }) on an Agent of 16 connections
//   undici-agent: the same Agent's own request() with the options as one object literal, which is how
//                 the outbound client calls it (the top-level one copies the options with a spread,
//                 which V8 gives a hidden class of its own each time: 25-40 µs more per request)
//   outbound:     the service's outbound client (src/delivery/outbound/client.ts: address guard,
//                 per-phase timeouts, capped body read, scrubbed headers) on a destination's own pool
//   undici-h2:    undici's Agent with allowH2, to a second receiver that speaks HTTP/2 (ALPN): every
//                 request a stream of one connection instead of a connection of its own
//   node-http2:   Node's own HTTP/2 client (node:http2, nghttp2), one session, to that receiver
// each twice: saturated (16 requests in flight at all times, as a drain) and paced at --rate
// requests per second in 10 ms steps (as the latency scenario's 1,000 events per second), where
// every request pays its own wake-ups. Numbers are for docs/BENCHMARKS.md ("the transport's floor").
// The outbound client is compiled as production runs it (bench/lib/build.ts), from the working tree
// or, with --src-rev, from another commit, for a before/after with the same bench. --runtime=tsx
// imports the TypeScript through tsx instead, whose keepNames wrapping of every closure made the
// client about 20 µs per request dearer than its compiled form.
import { fork } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { connect as connectH2 } from 'node:http2';
import { Agent, request } from 'undici';
import { numArg, stringArg } from './lib/args.js';
import { buildService } from './lib/build.js';

const argv = process.argv.slice(2);
const REQUESTS = numArg(argv, '--requests', 20_000);
const RATE = numArg(argv, '--rate', 1_000);
const CONCURRENCY = 16;
const WARMUP = 1_000;
const runtime = argv.includes('--runtime=tsx') ? 'tsx' : 'built';
const srcRev = stringArg(argv, '--src-rev');
if (srcRev !== null && runtime === 'tsx') throw new Error('--src-rev builds that commit; it cannot be combined with --runtime=tsx');
const BUILD_DIR = `${tmpdir()}/aegis-transport-floor-${process.pid}`;
const log = (msg: string) => process.stderr.write(`[transportFloor] ${msg}\n`);
type ClientModule = typeof import('../src/delivery/outbound/client.js');
let clientModule: ClientModule;
if (runtime === 'tsx') clientModule = await import('../src/delivery/outbound/client.js');
else {
  buildService({ root: fileURLToPath(new URL('..', import.meta.url)), buildDir: BUILD_DIR, srcRev, log });
  clientModule = (await import(`${BUILD_DIR}/dist/delivery/outbound/client.js`)) as ClientModule;
}
const ca = readFileSync(new URL('../test/fixtures/tls/ca.pem', import.meta.url), 'utf8');

/** The bench's receiver in its own process, and its port once it listens. */
async function startReceiver(args: string[]): Promise<{ proc: ReturnType<typeof fork>; port: number }> {
  const proc = fork(new URL('./lib/receiver.ts', import.meta.url), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => proc.on('message', (m: { type: string; port?: number }) => m.type === 'ready' && resolve(m.port!)));
  return { proc, port };
}
const { proc: receiver, port } = await startReceiver([]);
const url = `https://localhost:${port}/custom/hook`;
const { proc: h2Receiver, port: h2Port } = await startReceiver(['--h2']);
const h2Origin = `https://localhost:${h2Port}`;
const body = JSON.stringify({
  '@timestamp': new Date().toISOString(),
  event: { id: '01JZ8Q0W5N3V6Y7X8Z9A0B1C2D', kind: 'alert', action: 'preflight.decision', dataset: 'aegis.audit' },
  aegis: { summary: 'Prompt blocked: 1 finding', preflight_id: 'pf_bench', decision: 'block', findings: [{ type: 'email', count: 1 }] },
  organization: { id: 'org_bench' },
  user: { id: 'u_1234' },
  message: 'x'.repeat(600),
});

const agent = new Agent({ connections: CONCURRENCY, pipelining: 1, connect: { ca } });
const ownAgent = new Agent({ connections: CONCURRENCY, pipelining: 1, connect: { ca } });
const h2Agent = new Agent({ allowH2: true, connect: { ca } });
const session = connectH2(h2Origin, { ca });
const { origin, pathname } = new URL(url);
const outbound = clientModule.createOutboundClient({ allowPrivate: true, timeoutMs: 10_000, userAgent: 'aegis-bench', ca });
const senders: Record<string, () => Promise<void>> = {
  undici: async () => {
    const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
    await res.body.text();
  },
  'undici-agent': async () => {
    const res = await ownAgent.request({ origin, path: pathname, method: 'POST', body, headers: { 'content-type': 'application/json' } });
    await res.body.text();
  },
  'undici-h2': async () => {
    const res = await h2Agent.request({ origin: h2Origin, path: pathname, method: 'POST', body, headers: { 'content-type': 'application/json' } });
    await res.body.text();
  },
  'node-http2': () =>
    new Promise<void>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': pathname, 'content-type': 'application/json' });
      stream.on('error', reject);
      stream.on('response', (headers) => {
        if (headers[':status'] !== 200) reject(new Error(`unexpected status ${String(headers[':status'])}`));
      });
      stream.resume();
      stream.on('end', () => resolve());
      stream.end(body);
    }),
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
  `client CPU µs per request, outbound client ${runtime === 'tsx' ? 'from src/ through tsx' : `compiled from ${srcRev ?? 'the working tree'}`} (load ${(
    await import('node:os')
  )
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
  console.log(`${name.padEnd(12)} saturated (${CONCURRENCY} in flight): ${(await saturated(send)).toFixed(1)}`);
  console.log(`${name.padEnd(12)} paced (${RATE}/s):          ${(await paced(send)).toFixed(1)}`);
}
await agent.close();
await ownAgent.close();
await h2Agent.close();
session.close();
h2Receiver.kill();
await outbound.close();
receiver.kill();
rmSync(BUILD_DIR, { recursive: true, force: true });
