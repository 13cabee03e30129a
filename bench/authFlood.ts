// `npx tsx bench/authFlood.ts [--rate N] [--seconds N] [--dist <dir>] [--database-url <url>]`
//
// What a flood of made-up API keys does to another organization's requests (api/credentialChecks.ts).
// Starts the service as `npm start` does (`<dist>/cli/main.js start`, default the working tree's
// dist/, so `npm run build` first; point --dist at another build to compare), on the embedded
// database in a fresh data directory or on --database-url. Then one client, an organization's
// dashboard, lists its destinations one request at a time, 20 ms apart, for --seconds alone, then
// for --seconds while this process sends --rate requests a second (default 3,000) with a new made-up
// key each. Prints that client's p50/p99/max and the flood's answers by status. The flood and the
// client share this process, and the machine's other load moves the figures: compare builds
// alternately, in the same minutes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { latencyStats } from './lib/apiNoisy.js';
import { numArg, stringArg } from './lib/args.js';

const argv = process.argv.slice(2);
const rate = numArg(argv, '--rate', 3000);
const seconds = numArg(argv, '--seconds', 10);
const dist = resolve(stringArg(argv, '--dist') ?? 'dist');
const databaseUrl = stringArg(argv, '--database-url');

const port = 18_000 + Math.floor(Math.random() * 1000);
const dataDir = mkdtempSync(join(tmpdir(), 'aegis-auth-flood-'));
const key = `aeg_${randomBytes(24).toString('base64url')}`;
const orgId = 'org_authflood';
const child = spawn(process.execPath, [join(dist, 'cli/main.js'), 'start'], {
  env: {
    ...process.env,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    PORT: String(port),
    AEGIS_DATA_DIR: dataDir,
    AEGIS_BOOTSTRAP_ORG_ID: orgId,
    AEGIS_BOOTSTRAP_API_KEY: key,
    AEGIS_LOG_LEVEL: 'warn',
    AEGIS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;

async function started(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      const res = await request(`${base}/healthz`);
      await res.body.text();
      if (res.statusCode < 500) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error('the service did not start');
}

const quiet = new Agent({ connections: 1 });
async function dashboard(forSeconds: number) {
  const ms: number[] = [];
  const until = performance.now() + forSeconds * 1000;
  while (performance.now() < until) {
    const t = performance.now();
    const res = await request(`${base}/api/orgs/${orgId}/forwarding-destinations`, { headers: { authorization: `Bearer ${key}` }, dispatcher: quiet });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`the dashboard's request was answered ${res.statusCode}`);
    ms.push(performance.now() - t);
    await sleep(20);
  }
  return latencyStats(ms);
}

async function flood(stop: () => boolean): Promise<Record<string, number>> {
  const agent = new Agent({ connections: 64 });
  const codes: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  const t0 = performance.now();
  let sent = 0;
  while (!stop()) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (sent < due && inFlight.size < 512) {
      sent++;
      const p: Promise<void> = request(`${base}/api/orgs/${orgId}/forwarding-destinations`, {
        headers: { authorization: `Bearer aeg_${randomBytes(32).toString('base64url')}` },
        dispatcher: agent,
      })
        .then(
          async (res) => {
            await res.body.text();
            codes[res.statusCode] = (codes[res.statusCode] ?? 0) + 1;
          },
          () => {
            codes.error = (codes.error ?? 0) + 1;
          },
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await sleep(5);
  }
  await Promise.all(inFlight);
  await agent.close();
  return codes;
}

try {
  await started();
  const alone = await dashboard(seconds);
  let stopped = false;
  const flooding = flood(() => stopped);
  await sleep(2000);
  const flooded = await dashboard(seconds);
  stopped = true;
  const answers = await flooding;
  console.log(JSON.stringify({ dist, database: databaseUrl ? 'postgres' : 'embedded', rate, alone, flooded, floodAnswers: answers }));
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await quiet.close();
  rmSync(dataDir, { recursive: true, force: true });
}
