import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyBase64, keyFileIds, parseKeyRing } from '../../../src/crypto/keyring.js';
import { CREDENTIAL_UNREADABLE_MESSAGE } from '../../../src/destinations/credentials.js';
import { warnOfCredentialsOutsideRing } from '../../../src/destinations/keyCoverage.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { captureLogger } from '../../support/logCapture.js';
import { allDelivered, seedEvents } from './support.js';

// A wrong or rotated-away AEGIS_ENCRYPTION_KEY, in every process: the destinations it sealed turn
// failing with a clear last_error once their work has waited with nobody taking it, and the
// operator, who reads the process log and not every destination card, is told
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
    // Its work has waited with nobody taking it (the destination was created before this start): a
    // fresh job could still be taken by a process whose ring has the key, and then this one records
    // nothing (see the rolling rotation below).
    await tdb.db.query(`UPDATE forwarding_jobs SET next_attempt_at = now() - interval '10 minutes' WHERE destination_id = $1`, [destinationId]);
    // The first service's worker may have tried it before it stopped: that was long ago too.
    await tdb.db.query(`UPDATE destinations SET last_attempt_at = now() - interval '10 minutes' WHERE id = $1 AND last_attempt_at IS NOT NULL`, [
      destinationId,
    ]);
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
    // The tenant is told what it means and what it can do; the server's setting and key ids are the
    // operator's, in the log line above.
    const { rows } = await tdb.db.query<{ last_error: string }>('SELECT last_error FROM destinations WHERE id = $1', [destinationId]);
    expect(rows[0]!.last_error).toBe(CREDENTIAL_UNREADABLE_MESSAGE);
    expect(rows[0]!.last_error).not.toMatch(/retired|AEGIS_|ENCRYPTION/);
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
      await warnOfCredentialsOutsideRing(tdb.db, parseKeyRing(`current:${currentKey}`), named.logger, { ignoredKeyFile: () => keyFileIds(dir) });
      const [line] = named.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 40);
      expect(line).toMatchObject({ credentials: 1, key_ids: ['retired'], in_data_dir_key_file: ['retired'] });
      expect(line!.msg).toMatch(/in the data directory's encryption\.key.*add the file's keys after yours in AEGIS_ENCRYPTION_KEY/);
      expect(named.text()).not.toContain(retiredKey);
      // No key file: the general warning.
      expect(await keyFileIds(join(dir, 'nowhere'))).toEqual(new Set());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // The embedded default's ring comes from the data directory's key file: the warning names the
    // file, not a variable that is unset (a restore without the key file generates a new one).
    const fromFile = captureLogger('debug');
    await warnOfCredentialsOutsideRing(tdb.db, parseKeyRing(`current:${currentKey}`), fromFile.logger, { ringSource: 'file' });
    const [fileLine] = fromFile.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 40);
    expect(fileLine).toMatchObject({ credentials: 1, key_ids: ['retired'] });
    expect(fileLine!.msg).toMatch(/not in the data directory's encryption\.key \(AEGIS_ENCRYPTION_KEY is unset\)/);

    // With the key back in the ring there is nothing to say.
    const quiet = captureLogger('debug');
    await warnOfCredentialsOutsideRing(tdb.db, parseKeyRing(`current:${currentKey},retired:${retiredKey}`), quiet.logger);
    expect(quiet.lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 40)).toEqual([]);
  });
});

