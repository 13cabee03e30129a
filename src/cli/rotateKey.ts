import type { Config } from '../config/env.js';
import type { Db, Queryable } from '../db/types.js';
import { loadKeyRing, prependKeyToFile } from '../crypto/keyring.js';
import { associatedData, DecryptError, open, seal, type SealedPurpose } from '../crypto/sealedBox.js';
import { CliError } from './database.js';
import { getSealedCredentials, listSealedCredentials, replaceSealedCredentials, type SealedCredentials } from '../destinations/sealedColumns.js';
import { progressBar } from './progress.js';
import { listSealedWebhookSecrets, replaceSealedWebhookSecret } from '../alerts/repository.js';
import { webhookSecretAad } from '../alerts/settings.js';
import type { TrailActor } from '../trail/contract.js';
import { recordTrail } from '../trail/record.js';
import { cliActor } from './actor.js';

/** The trail's names of the sealed columns (changed_fields of encryption_key_rotated). */
const FIELD_OF = {
  auth_header_sealed: 'auth_header_value',
  signing_secret_sealed: 'signing_secret',
  previous_signing_secret_sealed: 'signing_secret',
  auth_client_secret_sealed: 'auth.client_secret',
} as const;
const FIELD_ORDER = ['auth_header_value', 'signing_secret', 'auth.client_secret', 'webhook_signing_secret'];

type Ring = Awaited<ReturnType<typeof loadKeyRing>>['ring'];

/** What a rotation did: destinations and operational-webhook secrets re-encrypted, trail records written. */
export interface RotationResult {
  destinations: number;
  webhookSecrets: number;
  /** Organizations whose configuration trail got an encryption_key_rotated record (one each). */
  trailRecords: number;
}

/** Re-encrypts every sealed credential under the primary key; returns how many destinations were processed. */
export async function rotateEncryptionKey(db: Db, config: Config, quiet = false, actor: TrailActor = cliActor()): Promise<number> {
  return (await rotateEncryptionKeyReport(db, config, quiet, actor)).destinations;
}

/**
 * What `rotate-encryption-key` prints: the trail line only when a record was written. With nothing
 * sealed nothing is recorded anywhere, and saying "Recorded in each organization's configuration
 * trail" then would send the operator looking for a record that does not exist.
 */
export function rotationSummary(r: RotationResult, actorId: string, userAtHost: string): { out: string; trail: string | null } {
  const hooks = r.webhookSecrets > 0 ? ` and ${r.webhookSecrets} operational-webhook secret(s)` : '';
  return {
    out: `Re-encrypted ${r.destinations} credential(s)${hooks} with the first key of the ring.`,
    trail:
      r.trailRecords > 0
        ? `Recorded in the configuration trail of ${r.trailRecords} organization(s) as encryption_key_rotated by ${actorId} (${userAtHost}).`
        : null,
  };
}

/**
 * Re-encrypts every sealed credential under the primary key.
 *
 * One transaction per organization: its destinations' credentials, its operational-webhook secret
 * and one encryption_key_rotated event in its configuration trail (docs/trail.md), by the
 * command-line actor, commit together, so every SIEM of the organization learns that its secrets were
 * re-encrypted, and by whom, exactly when it happened. An organization with nothing sealed records
 * nothing. A failure stops at that organization; those before it are done and on record, and running
 * the command again is safe.
 */
