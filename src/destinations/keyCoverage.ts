// Which sealed credentials the key ring cannot open because their key is not in it: what a wrong or
// rotated-away AEGIS_ENCRYPTION_KEY looks like, told to the operator by key id (never a key or a
// credential). The per-destination rule for the worker, and the count for a start-up check.
import type { KeyRing } from '../crypto/keyring.js';
import { sealedKeyId } from '../crypto/sealedBox.js';
import type { Queryable } from '../db/types.js';
import type { Logger } from '../logger.js';
import { countSealedByKeyId, type SealedCredentials } from './sealedColumns.js';
import { countWebhookSecretsByKeyId } from '../alerts/repository.js';

type SealedColumns = Omit<SealedCredentials, 'org_id' | 'id'>;

/** The key ids a row's credentials were sealed with that the ring lacks (sorted, each once). */
export function keyIdsOutsideRing(ring: KeyRing, row: SealedColumns): string[] {
  const missing = new Set<string>();
  for (const box of [row.auth_header_sealed, row.signing_secret_sealed, row.previous_signing_secret_sealed, row.auth_client_secret_sealed]) {
    if (!box) continue;
    let id: string;
    try {
      id = sealedKeyId(Buffer.from(box));
    } catch {
      continue; // not a box of a version we know: no key id to name
    }
    if (!ring.byId.has(id)) missing.add(id);
  }
  return [...missing].sort();
}

export async function credentialsOutsideRing(db: Queryable, ring: KeyRing): Promise<{ credentials: number; keyIds: string[] }> {
  const rows = await countSealedByKeyId(db);
  const outside = rows.filter((r) => !ring.byId.has(r.key_id));
  return { credentials: outside.reduce((n, r) => n + r.credentials, 0), keyIds: outside.map((r) => r.key_id).sort() };
}

export interface CoverageCheck {
  /** The ids in the data directory's key file, read when AEGIS_ENCRYPTION_KEY is set and a credential is outside it. */
  ignoredKeyFile?: () => Promise<Set<string>>;
  /** Where the ring came from (the warning names the file when it is the data directory's). */
  ringSource?: 'env' | 'file';
  /**
   * The key file this start generated in a data directory whose database was already there: said
   * loudly, but only when credentials stored under another key show it was a copy or restore without
   * its file. A database made by `aegis-stream migrate` or `orgs create` before the first start has
   * none, and a contract review's operator was sent after a restore that never happened.
   */
  generatedKeyFile?: string;
}

/**
 * The start-up check (after migrations): one warning when stored credentials were sealed with keys
 * the ring lacks, before the worker turns their destinations failing one by one. Never fails the
 * start: a check that cannot run says so and lets the service come up.
 */
export async function warnOfCredentialsOutsideRing(db: Queryable, ring: KeyRing, logger: Logger, check: CoverageCheck = {}): Promise<void> {
  const { ignoredKeyFile, ringSource = 'env', generatedKeyFile } = check;
  try {
    const { credentials, keyIds } = await credentialsOutsideRing(db, ring);
    // The alert webhooks' signing secrets are sealed too (an attacker's review: a restore whose only
    // secret was one of them lost it without a word, and every webhook alert was then dropped).
    const webhookSecrets = (await countWebhookSecretsByKeyId(db)).filter((r) => !ring.byId.has(r.key_id)).reduce((n, r) => n + r.secrets, 0);
    if (generatedKeyFile !== undefined && credentials + webhookSecrets > 0)
      // A restore or copy of the data directory without its key file (a disaster-recovery review: the
      // only hint was an info line, and tenants then set credentials under the new key, which putting
      // the old file back alone made unreadable in turn).
      logger.warn(
        { key_file: generatedKeyFile },
        "generated a NEW encryption key: the data directory holds a database with stored credentials but had no encryption.key (a copy or restore without it?). Credentials stored under the old key cannot be opened: stop the service, add the old file's lines after this one's in encryption.key (keep both, so credentials set meanwhile stay readable), start again and run aegis-stream rotate-encryption-key",
      );
    if (webhookSecrets > 0)
      logger.warn(
        { webhook_secrets: webhookSecrets },
        "alert webhooks' signing secrets were encrypted with keys not in the key ring: those organizations' webhook alerts cannot be sent until the keys are back in the ring, or their signing secret is rotated (Settings, Notifications, Rotate signing secret)",
      );
    if (credentials === 0) return;
    // The usual cause on the embedded default: AEGIS_ENCRYPTION_KEY set after the data directory's
    // generated key sealed them (an operator's review found the warning silent about it). Its ids are
    // read only then: a start with nothing to warn of reads no file.
    const fileIds = ignoredKeyFile ? await ignoredKeyFile() : new Set<string>();
    const inFile = keyIds.filter((id) => fileIds.has(id));
    logger.warn(
      { credentials, key_ids: keyIds, ...(inFile.length > 0 ? { in_data_dir_key_file: inFile } : {}) },
      inFile.length > 0
        ? "stored destination credentials were encrypted with keys not in AEGIS_ENCRYPTION_KEY but in the data directory's encryption.key, which is not read while AEGIS_ENCRYPTION_KEY is set: add the file's keys after yours in AEGIS_ENCRYPTION_KEY, then run aegis-stream rotate-encryption-key"
        : ringSource === 'file'
          ? // The ring came from the data directory's key file (AEGIS_ENCRYPTION_KEY unset): name that.
            "stored destination credentials were encrypted with keys not in the data directory's encryption.key (AEGIS_ENCRYPTION_KEY is unset); their destinations cannot deliver until those keys are back in the file (add the old file's lines after its own) or the credentials are set again"
          : 'stored destination credentials were encrypted with keys not in AEGIS_ENCRYPTION_KEY; their destinations cannot deliver until those keys are back in the ring (or the credentials are set again)',
    );
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'could not check stored credentials against the encryption key ring');
  }
}
