import type { Queryable } from '../db/types.js';
import { newId } from '../ids.js';

export interface Org {
  id: string;
  name: string;
  created_at: Date;
}

export async function createOrg(db: Queryable, name: string, id = newId('org')): Promise<Org> {
  const { rows } = await db.query<Org>('INSERT INTO orgs (id, name) VALUES ($1, $2) RETURNING id, name, created_at', [id, name]);
  return rows[0]!;
}

/** Idempotent: creates the org when missing and returns it either way. */
export async function ensureOrg(db: Queryable, id: string, name: string): Promise<Org> {
  await db.query('INSERT INTO orgs (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, name]);
  return (await getOrg(db, id))!;
}

export async function getOrg(db: Queryable, id: string): Promise<Org | null> {
  const { rows } = await db.query<Org>('SELECT id, name, created_at FROM orgs WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export async function listOrgs(db: Queryable): Promise<Org[]> {
  return (await db.query<Org>('SELECT id, name, created_at FROM orgs ORDER BY created_at, id')).rows;
}

/**
 * The organization's key for the numbers it is shown in place of server-wide row ids
 * (orgs/tenantNumbers.ts), or null when there is no such organization.
 */
export async function orgIdKey(db: Queryable, id: string): Promise<Buffer | null> {
  const { rows } = await db.query<{ id_key: Buffer | Uint8Array }>('SELECT id_key FROM orgs WHERE id = $1', [id]);
  const key = rows[0]?.id_key;
  return key ? Buffer.from(key) : null;
}