export async function rotateEncryptionKeyReport(db: Db, config: Config, quiet = false, actor: TrailActor = cliActor()): Promise<RotationResult> {
  let ring = (await loadKeyRing(config)).ring;
  if (!config.encryptionKey && !config.databaseUrl) ring = await prependKeyToFile(config.dataDir);
  const rows = await listSealedCredentials(db);
  const hooks = await listSealedWebhookSecrets(db);
  // Grouped once (filtering every row for each organization was quadratic: minutes of CPU before
  // the first write with thousands of organizations).
  const rowsByOrg = new Map<string, SealedCredentials[]>();
  for (const r of rows) {
    const list = rowsByOrg.get(r.org_id);
    if (list) list.push(r);
    else rowsByOrg.set(r.org_id, [r]);
  }
  const hookByOrg = new Map(hooks.map((h) => [h.org_id, h] as const));
  const orgIds = [...new Set([...rowsByOrg.keys(), ...hookByOrg.keys()])].sort();
  const bar = quiet ? null : progressBar('Re-encrypting credentials', rows.length);
  let n = 0;
  let webhookSecrets = 0;
  let trailRecords = 0;
  for (const orgId of orgIds) {
    const orgRows = rowsByOrg.get(orgId) ?? [];
    const hook = hookByOrg.get(orgId) ?? null;
    // Re-encrypted for good only once this organization's transaction commits.
    const committed = n;
    const done = await db.transaction(async (tx) => {
      const fields = new Set<string>();
      let count = 0;
      for (const listed of orgRows) {
        for (const f of await rotateDestination(tx, ring, listed, committed)) fields.add(f);
        count++;
        bar?.update(committed + count);
      }
      const hookRotated = hook !== null && (await rotateWebhookSecret(tx, ring, hook));
      if (hookRotated) fields.add('webhook_signing_secret');
      if (fields.size > 0) {
        await recordTrail(tx, { orgId, actor, changes: [{ action: 'encryption_key_rotated', changedFields: FIELD_ORDER.filter((f) => fields.has(f)) }] });
      }
      return { count, hookRotated, recorded: fields.size > 0 };
    });
    // Counted once committed: a transaction tried again (or failed) counts nothing twice.
    n += done.count;
    if (done.hookRotated) webhookSecrets++;
    if (done.recorded) trailRecords++;
  }
  bar?.done();
  return { destinations: n, webhookSecrets, trailRecords };
}

/** One destination's sealed columns under the primary key; the trail's names of those it held. */
async function rotateDestination(tx: Queryable, ring: Ring, listed: SealedCredentials, committed: number): Promise<string[]> {
  const reseal = (row: SealedCredentials, box: Buffer | null, purpose: SealedPurpose) => {
    if (!box) return null;
    const aad = associatedData(row.org_id, row.id, purpose);
    let plaintext: string;
    try {
      plaintext = open(ring, Buffer.from(box), aad);
    } catch (err) {
      if (!(err instanceof DecryptError)) throw err;
      throw new CliError(
        `destination ${row.id}: ${err.message}. Keep every old key in AEGIS_ENCRYPTION_KEY, after the new one, until this command has finished` +
          (committed > 0 ? ` (${committed} destination(s) were already re-encrypted; running it again is safe).` : '.'),
      );
    }
    return seal(ring, plaintext, aad);
  };
  // Compare-and-set: if the credential was rotated or removed through the API meanwhile, re-read
  // the row and re-encrypt what is there now (a new value is usually already under the new key).
  let row: SealedCredentials | null = listed;
  for (let attempt = 0; row && attempt < 5; attempt++) {
    const resealed = {
      auth_header_sealed: reseal(row, row.auth_header_sealed, 'auth_header'),
      signing_secret_sealed: reseal(row, row.signing_secret_sealed, 'signing_secret'),
      previous_signing_secret_sealed: reseal(row, row.previous_signing_secret_sealed, 'previous_signing_secret'),
      auth_client_secret_sealed: reseal(row, row.auth_client_secret_sealed, 'oauth_client_secret'),
    };
    if (await replaceSealedCredentials(tx, row, resealed)) {
      return (Object.keys(FIELD_OF) as Array<keyof typeof FIELD_OF>).filter((k) => resealed[k] !== null).map((k) => FIELD_OF[k]);
    }
    row = await getSealedCredentials(tx, listed.org_id, listed.id);
    if (attempt === 4) throw new Error(`destination ${listed.id} kept changing during rotation; run the command again`);
  }
  return []; // deleted meanwhile: nothing of it is left to re-encrypt
}

/** An organization's operational-webhook signing secret (docs/alerts.md), re-encrypted the same way; false if it changed meanwhile. */
async function rotateWebhookSecret(tx: Queryable, ring: Ring, row: { org_id: string; webhook_secret_sealed: Buffer }): Promise<boolean> {
  const aad = webhookSecretAad(row.org_id);
  const before = Buffer.from(row.webhook_secret_sealed);
  let plaintext: string;
  try {
    plaintext = open(ring, before, aad);
  } catch (err) {
    if (!(err instanceof DecryptError)) throw err;
    throw new CliError(
      `notification settings of ${row.org_id}: ${err.message}. Keep every old key in AEGIS_ENCRYPTION_KEY, after the new one, until this command has finished (running it again is safe).`,
    );
  }
  // A secret rotated through the API meanwhile is new, so already under the new key: keep it.
  return replaceSealedWebhookSecret(tx, row.org_id, before, seal(ring, plaintext, aad));
}
