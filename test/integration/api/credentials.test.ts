// Issue 2, credentials: AES-256-GCM with a key ring, rotation with `rotateEncryptionKey`, and the
// plaintext never in an API response after creation, a log line, or the database.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { generateKeyBase64, parseKeyRing } from '../../../src/crypto/keyring.js';
import { associatedData, open, sealedKeyId } from '../../../src/crypto/sealedBox.js';
import { rotateEncryptionKey } from '../../../src/cli/rotateKey.js';
import { CREDENTIAL_UNREADABLE_MESSAGE } from '../../../src/destinations/credentials.js';
import { loadConfig } from '../../../src/config/env.js';
import { dumpDatabase } from '../../support/dbDump.js';

/** The secret and the encodings a careless code path might store or print it in. */
function forms(secret: string): string[] {
  const b = Buffer.from(secret, 'utf8');
  return [secret, b.toString('base64'), b.toString('base64url'), b.toString('hex'), b.toString('hex').toUpperCase(), encodeURIComponent(secret)];
}

describe.each(DB_KINDS)('credentials at rest, rotation and leak scan (%s)', (kind) => {
  let tdb: TestDb;
  let receiver: Receiver;
  const services: TestService[] = [];

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    receiver = await startReceiver();
  });
  afterAll(async () => {
    for (const s of services) await s.stop();
    await receiver?.close();
    await tdb?.close();
  });

  /**
   * Each test starts from empty tables, with no service of an earlier test still running: its worker's
   * transactions and the TRUNCATE take their locks in different orders, and PostgreSQL then breaks
   * the deadlock by failing one of them (seen as the reset failing on a loaded machine).
   */
  async function emptyTables(): Promise<void> {
    for (const s of services.splice(0)) await s.stop();
    await tdb.reset();
  }

  async function start(env: Record<string, string>): Promise<TestService> {
    const s = await startTestService(tdb.db, env);
    services.push(s);
    return s;
  }

  it('the plaintext never appears in a response after creation, a log line, or a database dump', async () => {
    await emptyTables();
    const svc = await start({});
    const { orgId, apiKey } = await svc.newOrg();
    const base = `/api/orgs/${orgId}/forwarding-destinations`;
    const secret1 = `Bearer leak1-${randomBytes(12).toString('hex')}`;
    const secret2 = `Splunk leak2-${randomBytes(12).toString('hex')}`;
    const bodies: string[] = [];
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await svc.request(method, path, { apiKey, ...(body !== undefined ? { body } : {}) });
      expect(res.status, `${method} ${path}`).toBeLessThan(300);
      bodies.push(res.text, JSON.stringify([...res.headers]));
      return res;
    };

    const created = await call('POST', base, { url: `${receiver.url}/leak`, auth_header_name: 'Authorization', auth_header_value: secret1 });
    const id = created.body.destination_id as string;
    await call('GET', base);
    await call('GET', `${base}/${id}`);
    await call('PATCH', `${base}/${id}`, { enabled: false });
    await call('PATCH', `${base}/${id}`, { enabled: true });
    await call('PATCH', `${base}/${id}`, { url: `${receiver.url}/leak2` });
    expect((await call('POST', `${base}/${id}/test`)).body.ok).toBe(true);
    expect(receiver.requests.at(-1)!.headers.authorization).toBe(secret1);
    await call('PATCH', `${base}/${id}`, { auth_header_value: secret2 });
    expect((await call('POST', `${base}/${id}/test`)).body.ok).toBe(true);
    expect(receiver.requests.at(-1)!.headers.authorization).toBe(secret2);
    // A live delivery through the queue and the worker.
    const pf = await call('POST', `/api/orgs/${orgId}/preflight`, { input: 'hello' });
    await receiver.waitFor((reqs) => reqs.some((r) => r.body.toString().includes(pf.body.preflight_id as string)), 60_000);
    // A refused update carrying a credential, and a failing probe.
    const refused = await svc.request('PATCH', `${base}/${id}`, { apiKey, body: { auth_header_value: `${secret1}\r\n` } });
    expect(refused.status).toBe(400);
    bodies.push(refused.text);
    // Another host: the credential must come along in the same PATCH (never sent to a new host otherwise).
    await call('PATCH', `${base}/${id}`, { url: 'https://no-such-siem.invalid/x', auth_header_value: secret2 });
    expect((await call('POST', `${base}/${id}/test`)).body.ok).toBe(false);
    await call('GET', `${base}/${id}`);

    const logs = svc.logs.text();
    expect(logs.length).toBeGreaterThan(1000);
    expect(logs).toContain(id); // the logs do talk about this destination
    const dump = await dumpDatabase(tdb);
    expect(dump).toContain(id);
    for (const secret of [secret1, secret2]) {
      const token = secret.split(' ')[1]!;
      for (const f of [...forms(secret), ...forms(token)]) {
        expect(logs.includes(f), `log contains ${f}`).toBe(false);
        for (const b of bodies) expect(b.includes(f), `response contains ${f}`).toBe(false);
        expect(dump.includes(f), `database dump contains ${f}`).toBe(false);
      }
    }
  });

  it('key ring: A encrypts; ring "B,A" reads A and encrypts new ones with B; rotate; ring "B" alone delivers everything; no ciphertext under A remains', async () => {
    // The earlier tests' services (stopped here) hold other keys: their workers, woken by this test's
    // trail events (docs/trail.md), would fail to open these credentials and trip the breakers.
    await emptyTables();
    const keyA = `a:${generateKeyBase64()}`;
    const keyB = `b:${generateKeyBase64()}`;
    const svcA = await start({ AEGIS_ENCRYPTION_KEY: keyA, AEGIS_WORKER_INTERVAL_MS: '60000' });
    const { orgId, apiKey } = await svcA.newOrg();
    const base = `/api/orgs/${orgId}/forwarding-destinations`;
    const made: Array<{ id: string; header: string; value: string }> = [];
    for (let i = 0; i < 4; i++) {
      const header = i % 2 ? 'X-Api-Key' : 'Authorization';
      const value = `tok-${i}-${randomBytes(6).toString('hex')}`;
      const res = await svcA.request('POST', base, { apiKey, body: { url: `${receiver.url}/ring/${i}`, auth_header_name: header, auth_header_value: value } });
      expect(res.status).toBe(201);
      made.push({ id: res.body.destination_id, header: header.toLowerCase(), value });
    }
    const signed = await svcA.request('POST', base, { apiKey, body: { url: `${receiver.url}/ring/signed`, signing: true } });
    expect(signed.status).toBe(201);
    const boxes = async () =>
      (
        await tdb.db.query<{ org_id: string; id: string; auth_header_sealed: Buffer | null; signing_secret_sealed: Buffer | null }>(
          'SELECT org_id, id, auth_header_sealed, signing_secret_sealed FROM destinations ORDER BY id',
        )
      ).rows;
    for (const r of await boxes()) {
      for (const b of [r.auth_header_sealed, r.signing_secret_sealed]) if (b) expect(sealedKeyId(Buffer.from(b))).toBe('a');
    }
    await svcA.stop();

    // Ring "B,A": old credentials still work, new ones are sealed with B.
    const svcBA = await start({ AEGIS_ENCRYPTION_KEY: `${keyB},${keyA}`, AEGIS_WORKER_INTERVAL_MS: '60000' });
    const p0 = await svcBA.request('POST', `${base}/${made[0]!.id}/test`, { apiKey });
    expect(p0.body.ok).toBe(true);
    expect(receiver.requests.at(-1)!.headers.authorization).toBe(made[0]!.value);
    const fresh = await svcBA.request('POST', base, {
      apiKey,
      body: { url: `${receiver.url}/ring/fresh`, auth_header_name: 'Authorization', auth_header_value: 'Bearer fresh-one' },
    });
    made.push({ id: fresh.body.destination_id, header: 'authorization', value: 'Bearer fresh-one' });
    const freshRow = (await boxes()).find((r) => r.id === fresh.body.destination_id)!;
    expect(sealedKeyId(Buffer.from(freshRow.auth_header_sealed!))).toBe('b');
    await svcBA.stop();

    const before = await boxes();
    const versions = async () =>
      new Map(
        (await tdb.db.query<{ id: string; v: string }>(`SELECT id, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS.US TZ') AS v FROM destinations`)).rows.map(
          (r) => [r.id, r.v],
        ),
      );
    const versionsBefore = await versions();
    const n = await rotateEncryptionKey(tdb.db, loadConfig({ AEGIS_ENCRYPTION_KEY: `${keyB},${keyA}`, ...(tdb.url ? { DATABASE_URL: tdb.url } : {}) }), true);
    expect(n).toBe(6);
    const after = await boxes();
    const ringA = parseKeyRing(keyA);
    for (const r of after) {
      for (const [purpose, b] of [
        ['auth_header', r.auth_header_sealed],
        ['signing_secret', r.signing_secret_sealed],
      ] as const) {
        if (!b) continue;
        expect(sealedKeyId(Buffer.from(b))).toBe('b');
        expect(() => open(ringA, Buffer.from(b), associatedData(r.org_id, r.id, purpose))).toThrow();
      }
    }
    // Fresh nonces: every box changed.
    for (const r of after) {
      const old = before.find((x) => x.id === r.id)!;
      if (r.auth_header_sealed) expect(Buffer.from(r.auth_header_sealed).equals(Buffer.from(old.auth_header_sealed!))).toBe(false);
    }
    // And every re-encrypted row's version moved: a worker holding its old boxes reads it again.
    const versionsAfter = await versions();
    for (const r of after) expect(versionsAfter.get(r.id), r.id).not.toBe(versionsBefore.get(r.id));

    // Ring "B" alone: every destination probes ok with the right header, and live delivery works.
    const svcB = await start({ AEGIS_ENCRYPTION_KEY: keyB });
    for (const d of made) {
      const res = await svcB.request('POST', `${base}/${d.id}/test`, { apiKey });
      expect(res.body, d.id).toEqual({ ok: true, status_code: 200, error: null });
      expect(receiver.requests.at(-1)!.headers[d.header]).toBe(d.value);
    }
    const ps = await svcB.request('POST', `${base}/${signed.body.destination_id}/test`, { apiKey });
    expect(ps.body.ok).toBe(true);
    expect(receiver.requests.at(-1)!.headers['webhook-signature']).toMatch(/^v1,/);
    const pf = await svcB.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'after rotation' } });
    const live = (reqs: typeof receiver.requests) => reqs.filter((r) => r.body.toString().includes(pf.body.preflight_id as string));
    // Every destination of the org (the five with a header, plus the signed one) gets the event.
    await receiver.waitFor((reqs) => live(reqs).length >= made.length + 1, 60_000);
    for (const d of made) {
      expect(
        live(receiver.requests).some((r) => r.headers[d.header] === d.value),
        d.id,
      ).toBe(true);
    }
  });

  it("a credential whose key left the ring: the probe answers ok:false saying so in the tenant's terms (not a 500), and the card says so", async () => {
    await emptyTables();
    const before = await start({ AEGIS_ENCRYPTION_KEY: `old:${generateKeyBase64()}`, AEGIS_WORKER_INTERVAL_MS: '60000' });
    const { orgId, apiKey } = await before.newOrg();
    const base = `/api/orgs/${orgId}/forwarding-destinations`;
    const d = await before.request('POST', base, {
      apiKey,
      body: { url: `${receiver.url}/lost`, auth_header_name: 'Authorization', auth_header_value: 'Bearer lost' },
    });
    await before.stop();
    const after = await start({ AEGIS_ENCRYPTION_KEY: `new:${generateKeyBase64()}`, AEGIS_WORKER_INTERVAL_MS: '60000' });
    const sent = receiver.requests.length;
    const res = await after.request('POST', `${base}/${d.body.destination_id}/test`, { apiKey });
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.status_code).toBeNull();
    // What it means and what the tenant can do; the server's setting and key id are the operator's.
    expect(res.body.error).toBe(CREDENTIAL_UNREADABLE_MESSAGE);
    expect(res.body.error).not.toMatch(/AEGIS_|"old"/);
    expect(receiver.requests.length).toBe(sent); // nothing sent without its credential
    const got = await after.request('GET', `${base}/${d.body.destination_id}`, { apiKey });
    expect(got.body.status).toBe('failing');
    expect(got.body.last_error).toBe(CREDENTIAL_UNREADABLE_MESSAGE);
  });

  it('a credential sealed for one destination does not open for another (associated data binds the row)', async () => {
    const ring = parseKeyRing(generateKeyBase64());
    const { seal } = await import('../../../src/crypto/sealedBox.js');
    const box = seal(ring, 'Bearer bound', associatedData('org_a', 'fwd_1', 'auth_header'));
    expect(open(ring, box, associatedData('org_a', 'fwd_1', 'auth_header'))).toBe('Bearer bound');
    expect(() => open(ring, box, associatedData('org_a', 'fwd_2', 'auth_header'))).toThrow();
    expect(box.includes(Buffer.from('Bearer bound'))).toBe(false);
  });
});
