import type { Config } from '../config/env.js';
import type { Db } from '../db/types.js';
import { loadKeyRing, prependKeyToFile } from '../crypto/keyring.js';
import { associatedData, open, seal } from '../crypto/sealedBox.js';
import { listSealedCredentials, replaceSealedCredentials } from '../destinations/repository.js';
import { progressBar } from './progress.js';

/** Re-encrypts every sealed credential under the primary key; returns how many destinations changed. */
export async function rotateEncryptionKey(db: Db, config: Config, quiet = false): Promise<number> {
  let ring = (await loadKeyRing(config)).ring;
  if (!config.encryptionKey && !config.databaseUrl) ring = await prependKeyToFile(config.dataDir);
  const rows = await listSealedCredentials(db);
  const bar = quiet ? null : progressBar('Re-encrypting credentials', rows.length);
  let n = 0;
  for (const row of rows) {
    const reseal = (box: Buffer | null, purpose: 'auth_header' | 'signing_secret') => {
      if (!box) return null;
      const aad = associatedData(row.org_id, row.id, purpose);
      return seal(ring, open(ring, Buffer.from(box), aad), aad);
    };
    await replaceSealedCredentials(db, row.org_id, row.id, reseal(row.auth_header_sealed, 'auth_header'), reseal(row.signing_secret_sealed, 'signing_secret'));
    bar?.update(++n);
  }
  bar?.done();
  return n;
}
