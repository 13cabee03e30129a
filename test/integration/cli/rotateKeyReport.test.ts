// `rotate-encryption-key` reports what it did: the trail line is printed only when an organization's
// configuration trail really got an encryption_key_rotated record (none with nothing sealed), and the
// webhook-only case (no destination credential, an operational-webhook secret) still says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/env.js';
import { generateKeyBase64, parseKeyRing } from '../../../src/crypto/keyring.js';
import { rotateEncryptionKeyReport, rotationSummary } from '../../../src/cli/rotateKey.js';
import { sealAuthHeader } from '../../../src/destinations/credentials.js';
import { insertDestination } from '../../../src/destinations/writes.js';
import { putNotificationSettings } from '../../../src/alerts/repository.js';
import { webhookSecretAad } from '../../../src/alerts/settings.js';
import { seal } from '../../../src/crypto/sealedBox.js';
import { createOrg } from '../../../src/orgs/repository.js';
import { cliActor } from '../../../src/cli/actor.js';
import { openTestDb, type TestDb } from '../../support/db.js';

const KEY = `k1:${generateKeyBase64()}`;
const config = loadConfig({ AEGIS_ENCRYPTION_KEY: KEY });
const actor = cliActor('operator@host');

describe('rotate-encryption-key, what it reports (pglite)', () => {
  let tdb: TestDb;
  const trailRecords = async () =>
    (
      await tdb.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_events WHERE left(id, 4) = 'cfg_' AND payload::text LIKE '%encryption_key_rotated%'`,
      )
    ).rows[0]!.n;

  beforeAll(async () => {
    tdb = await openTestDb('pglite');
  });
  afterAll(async () => {
    await tdb?.close();
  });

  it('with nothing sealed: re-encrypts nothing, records nothing, and says no trail line', async () => {
    await createOrg(tdb.db, 'Empty org');
    const result = await rotateEncryptionKeyReport(tdb.db, config, true, actor);
    expect(result).toEqual({ destinations: 0, webhookSecrets: 0, trailRecords: 0 });
    expect(await trailRecords()).toBe(0);
    const summary = rotationSummary(result, actor.id, 'operator@host');
    expect(summary.out).toMatch(/^Re-encrypted 0 credential\(s\)/);
    expect(summary.trail).toBeNull();
  });

  it('with only an operational-webhook secret: records it and says so', async () => {
    const ring = parseKeyRing(KEY);
    const org = await createOrg(tdb.db, 'Webhook org');
    await putNotificationSettings(tdb.db, {
      org_id: org.id,
      emails: [],
      webhook_url: 'https://hooks.example.com/aegis',
      webhook_secret_sealed: seal(ring, 'whsec-0123456789', webhookSecretAad(org.id)),
    });
    const result = await rotateEncryptionKeyReport(tdb.db, config, true, actor);
    expect(result).toEqual({ destinations: 0, webhookSecrets: 1, trailRecords: 1 });
    expect(await trailRecords()).toBe(1);
    const summary = rotationSummary(result, actor.id, 'operator@host');
    expect(summary.out).toMatch(/1 operational-webhook secret/);
    expect(summary.trail).toBe(`Recorded in the configuration trail of 1 organization(s) as encryption_key_rotated by ${actor.id} (operator@host).`);
  });

  it('with a destination credential: counts it and its trail record', async () => {
    const ring = parseKeyRing(KEY);
    const org = await createOrg(tdb.db, 'Destination org');
    await insertDestination(tdb.db, {
      org_id: org.id,
      id: 'fwd_rotatereport0001',
      siem: 'custom',
      name: null,
      url: 'https://siem.example.com/hook',
      auth_header_name: 'Authorization',
      auth_header_sealed: sealAuthHeader(ring, org.id, 'fwd_rotatereport0001', 'Bearer t'),
      signing_secret_sealed: null,
      options: {},
      filter: null,
      enabled: true,
    });
    // The webhook org of the test before is rotated again too: two organizations, two records.
    const result = await rotateEncryptionKeyReport(tdb.db, config, true, actor);
    expect(result).toEqual({ destinations: 1, webhookSecrets: 1, trailRecords: 2 });
    expect(rotationSummary(result, actor.id, 'operator@host').trail).toMatch(/^Recorded in the configuration trail of 2 organization\(s\)/);
  });
});
