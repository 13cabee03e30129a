import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyBase64, keyFileIds, parseKeyRing } from '../../../src/crypto/keyring.js';
import { warnOfCredentialsOutsideRing } from '../../../src/destinations/keyCoverage.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { captureLogger } from '../../support/logCapture.js';

// A wrong or rotated-away AEGIS_ENCRYPTION_KEY: the destinations it sealed turn failing with a clear
// last_error, and the operator, who reads the process log and not every destination card, is told
// too: once per failure streak (not every scan), with org, destination and key id, never a key.
describe.each(DB_KINDS)('a credential whose key is not in AEGIS_ENCRYPTION_KEY (%s)', (kind) => {
  const retiredKey = generateKeyBase64();
  const currentKey = generateKeyBase64();
  const credential = 'Bearer siem-token-outside-ring-7f3a';
  let tdb: TestDb;
  let svc: TestService | undefined;
  let orgId = '';
  let destinationId = '';
  let failuresAtStart = 0;
  const failures = async () =>
    (await tdb.db.query<{ n: number }>('SELECT consecutive_failures AS n FROM destinations WHERE id = $1', [destinationId])).rows[0]?.n;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    // Created under key "retired"; the service then restarts with only key "current" in its ring.
    const before = await startTestService(tdb.db, { AEGIS_ENCRYPTION_KEY: `retired:${retiredKey}` });
    try {
      const org = await before.newOrg();
      orgId = org.orgId;
      const res = await before.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, {
        apiKey: org.apiKey,
        // Never reached: the credential cannot be opened, so nothing is sent.
        body: { url: 'http://127.0.0.1:9/hook', auth_header_name: 'Authorization', auth_header_value: credential },
      });
      expect(res.status, res.text).toBe(201);
      destinationId = res.body.destination_id as string;
    } finally {
      await before.stop();
    }
    // Failing already when the service restarts with the wrong key (its SIEM was down, or an earlier
    // start had the wrong key too): the operator must still be told.
    await tdb.db.query('UPDATE destinations SET consecutive_failures = greatest(consecutive_failures, 1) WHERE id = $1', [destinationId]);
    failuresAtStart = (await failures())!;
    svc = await startTestService(tdb.db, { AEGIS_ENCRYPTION_KEY: `current:${currentKey}`, AEGIS_WORKER_INTERVAL_MS: '200' });
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  const credentialLines = () =>
    svc!.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.destination_id === destinationId && l.level === 50);

  it('logs one error line, not one per scan, even for a destination failing already: org, destination and missing key id, never a key or credential', async () => {
    // The creation's trail event is queued for the destination: the worker tries it, and keeps trying.
    await expect.poll(failures, { timeout: 60_000 }).toBeGreaterThanOrEqual(failuresAtStart + 2);
    const lines = credentialLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ org_id: orgId, destination_id: destinationId, key_ids: ['retired'] });
    const text = svc!.logs.text();
    for (const secret of [retiredKey, currentKey, credential, 'siem-token-outside-ring']) expect(text).not.toContain(secret);
  });

  it('a start-up check counts the credentials sealed under keys outside the ring, warning once with their key ids', async () => {
    const logs = captureLogger('debug');
    await warnOfCredentialsOutsideRing(tdb.db, parseKeyRing(`current:${currentKey}`), logs.logger);
    const warnings = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ credentials: 1, key_ids: ['retired'] });
    for (const secret of [retiredKey, currentKey, credential]) expect(logs.text()).not.toContain(secret);

    // AEGIS_ENCRYPTION_KEY set after the embedded default's generated key sealed them: the warning
    // names the data directory's key file, which is not read then, and what to do.
    const dir = await mkdtemp(join(tmpdir(), 'aegis-keyfile-'));
    try {
      await writeFile(join(dir, 'encryption.key'), `retired:${retiredKey}\n`, { mode: 0o600 });
      const named = captureLogger('debug');
      await warnOfCredentialsOutsideRing(tdb.db, parseKeyRing(`current:${currentKey}`), named.logger, () => keyFileIds(dir));
      const [line] = named.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 40);
      expect(line).toMatchObject({ credentials: 1, key_ids: ['retired'], in_data_dir_key_file: ['retired'] });
      expect(line!.msg).toMatch(/in the data directory's encryption\.key.*add the file's keys after yours in AEGIS_ENCRYPTION_KEY/);
      expect(named.text()).not.toContain(retiredKey);
      // No key file: the general warning.
      expect(await keyFileIds(join(dir, 'nowhere'))).toEqual(new Set());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // With the key back in the ring there is nothing to say.
    const quiet = captureLogger('debug');
    await warnOfCredentialsOutsideRing(tdb.db, parseKeyRing(`current:${currentKey},retired:${retiredKey}`), quiet.logger);
    expect(quiet.lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 40)).toEqual([]);
  });
});
