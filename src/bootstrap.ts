import type { Db } from './db/types.js';
import { ConfigError, type Config } from './config/env.js';
import { createOrg, ensureOrg, listOrgs } from './orgs/repository.js';
import { createApiKey, storeApiKey, verifyApiKey } from './auth/apiKeys.js';

/** Serialises the bootstraps of processes starting at once against one server. */
const BOOTSTRAP_LOCK = 'SELECT pg_advisory_xact_lock(4151203772)';

export interface BootstrapResult {
  orgId: string;
  /** Set only when this start created the key (shown once, then only its hash exists). */
  newApiKey: string | null;
  created: boolean;
}

/**
 * Makes sure there is an organization to sign in to. With AEGIS_BOOTSTRAP_ORG_ID (and optionally
 * AEGIS_BOOTSTRAP_API_KEY) it ensures exactly that, idempotently, for automation. Otherwise the very
 * first start of an empty database creates a default organization and one API key.
 *
 * A key is one organization's: AEGIS_BOOTSTRAP_API_KEY that is already another organization's key (a
 * start for org_x, then one for org_y with the same key) stops the start with a ConfigError naming
 * that organization, never the key. It used to be stored for the second organization too, said
 * nothing, and went on authenticating for the first.
 */
export async function bootstrap(db: Db, config: Pick<Config, 'bootstrapOrgId' | 'bootstrapApiKey'>): Promise<BootstrapResult> {
  if (config.bootstrapOrgId) {
    const id = config.bootstrapOrgId;
    const key = config.bootstrapApiKey;
    return db.transaction(async (tx) => {
      // Two starts at once, for two organizations with one key, would each find the key free.
      await tx.query(BOOTSTRAP_LOCK);
      // The organization the key signs in to now, if any: the one it must stay valid for.
      const owner = key ? await verifyApiKey(tx, key) : null;
      if (owner !== null && owner !== id) {
        throw new ConfigError('AEGIS_BOOTSTRAP_API_KEY', `is already the key of organization ${owner}; give ${id} its own key`);
      }
      const before = await tx.query('SELECT 1 FROM orgs WHERE id = $1', [id]);
      await ensureOrg(tx, id, 'Bootstrap organization');
      if (key && owner === null) await storeApiKey(tx, id, key);
      return { orgId: id, newApiKey: null, created: before.rowCount === 0 };
    });
  }
  return db.transaction(async (tx) => {
    // Serialise concurrent first starts against one server.
    await tx.query(BOOTSTRAP_LOCK);
    const orgs = await listOrgs(tx);
    if (orgs.length > 0) return { orgId: orgs[0]!.id, newApiKey: null, created: false };
    const org = await createOrg(tx, 'Default organization');
    const key = await createApiKey(tx, org.id);
    return { orgId: org.id, newApiKey: key, created: true };
  });
}
