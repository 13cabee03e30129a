import type { Db } from './db/types.js';
import type { Config } from './config/env.js';
import { createOrg, ensureOrg, listOrgs } from './orgs/repository.js';
import { createApiKey, storeApiKey } from './auth/apiKeys.js';

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
 */
export async function bootstrap(db: Db, config: Pick<Config, 'bootstrapOrgId' | 'bootstrapApiKey'>): Promise<BootstrapResult> {
  if (config.bootstrapOrgId) {
    const id = config.bootstrapOrgId;
    return db.transaction(async (tx) => {
      const before = await tx.query('SELECT 1 FROM orgs WHERE id = $1', [id]);
      await ensureOrg(tx, id, 'Bootstrap organization');
      if (config.bootstrapApiKey) await storeApiKey(tx, id, config.bootstrapApiKey);
      return { orgId: id, newApiKey: null, created: before.rowCount === 0 };
    });
  }
  return db.transaction(async (tx) => {
    // Serialise concurrent first starts against one server.
    await tx.query('SELECT pg_advisory_xact_lock(4151203772)');
    const orgs = await listOrgs(tx);
    if (orgs.length > 0) return { orgId: orgs[0]!.id, newApiKey: null, created: false };
    const org = await createOrg(tx, 'Default organization');
    const key = await createApiKey(tx, org.id);
    return { orgId: org.id, newApiKey: key, created: true };
  });
}
