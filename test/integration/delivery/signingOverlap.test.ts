// Issue 13, signing secret rotation with overlap: after rotate_signing_secret, every delivery carries a
// signature by the new secret and one by the previous secret until AEGIS_SIGNING_OVERLAP_HOURS have
// passed, so a receiver verifying with either secret (checked with the vendor's standardwebhooks
// library) never rejects a delivery while it switches; then only the new secret signs.
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateEncryptionKey } from '../../../src/cli/rotateKey.js';
import { loadConfig } from '../../../src/config/env.js';
import { generateKeyBase64, parseKeyRing } from '../../../src/crypto/keyring.js';
import { sealedKeyId } from '../../../src/crypto/sealedBox.js';
import { openSecrets } from '../../../src/destinations/credentials.js';
import type { DestinationRow } from '../../../src/destinations/row.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { ok, startReceiver, type ReceivedRequest, type Receiver } from '../../support/httpsReceiver.js';
import { seedEvents } from './support.js';

const KEY_A = `a:${generateKeyBase64()}`;

describe.each(DB_KINDS)('signing secret rotation keeps both signatures for the overlap (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let r: Receiver;
  let org: { orgId: string; apiKey: string };

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    r = await startReceiver(ok());
    svc = await startTestService(tdb.db, { AEGIS_ENCRYPTION_KEY: KEY_A });
    org = await svc.newOrg();
  });
  afterAll(async () => {
    await svc?.stop();
    await r?.close();
    await tdb?.close();
  });

  const path = (id = '') => `/api/orgs/${org.orgId}/forwarding-destinations${id ? `/${id}` : ''}`;
  const headersOf = (req: ReceivedRequest) => Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
  const verifies = (secret: string, req: ReceivedRequest) => {
    try {
      new Webhook(secret).verify(req.body.toString('utf8'), headersOf(req));
      return true;
    } catch {
      return false;
    }
  };
  /** Records one event for the organization and returns the request that delivered it to `hook`. */
  async function deliverOne(hook: string): Promise<ReceivedRequest> {
    const [id] = await seedEvents(tdb.db, org.orgId, 1);
    const find = (reqs: ReceivedRequest[]) => reqs.find((q) => q.path === hook && q.headers['webhook-id'] === id);
    return find(await r.waitFor((reqs) => find(reqs) !== undefined, 60_000))!;
  }

  it('deliveries verify with the new and the previous secret until the overlap ends, then with the new one only', async () => {
    const hook = '/overlap';
    const created = await svc.request('POST', path(), { apiKey: org.apiKey, body: { url: `${r.url}${hook}`, signing: true } });
    expect(created.status, created.text).toBe(201);
    const id = created.body.destination_id as string;
    const first = created.body.signing_secret as string;
    expect(created.body.previous_signing_secret_until).toBeNull();

    const rotated = await svc.request('PATCH', path(id), { apiKey: org.apiKey, body: { rotate_signing_secret: true } });
    expect(rotated.status, rotated.text).toBe(200);
    const second = rotated.body.signing_secret as string;
    expect(second).toMatch(/^whsec_/);
    expect(second).not.toBe(first);
    // The default overlap: 24 hours from the rotation (within a minute of it, whatever the clock).
    const until = Date.parse(rotated.body.previous_signing_secret_until as string);
    expect(Math.abs(until - (Date.now() + 24 * 3_600_000))).toBeLessThan(60_000);
    // Neither secret is ever answered again.
    const shown = await svc.request('GET', path(id), { apiKey: org.apiKey });
    expect(shown.text).not.toContain(first);
    expect(shown.text).not.toContain(second);
    expect(shown.body.previous_signing_secret_until).toBe(rotated.body.previous_signing_secret_until);

    const during = await deliverOne(hook);
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifies(second, during)).toBe(true);
    expect(verifies(first, during)).toBe(true);
    expect(verifies(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, during)).toBe(false);

    // The overlap ends (moved into the past rather than waited for). A running lane keeps the target it
    // loaded, so the service restarts to read the stored state afresh, as it would after 24 hours.
    await tdb.db.query(`UPDATE destinations SET previous_signing_secret_until = now() - interval '1 second' WHERE id = $1`, [id]);
    await svc.stop();
    svc = await startTestService(tdb.db, { AEGIS_ENCRYPTION_KEY: KEY_A });
    const after = await deliverOne(hook);
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifies(second, after)).toBe(true);
    expect(verifies(first, after)).toBe(false);
    expect((await svc.request('GET', path(id), { apiKey: org.apiKey })).body.previous_signing_secret_until).toBeNull();
  });

  it('a second rotation within the overlap retires the current secret: receivers need only the last two', async () => {
    const hook = '/twice';
    const created = await svc.request('POST', path(), { apiKey: org.apiKey, body: { url: `${r.url}${hook}`, signing: true } });
    const id = created.body.destination_id as string;
    const a = created.body.signing_secret as string;
    const b = (await svc.request('PATCH', path(id), { apiKey: org.apiKey, body: { rotate_signing_secret: true } })).body.signing_secret as string;
    const c = (await svc.request('PATCH', path(id), { apiKey: org.apiKey, body: { rotate_signing_secret: true } })).body.signing_secret as string;
    const req = await deliverOne(hook);
    expect([verifies(c, req), verifies(b, req), verifies(a, req)]).toEqual([true, true, false]);

    // Turning signing off forgets both; turning it on again starts with one secret and no overlap.
    const off = await svc.request('PATCH', path(id), { apiKey: org.apiKey, body: { signing: false } });
    expect(off.body.signing_enabled).toBe(false);
    expect(off.body.previous_signing_secret_until).toBeNull();
    const { rows } = await tdb.db.query<{ p: Buffer | null }>('SELECT previous_signing_secret_sealed AS p FROM destinations WHERE id = $1', [id]);
    expect(rows[0]!.p).toBeNull();
    const on = await svc.request('PATCH', path(id), { apiKey: org.apiKey, body: { signing: true } });
    expect(on.body.previous_signing_secret_until).toBeNull();
    const single = await deliverOne(hook);
    expect(String(single.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifies(on.body.signing_secret as string, single)).toBe(true);
  });

  it('rotate-encryption-key re-encrypts the previous secret too, and it still signs', async () => {
    const created = await svc.request('POST', path(), { apiKey: org.apiKey, body: { url: `${r.url}/rekey`, signing: true } });
    const id = created.body.destination_id as string;
    const old = created.body.signing_secret as string;
    await svc.request('PATCH', path(id), { apiKey: org.apiKey, body: { rotate_signing_secret: true } });

    const keyB = `b:${generateKeyBase64()}`;
    await rotateEncryptionKey(tdb.db, loadConfig({ AEGIS_ENCRYPTION_KEY: `${keyB},${KEY_A}`, ...(tdb.url ? { DATABASE_URL: tdb.url } : {}) }), true);
    const { rows } = await tdb.db.query<DestinationRow>('SELECT * FROM destinations WHERE id = $1', [id]);
    const row = rows[0]!;
    expect(sealedKeyId(Buffer.from(row.previous_signing_secret_sealed!))).toBe('b');
    // Under the new key alone, the previous secret opens to what the destination was created with.
    expect(openSecrets(parseKeyRing(keyB), row).previousSigningSecret?.secret).toBe(old);
  });
});
