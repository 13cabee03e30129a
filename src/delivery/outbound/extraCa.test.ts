import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../../test/support/httpsReceiver.js';

const run = promisify(execFile);
const probe = fileURLToPath(new URL('./__fixtures__/extraCaProbe.ts', import.meta.url));
const caFile = fileURLToPath(new URL('../../../test/fixtures/tls/ca.pem', import.meta.url));

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});

async function probeWith(env: Record<string, string>): Promise<Record<string, string>> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', probe, receiver.url], {
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return JSON.parse(stdout) as Record<string, string>;
}

describe('NODE_EXTRA_CA_CERTS', () => {
  it('trusts a private CA from NODE_EXTRA_CA_CERTS, also when an extra ca option is given', async () => {
    expect(await probeWith({ NODE_EXTRA_CA_CERTS: caFile })).toEqual({ envOnly: '200', envPlusExtra: '200' });
  });

  it('without it, the private CA is not trusted', async () => {
    const env = { ...process.env };
    delete env['NODE_EXTRA_CA_CERTS'];
    const { stdout } = await run(process.execPath, ['--import', 'tsx', probe, receiver.url], { env, timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ envOnly: 'tls', envPlusExtra: 'tls' });
  });
});
