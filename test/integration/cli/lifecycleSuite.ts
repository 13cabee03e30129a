// Issue 2, CLI against a real PostgreSQL schema and against an embedded data directory: migrate,
// orgs/api-keys/login-link, start (banner, bootstrap org and key, idempotent), the embedded lock,
// rotate-encryption-key with a progress bar.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPg } from '../../../src/db/pg.js';
import { openDatabase } from '../../../src/db/open.js';
import type { Db } from '../../../src/db/types.js';
import { apiKeyActorId, storeApiKey, verifyApiKey } from '../../../src/auth/apiKeys.js';
import { createSession, findSession, issueLoginLink, redeemLoginLink, tokenDigest } from '../../../src/auth/sessions.js';
import { generateKeyBase64 } from '../../../src/crypto/keyring.js';
import { sealedKeyId } from '../../../src/crypto/sealedBox.js';
import { TEST_DATABASE_URL, schemaUrl } from '../../support/db.js';
import { CLI_TEST_TIMEOUT_MS, killAll, runCli, startCli, type Running } from './spawn.js';

export type Target = 'postgres' | 'embedded';

/** The lifecycle suite for one database; one file per target so the two run in parallel. */
export function cliLifecycleSuite(target: Target): void {
  describe(`aegis-stream CLI lifecycle (${target})`, () => {
    let env: Record<string, string>;
    let dataDir: string;
    let schema: string | null = null;
    const running: Running[] = [];

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'aegis-cli-life-'));
      if (target === 'postgres') {
        schema = `t_cli_${randomBytes(5).toString('hex')}`;
        const admin = openPg({ connectionString: TEST_DATABASE_URL, max: 1 });
        await admin.exec(`CREATE SCHEMA ${schema}`);
        await admin.close();
        env = { DATABASE_URL: schemaUrl(schema), AEGIS_ENCRYPTION_KEY: `k1:${generateKeyBase64()}`, AEGIS_DATA_DIR: dataDir };
      } else {
        env = { AEGIS_DATA_DIR: dataDir };
      }
    });
    afterAll(async () => {
      for (const r of running) await r.stop();
      killAll();
      rmSync(dataDir, { recursive: true, force: true });
      if (schema) {
        const admin = openPg({ connectionString: TEST_DATABASE_URL, max: 1 });
        await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.close();
      }
    });

    /** Opens the same database the CLI uses (the embedded one only while no CLI process holds it). */
    async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
      const db =
        target === 'postgres' ? openPg({ connectionString: env.DATABASE_URL!, max: 2 }) : await openDatabase({ databaseUrl: null, dataDir, dbPoolMax: 2 });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    }
    async function start(extra: Record<string, string> = {}): Promise<{ proc: Running; port: number; out: string }> {
      // PORT=0: the service binds a free port and the banner (address and sign-in link) says which.
      const proc = startCli(['start'], { ...env, PORT: '0', AEGIS_WORKER_INTERVAL_MS: '60000', ...extra });
      running.push(proc);
      const out = await proc.waitFor(/sign-in link/);
      const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      expect(port).toBeGreaterThan(0);
      return { proc, port, out };
    }

    it(
      'migrate applies the migrations, and a second run is a no-op',
      async () => {
        const first = await runCli(['migrate'], env);
        expect(first.code, first.stderr).toBe(0);
        expect(first.stdout).toMatch(/Applied: 0001_init\.sql/);
        const second = await runCli(['migrate'], env);
        expect(second.code, second.stderr).toBe(0);
        expect(second.stdout).toMatch(/up to date/);
        await withDb(async (db) => {
          const { rows } = await db.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT version)::int AS d FROM schema_migrations');
          expect(rows[0]!.n).toBe(rows[0]!.d);
        });
      },
      CLI_TEST_TIMEOUT_MS,
    );

    it(
      'start on an empty database prints the address, the org, the API key (first start only) and a sign-in link',
      async () => {
        const first = await start();
        expect(first.out).toContain(`listening on http://127.0.0.1:${first.port}`);
        const org = /organization:\s+(org_[A-Za-z0-9_-]+)/.exec(first.out)?.[1];
        const key = /API key:\s+(\S+)/.exec(first.out)?.[1];
        const link = /dashboard:\s+(http\S+)/.exec(first.out)?.[1];
        expect(org).toBeDefined();
        expect(key).toBeDefined();
        expect(link).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${first.port}/auth/login\\?token=`));
        expect(first.out).toContain(`http://127.0.0.1:${first.port}/docs`);
        // How to make more keys, as a clone runs the command: on the embedded database not beside the
        // running service, which holds the data directory (a docs review: run then, it was refused).
        expect(first.out).toContain(`npx aegis-stream api-keys create --org ${org}`);
        if (target === 'embedded') expect(first.out).toContain('with the service stopped');
        else expect(first.out).not.toContain('with the service stopped');
        // The key works against the running service; the link signs in once.
        const list = await fetch(`http://127.0.0.1:${first.port}/api/orgs/${org}/forwarding-destinations`, { headers: { authorization: `Bearer ${key}` } });
        expect(list.status).toBe(200);
        expect((await fetch(link!, { redirect: 'manual' })).status).toBe(200); // the sign-in page
        const signIn = await fetch(`http://127.0.0.1:${first.port}/auth/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: new URL(link!).searchParams.get('token')! }).toString(),
        });
        expect(signIn.status).toBeGreaterThanOrEqual(300);
        expect(signIn.status).toBeLessThan(400);
        expect(signIn.headers.get('set-cookie')).toMatch(/HttpOnly/i);
        expect(await first.proc.stop()).toBe(0);
        // The log says the stop finished (a black-box review's: its last line was "stopping: ...").
        await expect.poll(() => first.proc.stdout(), { timeout: 30_000, interval: 100 }).toMatch(/stopped cleanly/);

        const second = await start();
        expect(second.out).toContain(`organization:  ${org}`);
        expect(second.out).not.toMatch(/API key:/);
        if (target === 'embedded') expect(second.out).toMatch(/dashboard:\s+http\S+token=/);
        else {
          // On PostgreSQL a later start prints no credential, only how to get one (a secrets review: a
          // start's output is a shipped log, and each restart put a session of the first tenant in it).
          expect(second.out).not.toMatch(/token=/);
          expect(second.out).toContain(`aegis-stream login-link --org ${org}`);
        }
        await second.proc.stop();
        if (target === 'embedded') {
          // The generated encryption key lives in the data directory, readable by the owner only.
          expect(statSync(join(dataDir, 'encryption.key')).mode & 0o777).toBe(0o600);
        }
      },
      CLI_TEST_TIMEOUT_MS,
    );

    let orgId = '';
    let cliKey = '';
    it(
      'orgs create prints an org id; api-keys create prints a key stored only as a hash; login-link prints a URL',
      async () => {
        const org = await runCli(['orgs', 'create', '--name', 'Acme Security'], env);
        expect(org.code, org.stderr).toBe(0);
        orgId = org.stdout.trim();
        expect(orgId).toMatch(/^org_[A-Za-z0-9_-]+$/);
        const key = await runCli(['api-keys', 'create', '--org', orgId], env);
        expect(key.code, key.stderr).toBe(0);
        cliKey = key.stdout.trim();
        expect(cliKey.length).toBeGreaterThanOrEqual(32);
        expect(cliKey).not.toMatch(/\s/);
        const link = await runCli(['login-link', '--org', orgId], env);
        expect(link.code, link.stderr).toBe(0);
        expect(link.stdout.trim()).toMatch(/^https?:\/\/\S+\/auth\/login\?token=[A-Za-z0-9_-]{20,}$/);
        // Without AEGIS_PUBLIC_URL the link is this command's HOST and PORT, and stderr says so.
        expect(link.stderr).toContain("The link starts with http://127.0.0.1:8080 (HOST and PORT of this command's environment)");
        const published = await runCli(['login-link', '--org', orgId], { ...env, AEGIS_PUBLIC_URL: 'https://aegis.example.com' });
        expect(published.stdout.trim()).toMatch(/^https:\/\/aegis\.example\.com\/auth\/login\?token=/);
        expect(published.stderr).toBe('');
        const missing = await runCli(['api-keys', 'create', '--org', 'org_missing'], env);
        expect(missing.code).not.toBe(0);
        expect(missing.stderr).toContain('org_missing');

        await withDb(async (db) => {
          expect(await verifyApiKey(db, cliKey)).toBe(orgId);
          const { rows } = await db.query<{ j: string }>(`SELECT row_to_json(t)::text AS j FROM api_keys t`);
          const { rows: hex } = await db.query<{ h: string }>(`SELECT encode(key_digest, 'hex') AS h FROM api_keys`);
          const dump = rows.map((r) => r.j).join('\n') + hex.map((r) => r.h).join('\n');
          for (const f of [cliKey, Buffer.from(cliKey).toString('hex'), Buffer.from(cliKey).toString('base64')]) expect(dump).not.toContain(f);
        });
      },
      CLI_TEST_TIMEOUT_MS,
    );

    it(
      'api-keys list names keys by id, never the key; revoke ends one key at once; sessions end signs every browser out',
      async () => {
        // A second key, leaked: revoked by the id the list (and the trail) shows, the first one kept.
        const leaked = await runCli(['api-keys', 'create', '--org', orgId], env);
        expect(leaked.code, leaked.stderr).toBe(0);
        const leakedKey = leaked.stdout.trim();
        const list = await runCli(['api-keys', 'list', '--org', orgId], env);
        expect(list.code, list.stderr).toBe(0);
        expect(list.stdout).toContain(apiKeyActorId(cliKey));
        expect(list.stdout).toContain(apiKeyActorId(leakedKey));
        expect(list.stdout).not.toContain(leakedKey);
        // What the leaked key made goes with it: a session opened by a link it made, and such a link unused.
        await withDb(async (db) => {
          await issueLoginLink(db, orgId, 'https://aegis.example', apiKeyActorId(leakedKey));
          const link = await issueLoginLink(db, orgId, 'https://aegis.example', apiKeyActorId(leakedKey));
          const used = await redeemLoginLink(db, link.token);
          expect(used).toEqual({ ok: true, orgId, apiKeyId: apiKeyActorId(leakedKey) });
          expect(await createSession(db, orgId, apiKeyActorId(leakedKey))).not.toBeNull();
        });
        const revoke = await runCli(['api-keys', 'revoke', '--org', orgId, apiKeyActorId(leakedKey)], env);
        expect(revoke.code, revoke.stderr).toBe(0);
        expect(revoke.stdout.trim()).toBe(`Revoked ${apiKeyActorId(leakedKey)}; ended 1 dashboard session and deleted 1 unused sign-in link it had made.`);
        // Unknown now, and another organization's key is not this organization's to revoke.
        const again = await runCli(['api-keys', 'revoke', '--org', orgId, leakedKey], env);
        expect(again.code).not.toBe(0);
        expect(again.stderr).toContain('no such API key');
        const other = await runCli(['orgs', 'create', '--name', 'Other'], env);
        const otherKey = (await runCli(['api-keys', 'create', '--org', other.stdout.trim()], env)).stdout.trim();
        expect((await runCli(['api-keys', 'revoke', '--org', orgId, otherKey], env)).code).not.toBe(0);
        let sessionToken = '';
        await withDb(async (db) => {
          expect(await verifyApiKey(db, leakedKey)).toBeNull();
          expect(await verifyApiKey(db, cliKey)).toBe(orgId);
          expect(await verifyApiKey(db, otherKey)).toBe(other.stdout.trim());
          sessionToken = (await createSession(db, orgId)).token;
        });
        // Outside withDb: the embedded database takes one process at a time.
        const end = await runCli(['sessions', 'end', '--org', orgId], env);
        expect(end.code, end.stderr).toBe(0);
        expect(end.stdout.trim()).toBe('Ended 1 session(s).');
        await withDb(async (db) => expect(await findSession(db, tokenDigest(sessionToken))).toBeNull());
      },
      CLI_TEST_TIMEOUT_MS,
    );

    it(
      'AEGIS_BOOTSTRAP_ORG_ID + AEGIS_BOOTSTRAP_API_KEY on start ensure the org and key, idempotently; the embedded database refuses a second process plainly',
      async () => {
        const bootOrg = `org_boot_${randomBytes(4).toString('hex')}`;
        const bootKey = `boot-${randomBytes(24).toString('hex')}`;
        const boot = { AEGIS_BOOTSTRAP_ORG_ID: bootOrg, AEGIS_BOOTSTRAP_API_KEY: bootKey };
        for (let round = 0; round < 2; round++) {
          const s = await start(boot);
          expect(s.out).toContain(`organization:  ${bootOrg}`);
          expect(s.out).not.toMatch(/API key:/);
          const base = `http://127.0.0.1:${s.port}/api/orgs`;
          const ok = await fetch(`${base}/${bootOrg}/forwarding-destinations`, { headers: { authorization: `Bearer ${bootKey}` } });
          expect(ok.status).toBe(200);
          // The key from `api-keys create` authenticates against the running service too.
          const cli = await fetch(`${base}/${orgId}/forwarding-destinations`, { headers: { authorization: `Bearer ${cliKey}` } });
          expect(cli.status).toBe(200);
          const wrong = await fetch(`${base}/${bootOrg}/forwarding-destinations`, { headers: { authorization: `Bearer ${bootKey}x` } });
          expect(wrong.status).toBe(401);

          if (round === 0) {
            const other = await runCli(['orgs', 'create', '--name', 'While running'], env);
            if (target === 'embedded') {
              expect(other.code).not.toBe(0);
              expect(other.stderr).toMatch(/in use/i);
              expect(other.stderr).toMatch(/stop the service|DATABASE_URL/);
              expect(other.stderr).not.toMatch(/^\s+at /m);
            } else {
              expect(other.code, other.stderr).toBe(0); // a real server serves every process
            }
          }
          expect(await s.proc.stop()).toBe(0);
        }
        await withDb(async (db) => {
          const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orgs WHERE id = $1', [bootOrg]);
          expect(rows[0]!.n).toBe(1);
          const keys = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys WHERE org_id = $1', [bootOrg]);
          expect(keys.rows[0]!.n).toBe(1);
          expect(await verifyApiKey(db, bootKey)).toBe(bootOrg);
        });
      },
      CLI_TEST_TIMEOUT_MS,
    );

    it(
      "one API key is never valid for two organizations: start refuses a bootstrap key that is another organization's, and a database that already holds such rows authenticates the key for its first organization only",
      async () => {
        const orgX = `org_kx_${randomBytes(4).toString('hex')}`;
        const orgY = `org_ky_${randomBytes(4).toString('hex')}`;
        const key = `boot-${randomBytes(24).toString('hex')}`;
        const first = await start({ AEGIS_BOOTSTRAP_ORG_ID: orgX, AEGIS_BOOTSTRAP_API_KEY: key });
        expect(await first.proc.stop()).toBe(0);

        // The same key for another organization: refused in one line naming both, never the key.
        const refusedStart = () => runCli(['start'], { ...env, PORT: '0', AEGIS_BOOTSTRAP_ORG_ID: orgY, AEGIS_BOOTSTRAP_API_KEY: key }, 60_000);
        const refused = await refusedStart();
        expect(refused.code, refused.stdout + refused.stderr).toBe(1);
        expect(refused.stderr.trim()).toBe(`aegis-stream: AEGIS_BOOTSTRAP_API_KEY: is already the key of organization ${orgX}; give ${orgY} its own key`);
        expect(refused.stdout + refused.stderr).not.toContain(key);
        expect(refused.stdout).not.toMatch(/listening on/);
        await withDb(async (db) => {
          // Nothing of the refused start was kept: no organization, no second row for the key.
          expect((await db.query('SELECT 1 FROM orgs WHERE id = $1', [orgY])).rowCount).toBe(0);
          const { rows } = await db.query<{ org_id: string }>('SELECT org_id FROM api_keys WHERE lookup_id = $1', [apiKeyActorId(key).slice(4)]);
          expect(rows.map((r) => r.org_id)).toEqual([orgX]);
          expect(await verifyApiKey(db, key)).toBe(orgX);

          // A database from before the refusal: the key stored for a second organization too (what the
          // start above did then), and then stored again for the first (each start of orgX rewrites its
          // row, which moves it after orgY's on disk). The key still authenticates for orgX alone.
          await db.query(`INSERT INTO orgs (id, name) VALUES ($1, 'Second organization')`, [orgY]);
          await storeApiKey(db, orgY, key);
          await storeApiKey(db, orgX, key);
          // Fresh statistics: the few rows are read in the order they lie on disk, orgY's first.
          await db.exec('ANALYZE api_keys');
          for (let i = 0; i < 3; i++) expect(await verifyApiKey(db, key)).toBe(orgX);
        });
        // Such a database is refused the same way for the second organization, and still starts for the first.
        const again = await refusedStart();
        expect(again.code, again.stdout + again.stderr).toBe(1);
        expect(again.stderr.trim()).toBe(`aegis-stream: AEGIS_BOOTSTRAP_API_KEY: is already the key of organization ${orgX}; give ${orgY} its own key`);
        const owner = await start({ AEGIS_BOOTSTRAP_ORG_ID: orgX, AEGIS_BOOTSTRAP_API_KEY: key });
        const base = `http://127.0.0.1:${owner.port}/api/orgs`;
        const auth = { authorization: `Bearer ${key}` };
        expect((await fetch(`${base}/${orgX}/forwarding-destinations`, { headers: auth })).status).toBe(200);
        expect((await fetch(`${base}/${orgY}/forwarding-destinations`, { headers: auth })).status).toBe(404);
        expect(await owner.proc.stop()).toBe(0);
      },
      CLI_TEST_TIMEOUT_MS,
    );

    it(
      'rotate-encryption-key re-encrypts every credential under the new first key, with a progress bar',
      async () => {
        // Two destinations with credentials, written through a running service.
        const s = await start({ AEGIS_ALLOW_PRIVATE_DESTINATIONS: '1' });
        const key = await runCliKey(s.port); // stops the service: the embedded database then opens here

        const newKey = `k2:${generateKeyBase64()}`;
        const rotateEnv = target === 'postgres' ? { ...env, AEGIS_ENCRYPTION_KEY: `${newKey},${env.AEGIS_ENCRYPTION_KEY}` } : env;
        const r = await runCli(['rotate-encryption-key'], rotateEnv);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/Re-encrypted 2 credential/);
        expect(r.stderr).toMatch(/Re-encrypting credentials \[#+\] 100% 2\/2/);
        await withDb(async (db) => {
          const { rows } = await db.query<{ b: Buffer }>('SELECT auth_header_sealed AS b FROM destinations WHERE auth_header_sealed IS NOT NULL');
          expect(rows).toHaveLength(2);
          const ids = new Set(rows.map((x) => sealedKeyId(Buffer.from(x.b))));
          expect(ids.size).toBe(1);
          if (target === 'postgres') expect([...ids]).toEqual(['k2']);
          else expect([...ids][0]).not.toBe(key.keyIdBefore);
          // The operational webhook's signing secret (docs/alerts.md) moves to the new key too.
          const hook = await db.query<{ b: Buffer }>('SELECT webhook_secret_sealed AS b FROM notification_settings WHERE org_id = $1', [orgId]);
          expect(sealedKeyId(Buffer.from(hook.rows[0]!.b))).toBe([...ids][0]);
        });

        if (target === 'postgres') {
          // Dropping the old key before rotating: a plain message naming the destination and the variable.
          const lost = await runCli(['rotate-encryption-key'], { ...env, AEGIS_ENCRYPTION_KEY: `k3:${generateKeyBase64()}` });
          expect(lost.code).not.toBe(0);
          expect(lost.stderr).toMatch(/^aegis-stream: destination fwd_\S+: .*AEGIS_ENCRYPTION_KEY/m);
          expect(lost.stderr).not.toMatch(/^\s+at /m);
        }

        async function runCliKey(port: number): Promise<{ keyIdBefore: string }> {
          const base = `http://127.0.0.1:${port}/api/orgs/${orgId}/forwarding-destinations`;
          for (let i = 0; i < 2; i++) {
            const res = await fetch(base, {
              method: 'POST',
              headers: { authorization: `Bearer ${cliKey}`, 'content-type': 'application/json' },
              body: JSON.stringify({ url: `https://127.0.0.1:9/r${i}`, auth_header_name: 'Authorization', auth_header_value: `Bearer rot-${i}` }),
            });
            expect(res.status).toBe(201);
          }
          const hook = await fetch(`http://127.0.0.1:${port}/api/orgs/${orgId}/notification-settings`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${cliKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ emails: [], webhook_url: 'https://127.0.0.1:9/alerts' }),
          });
          expect(hook.status).toBe(200);
          await s.proc.stop();
          return withDb(async (db) => {
            const { rows } = await db.query<{ b: Buffer }>('SELECT auth_header_sealed AS b FROM destinations WHERE auth_header_sealed IS NOT NULL LIMIT 1');
            return { keyIdBefore: sealedKeyId(Buffer.from(rows[0]!.b)) };
          });
        }
      },
      CLI_TEST_TIMEOUT_MS,
    );
  });
}
