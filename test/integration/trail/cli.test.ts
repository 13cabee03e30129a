// Issue 11: the command line's changes are in the configuration trail too. `aegis-stream replay` (dead
// letters and a time window) and `rotate-encryption-key` record replay_requested and
// encryption_key_rotated by the command-line actor (cli_ + 16 hex of "<user>@<host>"), delivered to a
// real HTTPS receiver like every trail event and listed by GET .../activity. On PostgreSQL the real
// CLI runs as a separate process beside the service; the embedded database admits one process, so on
// PGlite the same command functions run in the test's process.
import { createHash } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { generateKeyBase64 } from '../../../src/crypto/keyring.js';
import { sealedKeyId } from '../../../src/crypto/sealedBox.js';
import { loadConfig } from '../../../src/config/env.js';
import { validateTrailEvent } from '../../../src/events/validate.js';
import { replayDestination } from '../../../src/cli/replay.js';
import { rotateEncryptionKey } from '../../../src/cli/rotateKey.js';
import { CLI_TEST_TIMEOUT_MS, killAll, runCli } from '../cli/spawn.js';
import { trailOf, type ReceivedEvent } from './support.js';

const WAIT = { timeout: 60_000, interval: 100 };
const OLD_KEY = `k1:${generateKeyBase64()}`;
const NEW_KEY = `k2:${generateKeyBase64()}`;
const CREDENTIAL = 'Bearer cli-trail-credential-0123456789';

/** What the trail must name the operator: computed here independently of src/cli/actor.ts. */
const EXPECTED_ACTOR = `cli_${createHash('sha256').update(`${userInfo().username}@${hostname()}`).digest('hex').slice(0, 16)}`;

afterAll(() => killAll());

