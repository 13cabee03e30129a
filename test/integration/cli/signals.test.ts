// Stopping: the first SIGINT/SIGTERM stops cleanly and says that a second one exits at once; the second
// exits at once (128 + the signal's number) even while a SIEM that never answers holds a delivery.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_TEST_TIMEOUT_MS, killAll, startCli } from './spawn.js';

const dirs: string[] = [];
const held: ServerResponse[] = [];
// The SIEM that never answers: it takes every request and keeps it open.
const siem = createServer((_req: IncomingMessage, res: ServerResponse) => void held.push(res));

afterAll(async () => {
  killAll();
  for (const res of held) res.destroy();
  await new Promise((r) => siem.close(r));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('aegis-stream start: stopping', () => {
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(
      `a second ${signal} exits at once (code ${code}) while a delivery waits on a SIEM that never answers`,
      async () => {
        if (!siem.listening) await new Promise<void>((r) => siem.listen(0, '127.0.0.1', r));
        const siemPort = (siem.address() as AddressInfo).port;
        const dataDir = mkdtempSync(join(tmpdir(), 'aegis-cli-signal-'));
        dirs.push(dataDir);
        const org = `org_sig_${randomBytes(4).toString('hex')}`;
        const key = `sig-${randomBytes(24).toString('hex')}`;
        const proc = startCli(['start'], {
          AEGIS_DATA_DIR: dataDir,
          PORT: '0',
          AEGIS_BOOTSTRAP_ORG_ID: org,
          AEGIS_BOOTSTRAP_API_KEY: key,
          AEGIS_ALLOW_PRIVATE_DESTINATIONS: '1',
          AEGIS_HTTP_TIMEOUT_MS: '120000', // the longest allowed: a clean stop would wait this long
        });
        const out = await proc.waitFor(/sign-in link/);
        const base = `http://127.0.0.1:${/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]}/api/orgs/${org}`;
        const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
        const heldBefore = held.length;
        const dest = await fetch(`${base}/forwarding-destinations`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ url: `http://127.0.0.1:${siemPort}/ingest` }),
        });
        expect(dest.status).toBe(201);
        const pf = await fetch(`${base}/preflight`, { method: 'POST', headers, body: JSON.stringify({ input: 'hello' }) });
        expect(pf.status).toBe(200);
        await expect.poll(() => held.length, { timeout: 60_000, interval: 100 }).toBeGreaterThan(heldBefore);

        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
          proc.child.once('exit', (c, s) => resolve({ code: c, signal: s })),
        );
        proc.child.kill(signal);
        await proc.waitFor(/again to exit at once/, 60_000);
        expect(proc.child.exitCode).toBeNull(); // still finishing the delivery
        proc.child.kill(signal);
        // A ceiling well under AEGIS_HTTP_TIMEOUT_MS: without the forced exit the stop waits it out.
        const result = await Promise.race([exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 60_000))]);
        expect(result).toEqual({ code, signal: null });
        expect(proc.stdout()).toMatch(/without waiting/);
      },
      CLI_TEST_TIMEOUT_MS,
    );
  }
});
