import type { Config } from '../config/env.js';
import type { Db } from '../db/types.js';
import { loadKeyRing, prependKeyToFile } from '../crypto/keyring.js';
import { associatedData, DecryptError, open, seal, type SealedPurpose } from '../crypto/sealedBox.js';
import { CliError } from './database.js';
import { getSealedCredentials, listSealedCredentials, replaceSealedCredentials } from '../destinations/repository.js';
import { progressBar } from './progress.js';
import { listSealedWebhookSecrets, replaceSealedWebhookSecret } from '../alerts/repository.js';
import { webhookSecretAad } from '../alerts/settings.js';

/** Re-encrypts every sealed credential under the primary key; returns how many destinations were processed. */
export async function rotateEncryptionKey(db: Db, config: Config, quiet = false): Promise<number> {
  let ring = (await loadKeyRing(config)).ring;
  if (!config.encryptionKey && !config.databaseUrl) ring = await prependKeyToFile(config.dataDir);
  const rows = await listSealedCredentials(db);
  const bar = quiet ? null : progressBar('Re-encrypting credentials', rows.length);
  let n = 0;
  for (const listed of rows) {
    const reseal = (row: typeof listed, box: Buffer | null, purpose: SealedPurpose) => {
      if (!box) return null;
      const aad = associatedData(row.org_id, row.id, purpose);
      let plaintext: string;
      try {
        plaintext = open(ring, Buffer.from(box), aad);
      } catch (err) {
        if (!(err instanceof DecryptError)) throw err;
        throw new CliError(
          `destination ${row.id}: ${err.message}. Keep every old key in AEGIS_ENCRYPTION_KEY, after the new one, until this command has finished` +
            (n > 0 ? ` (${n} destination(s) were already re-encrypted; running it again is safe).` : '.'),
        );
      }
      return seal(ring, plaintext, aad);
    };
    // Compare-and-set: if the credential was rotated or removed through the API meanwhile, re-read
    // the row and re-encrypt what is there now (a new value is usually already under the new key).
    let row: typeof listed | null = listed;
    for (let attempt = 0; row && attempt < 5; attempt++) {
      const resealed = {
        auth_header_sealed: reseal(row, row.auth_header_sealed, 'auth_header'),
        signing_secret_sealed: reseal(row, row.signing_secret_sealed, 'signing_secret'),
        previous_signing_secret_sealed: reseal(row, row.previous_signing_secret_sealed, 'previous_signing_secret'),
        auth_client_secret_sealed: reseal(row, row.auth_client_secret_sealed, 'oauth_client_secret'),
      };
      if (await replaceSealedCredentials(db, row, resealed)) break;
      row = await getSealedCredentials(db, listed.org_id, listed.id);
      if (attempt === 4) throw new Error(`destination ${listed.id} kept changing during rotation; run the command again`);
    }
    n++;
    bar?.update(n);
  }
  bar?.done();
  await rotateWebhookSecrets(db, ring);
  return n;
}

/** The organizations' operational-webhook signing secrets (docs/alerts.md), re-encrypted the same way. */
async function rotateWebhookSecrets(db: Db, ring: Awaited<ReturnType<typeof loadKeyRing>>['ring']): Promise<void> {
  for (const row of await listSealedWebhookSecrets(db)) {
    const aad = webhookSecretAad(row.org_id);
    const before = Buffer.from(row.webhook_secret_sealed);
    let plaintext: string;
    try {
      plaintext = open(ring, before, aad);
    } catch (err) {
      if (!(err instanceof DecryptError)) throw err;
      throw new CliError(`notification settings of ${row.org_id}: ${err.message}. Keep every old key in AEGIS_ENCRYPTION_KEY, after the new one, until this command has finished (running it again is safe).`);
    }
    // A secret rotated through the API meanwhile is new, so already under the new key: keep it.
    await replaceSealedWebhookSecret(db, row.org_id, before, seal(ring, plaintext, aad));
  }
}