describe.each(DB_KINDS)('command-line changes in the configuration trail (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService | null = null;
  let receiver: Receiver;
  let org: { orgId: string; apiKey: string };
  let base: string;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    receiver = await startReceiver(ok(), { trail: 'handle' });
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  async function start(key: string): Promise<TestService> {
    await svc?.stop();
    svc = await startTestService(tdb.db, { AEGIS_ENCRYPTION_KEY: key });
    return svc;
  }
  async function api(method: string, path: string, body?: unknown) {
    const res = await svc!.request(method, path, { apiKey: org.apiKey, ...(body !== undefined ? { body } : {}) });
    expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
    return res.body;
  }
  const received = (action: string): ReceivedEvent[] => trailOf(receiver.requests).filter((e) => e.event.action === action);
  async function activity(): Promise<Array<Record<string, unknown>>> {
    return (await api('GET', `/api/orgs/${org.orgId}/activity?limit=100`)).activity;
  }

  it(
    'replay and rotate-encryption-key are recorded by the cli actor, delivered over HTTPS and listed in Activity',
    async () => {
      // A destination with a credential sealed under the old key.
      await start(OLD_KEY);
      org = await svc!.newOrg('CLI trail org');
      base = `/api/orgs/${org.orgId}/forwarding-destinations`;
      const dest = await api('POST', base, { siem: 'custom', url: `${receiver.url}/hook`, auth_header_name: 'Authorization', auth_header_value: CREDENTIAL });
      const id = dest.destination_id as string;
      await expect.poll(() => received('destination_created').length, WAIT).toBe(1);
      await api('PUT', `/api/orgs/${org.orgId}/notification-settings`, { emails: [], webhook_url: `${receiver.url}/alerts` });

      // The operator puts the new key first and restarts the service, then runs the commands.
      const ring = `${NEW_KEY},${OLD_KEY}`;
      await start(ring);
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const to = new Date(Date.now() + 60_000).toISOString();
      if (kind === 'postgres') {
        const env = { DATABASE_URL: tdb.url!, AEGIS_ENCRYPTION_KEY: ring };
        const deadLetters = await runCli(['replay', '--destination', id], env);
        expect(deadLetters.code, deadLetters.stderr).toBe(0);
        expect(deadLetters.stderr).toContain(`replay_requested by ${EXPECTED_ACTOR} (${userInfo().username}@${hostname()})`);
        const window = await runCli(['replay', '--destination', id, '--from', from, '--to', to], env);
        expect(window.code, window.stderr).toBe(0);
        const rotate = await runCli(['rotate-encryption-key'], env);
        expect(rotate.code, rotate.stderr).toBe(0);
        expect(rotate.stdout).toMatch(/Re-encrypted 1 credential/);
        expect(rotate.stderr).toContain(`encryption_key_rotated by ${EXPECTED_ACTOR}`);
      } else {
        const config = loadConfig({ AEGIS_ENCRYPTION_KEY: ring, AEGIS_RETENTION_DAYS: '7' });
        await replayDestination(tdb.db, id);
        await replayDestination(tdb.db, id, { from: new Date(from), to: new Date(to), config, wait: true });
        expect(await rotateEncryptionKey(tdb.db, config, true)).toBe(1);
      }
      // The credential really moved to the new key (the trail records a change that happened).
      const { rows } = await tdb.db.query<{ b: Buffer }>('SELECT auth_header_sealed AS b FROM destinations WHERE id = $1', [id]);
      expect(sealedKeyId(Buffer.from(rows[0]!.b))).toBe('k2');

      // At the receiver: the same events as the API's, by the command line.
      await expect.poll(() => received('replay_requested').length, WAIT).toBe(2);
      await expect.poll(() => received('encryption_key_rotated').length, WAIT).toBe(1);
      const replays = received('replay_requested');
      expect(replays.map((e) => e.aegis.changed_fields)).toEqual([[], ['from', 'to']]);
      for (const e of replays) {
        expect(e.aegis).toMatchObject({ actor_type: 'cli', actor_id: EXPECTED_ACTOR, destination_id: id, siem: 'custom' });
        expect(e.aegis.summary).toBe(
          `Command line ${EXPECTED_ACTOR} requested a replay to destination ${id} (Custom HTTPS webhook)${(e.aegis.changed_fields as string[]).length ? ': from, to' : ''}.`,
        );
      }
      const [rotated] = received('encryption_key_rotated');
      expect(rotated!.aegis).toEqual({
        summary: `Command line ${EXPECTED_ACTOR} re-encrypted the organization's stored secrets with the first key of the ring: auth_header_value, webhook_signing_secret.`,
        actor_type: 'cli',
        actor_id: EXPECTED_ACTOR,
        changed_fields: ['auth_header_value', 'webhook_signing_secret'],
      });
      expect(rotated!.event).toMatchObject({ type: ['change'], outcome: 'success', dataset: 'aegis.audit_stream' });
      for (const e of [...replays, rotated!]) expect(validateTrailEvent(e)).toEqual([]);
      // Names, never values: neither the credential nor the user and host leave in clear.
      const bodies = receiver.requests.map((r) => r.body.toString('utf8')).join('\n');
      expect(bodies).not.toContain(CREDENTIAL);
      expect(bodies).not.toContain(`${userInfo().username}@${hostname()}`);

      // Activity lists them, newest first, by the command line.
      const entries = await activity();
      const cli = entries.filter((e) => e.actor_type === 'cli');
      expect(cli.map((e) => e.action)).toEqual(['encryption_key_rotated', 'replay_requested', 'replay_requested']);
      for (const e of cli) expect(e.actor_id).toBe(EXPECTED_ACTOR);
      expect(cli[0]).toMatchObject({
        destination_id: null,
        siem: null,
        destination_name: null,
        changed_fields: ['auth_header_value', 'webhook_signing_secret'],
      });
      expect(cli[1]).toMatchObject({ destination_id: id, siem: 'custom' });
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it('a refused replay records nothing (the window is older than retention)', async () => {
    const before = (await activity()).length;
    const { rows } = await tdb.db.query<{ id: string }>('SELECT id FROM destinations WHERE org_id = $1', [org.orgId]);
    const config = loadConfig({ AEGIS_ENCRYPTION_KEY: NEW_KEY, AEGIS_RETENTION_DAYS: '7' });
    const old = { from: new Date(Date.now() - 30 * 86_400_000), to: new Date(Date.now() - 20 * 86_400_000), config, wait: true };
    await expect(replayDestination(tdb.db, rows[0]!.id, old)).rejects.toThrow(/too old/);
    expect((await activity()).length).toBe(before);
  });
});
