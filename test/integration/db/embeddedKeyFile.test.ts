// A copy or restore of the embedded data directory that left encryption.key behind: the service starts
// with a new key (nothing else can be done without the old one), but says so loudly, naming the file
// and how to get the old credentials back without losing those set meanwhile; and its start-up check of
// the stored credentials names the key file, not AEGIS_ENCRYPTION_KEY, which is unset. The tenant sees
// what it means, never a server setting (destinations/credentials.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/env.js';
import { startService } from '../../../src/service.js';
import { captureLogger } from '../../support/logCapture.js';
import { TEST_CA_PEM } from '../../support/httpsReceiver.js';

describe('the embedded data directory restored without its key file', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'aegis-embedded-key-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const orgId = 'org_restored_key_file';
  const apiKey = 'restored-key-file-api-key-5d0e7f';
  const config = loadConfig({
    AEGIS_DATA_DIR: dataDir,
    PORT: '0',
    AEGIS_ALLOW_PRIVATE_DESTINATIONS: '1',
    AEGIS_BOOTSTRAP_ORG_ID: orgId,
    AEGIS_BOOTSTRAP_API_KEY: apiKey,
  });
  const start = async () => {
    const logs = captureLogger('debug');
    const service = await startService(config, { role: 'api', logger: logs.logger, extraCa: TEST_CA_PEM });
    return { service, logs };
  };

  // A contract review: `aegis-stream migrate` or `orgs create` before the first start make the
  // database without a key file, and that first start warned of a restore that never happened.
  it('a database with no stored credential and no key file (made by migrate or orgs create): the ordinary line only', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'aegis-embedded-key-fresh-'));
    try {
      const freshConfig = loadConfig({ AEGIS_DATA_DIR: fresh, PORT: '0', AEGIS_BOOTSTRAP_ORG_ID: orgId, AEGIS_BOOTSTRAP_API_KEY: apiKey });
      const made = await startService(freshConfig, { role: 'api', logger: captureLogger('debug').logger });
      await made.stop();
      // What `orgs create` leaves: a database with an organization, no credential, no key file.
      await rm(join(fresh, 'encryption.key'));
      const logs = captureLogger('debug');
      const again = await startService(freshConfig, { role: 'api', logger: logs.logger });
      await again.stop();
      expect(logs.text()).toContain('generated an encryption key for credentials in the data directory');
      expect(logs.text()).not.toContain('generated a NEW encryption key');
      expect(logs.text()).not.toContain('stored destination credentials were encrypted');
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }, 240_000);

  // An attacker's read of this round's diff: the only stored secret an alert webhook's signing secret
  // (no destination credential), a restore without the key file warned of nothing, and every webhook
  // alert was then dropped.
  it("a database whose only stored secret is an alert webhook's: the restore is said, and the webhook named", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aegis-embedded-key-webhook-'));
    try {
      const cfg = loadConfig({ AEGIS_DATA_DIR: dir, PORT: '0', AEGIS_BOOTSTRAP_ORG_ID: orgId, AEGIS_BOOTSTRAP_API_KEY: apiKey });
      const first = await startService(cfg, { role: 'api', logger: captureLogger('debug').logger });
      try {
        const res = await fetch(`${first.address}/api/orgs/${orgId}/notification-settings`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ emails: [], webhook_url: 'https://alerts.example.com/hook' }),
        });
        expect(res.status, await res.text()).toBe(200);
      } finally {
        await first.stop();
      }
      await rm(join(dir, 'encryption.key'));
      const logs = captureLogger('debug');
      const second = await startService(cfg, { role: 'api', logger: logs.logger });
      await second.stop();
      const lines = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.find((l) => String(l.msg).startsWith('generated a NEW encryption key'))).toMatchObject({ level: 40, key_file: join(dir, 'encryption.key') });
      expect(lines.find((l) => String(l.msg).startsWith("alert webhooks' signing secrets were encrypted"))).toMatchObject({ level: 40, webhook_secrets: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('warns that a new key was generated beside a database, names the file, and names it in the credentials check', async () => {
    const first = await start();
    try {
      // The first start's line is the ordinary one.
      expect(first.logs.text()).toContain('generated an encryption key for credentials in the data directory');
      expect(first.logs.text()).not.toContain('generated a NEW encryption key');
      const res = await fetch(`${first.service.address}/api/orgs/${orgId}/forwarding-destinations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'https://127.0.0.1:9/hook', auth_header_name: 'Authorization', auth_header_value: 'Bearer restored-siem-token-93c1' }),
      });
      expect(res.status, await res.text()).toBe(201);
    } finally {
      await first.service.stop();
    }

    // The restore: everything but the key file.
    await rm(join(dataDir, 'encryption.key'));
    const second = await start();
    try {
      const lines = second.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const generated = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('generated a NEW encryption key'));
      expect(generated).toMatchObject({ level: 40, key_file: join(dataDir, 'encryption.key') });
      expect(generated!.msg).toMatch(/holds a database with stored credentials but had no encryption\.key.*keep both/);
      const check = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('stored destination credentials were encrypted'));
      expect(check).toMatchObject({ level: 40, credentials: 1 });
      expect(check!.msg).toMatch(/not in the data directory's encryption\.key \(AEGIS_ENCRYPTION_KEY is unset\)/);
      expect(second.logs.text()).not.toContain('restored-siem-token');
    } finally {
      await second.service.stop();
    }
  }, 240_000);
});
