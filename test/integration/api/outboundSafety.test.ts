// Issue 2, outbound safety: with local destinations NOT allowed (the production default), https only,
// and every SSRF form of a private/loopback/metadata address is refused without a connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { generateKeyBase64 } from '../../../src/crypto/keyring.js';

describe.each(DB_KINDS)('outbound safety with private destinations refused (%s)', (kind) => {
  let tdb: TestDb;
  let strict: TestService;
  let lax: TestService;
  let receiver: Receiver;
  let orgId: string;
  let apiKey: string;
  const base = () => `/api/orgs/${orgId}/forwarding-destinations`;
  const count = async () => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM destinations')).rows[0]!.n;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    const key = generateKeyBase64();
    // Both processes share one database and key ring: `lax` (development) can store a loopback URL,
    // which `strict` (production) must still refuse at connect time.
    strict = await startTestService(tdb.db, { AEGIS_ALLOW_PRIVATE_DESTINATIONS: '0', AEGIS_ENCRYPTION_KEY: key });
    lax = await startTestService(tdb.db, { AEGIS_ALLOW_PRIVATE_DESTINATIONS: '1', AEGIS_ENCRYPTION_KEY: key }, 'api');
    receiver = await startReceiver();
    ({ orgId, apiKey } = await strict.newOrg());
  });
  afterAll(async () => {
    await strict?.stop();
    await lax?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  it('http:// is refused at create (400 naming url), and so is a PATCH to http://', async () => {
    const before = await count();
    const res = await strict.request('POST', base(), { apiKey, body: { url: 'http://siem.example.com/ingest' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message).toMatch(/^url: /);
    expect(res.body.error.message).toMatch(/https/);
    expect(await count()).toBe(before);

    const ok = await strict.request('POST', base(), { apiKey, body: { url: 'https://siem.example.com/ingest', enabled: false } });
    expect(ok.status).toBe(201);
    const patched = await strict.request('PATCH', `${base()}/${ok.body.destination_id}`, { apiKey, body: { url: 'http://siem.example.com/ingest' } });
    expect(patched.status).toBe(400);
    expect(patched.body.error.message).toMatch(/^url: /);
    expect((await strict.request('GET', `${base()}/${ok.body.destination_id}`, { apiKey })).body.url).toBe('https://siem.example.com/ingest');
  });

  const forms = (port: number) => [
    `https://127.0.0.1:${port}/ingest`,
    `https://localhost:${port}/ingest`,
    `https://LOCALHOST.:${port}/ingest`,
    `https://api.localhost:${port}/ingest`,
    `https://[::1]:${port}/ingest`,
    `https://2130706433:${port}/ingest`,
    `https://0x7f000001:${port}/ingest`,
    `https://0177.0.0.1:${port}/ingest`,
    `https://127.1:${port}/ingest`,
    `https://0:${port}/ingest`,
    `https://0.0.0.0:${port}/ingest`,
    `https://[::ffff:127.0.0.1]:${port}/ingest`,
    `https://[::ffff:7f00:1]:${port}/ingest`,
    `https://[0:0:0:0:0:ffff:7f00:1]:${port}/ingest`,
    `https://[::]:${port}/ingest`,
    'https://169.254.169.254/latest/meta-data/',
    'https://[fd00:ec2::254]/latest/meta-data/',
    'https://10.0.0.1/ingest',
    'https://10.255.255.255/ingest',
    'https://172.16.0.1/ingest',
    'https://192.168.1.1/ingest',
    'https://100.64.0.1/ingest',
    'https://[fc00::1]/ingest',
    'https://[fe80::1]/ingest',
    'https://[64:ff9b::7f00:1]/ingest',
    'https://[2002:7f00:1::]/ingest',
  ];

  it('every SSRF form is refused at create with a 400 naming url, and no connection is made', async () => {
    const before = await count();
    for (const url of forms(receiver.port)) {
      const res = await strict.request('POST', base(), { apiKey, body: { url, auth_header_name: 'Authorization', auth_header_value: 'Bearer t' } });
      expect(res.status, url).toBe(400);
      expect(res.body.error.message, url).toMatch(/^url: /);
    }
    expect(await count()).toBe(before);
    expect(receiver.connections).toBe(0);
  });

  it('every SSRF form is refused by PATCH url too (the row keeps its URL)', async () => {
    const d = await strict.request('POST', base(), { apiKey, body: { url: 'https://siem.example.com/a', enabled: false } });
    for (const url of forms(receiver.port)) {
      const res = await strict.request('PATCH', `${base()}/${d.body.destination_id}`, { apiKey, body: { url } });
      expect(res.status, url).toBe(400);
      expect(res.body.error.message, url).toMatch(/^url: /);
    }
    expect((await strict.request('GET', `${base()}/${d.body.destination_id}`, { apiKey })).body.url).toBe('https://siem.example.com/a');
    expect(receiver.connections).toBe(0);
  });

  it('a stored loopback destination is still refused at connect time: the probe and the worker make no connection', async () => {
    // Stored through the development process (as if the flag was on once, or DNS changed later).
    const d = await lax.request('POST', base(), {
      apiKey,
      body: { url: `https://localhost:${receiver.port}/ingest`, auth_header_name: 'Authorization', auth_header_value: 'Bearer t' },
    });
    expect(d.status).toBe(201);
    const probe = await strict.request('POST', `${base()}/${d.body.destination_id}/test`, { apiKey });
    expect(probe.status).toBe(200);
    expect(probe.body.ok).toBe(false);
    expect(probe.body.status_code).toBeNull();
    expect(probe.body.error).toMatch(/private|loopback|refused/i);

    const pf = await strict.request('POST', `/api/orgs/${orgId}/preflight`, { apiKey, body: { input: 'hello' } });
    expect(pf.status).toBe(200);
    await expect
      .poll(async () => String((await strict.request('GET', `${base()}/${d.body.destination_id}`, { apiKey })).body.last_error), { timeout: 60_000 })
      .toMatch(/private|loopback|refused/i);
    expect(receiver.connections).toBe(0);
    expect(receiver.requests).toHaveLength(0);
  });
});