// A rolling rotation: the processes get the new ring one at a time, and an API process that has it
// seals a credential under the new key while a worker still has only the old one. That worker cannot
// open it; another can. The failure is the behind worker's own: the destination's row (the tenant's
// card, the breaker every worker reads, the alerts) stays as it is, and the events go through the
// worker that can open the credential. Only when nobody has taken the work for the grace does the
// behind worker record why it waits.
describe.each(DB_KINDS)('a rolling key rotation: a worker whose ring lacks the new key (%s)', (kind) => {
  const oldKey = generateKeyBase64();
  const newKey = generateKeyBase64();
  const credential = 'Bearer siem-token-rolling-rotation-51c9';
  let tdb: TestDb;
  let receiver: Receiver;
  let behind: TestService | undefined;
  let ahead: TestService | undefined;
  let aheadWorker: TestService | undefined;
  let orgId = '';
  let destinationId = '';
  const row = async () =>
    (
      await tdb.db.query<{ consecutive_failures: number; last_error: string | null; last_attempt_ok: boolean | null; paused_until: Date | null }>(
        'SELECT consecutive_failures, last_error, last_attempt_ok, paused_until FROM destinations WHERE id = $1',
        [destinationId],
      )
    ).rows[0]!;
  const behindLines = () =>
    behind!.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.destination_id === destinationId && l.level === 50);

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    receiver = await startReceiver(() => ({ status: 200, body: 'ok' }));
    // Still on the old ring; its worker scans often, so it meets the destination first.
    behind = await startTestService(tdb.db, { AEGIS_ENCRYPTION_KEY: `old:${oldKey}`, AEGIS_WORKER_INTERVAL_MS: '200' });
    // Given the new ring first, as the rotation says: new key first, old kept. API only for now.
    ahead = await startTestService(tdb.db, { AEGIS_ENCRYPTION_KEY: `new:${newKey},old:${oldKey}` }, 'api');
    const org = await ahead.newOrg();
    orgId = org.orgId;
    const res = await ahead.request('POST', `/api/orgs/${orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { siem: 'custom', url: `${receiver.url}/hook`, auth_header_name: 'Authorization', auth_header_value: credential, enabled: true },
    });
    expect(res.status, res.text).toBe(201);
    destinationId = res.body.destination_id as string;
  });
  afterAll(async () => {
    await aheadWorker?.stop();
    await ahead?.stop();
    await behind?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  it('leaves the destination to the worker that has the key: its row is not marked failing, and every event arrives', async () => {
    const ids = await seedEvents(tdb.db, orgId, 30);
    // The behind worker met the destination and could not open it: said once, in its log.
    await expect.poll(() => behindLines().length, { timeout: 60_000 }).toBe(1);
    expect(behindLines()[0]).toMatchObject({ org_id: orgId, destination_id: destinationId, key_ids: ['new'] });
    // The row is as it was: no failure counted, no error the tenant cannot fix, no pause.
    expect(await row()).toMatchObject({ consecutive_failures: 0, last_error: null, paused_until: null });

    aheadWorker = await startTestService(tdb.db, { AEGIS_ENCRYPTION_KEY: `new:${newKey},old:${oldKey}`, AEGIS_WORKER_INTERVAL_MS: '200' }, 'worker');
    await expect.poll(() => allDelivered(tdb.db, destinationId, ids, receiver.requests), { timeout: 120_000 }).toBe(true);
    const after = await row();
    expect(after).toMatchObject({ consecutive_failures: 0, last_error: null, paused_until: null, last_attempt_ok: true });
    expect(receiver.requests.every((r) => r.headers.authorization === credential)).toBe(true);
    expect(behindLines()).toHaveLength(1);
    for (const secret of [oldKey, newKey, credential, 'siem-token-rolling-rotation']) expect(behind!.logs.text()).not.toContain(secret);
  });

  it('records why the work waits once nobody has taken it for the grace', async () => {
    await aheadWorker!.stop();
    aheadWorker = undefined;
    await seedEvents(tdb.db, orgId, 5);
    // Nobody took them for ten minutes: the only worker left is the behind one.
    await tdb.db.query(`UPDATE forwarding_jobs SET next_attempt_at = now() - interval '10 minutes' WHERE destination_id = $1 AND status = 'pending'`, [
      destinationId,
    ]);
    await tdb.db.query(
      `UPDATE destinations SET last_delivery_at = now() - interval '10 minutes', last_attempt_at = now() - interval '10 minutes' WHERE id = $1`,
      [destinationId],
    );
    await expect.poll(async () => (await row()).last_error ?? '', { timeout: 120_000 }).toBe(CREDENTIAL_UNREADABLE_MESSAGE);
    expect((await row()).consecutive_failures).toBeGreaterThanOrEqual(1);
  });
});
