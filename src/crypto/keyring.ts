import { createHash, randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { makeDirs } from '../makeDirs.js';
import { dirname, join } from 'node:path';
import { ConfigError } from '../config/env.js';

export interface DataKey {
  id: string;
  key: Buffer;
}

/** The first key encrypts; every key decrypts (so keys can be rotated without downtime). */
export interface KeyRing {
  primary: DataKey;
  byId: Map<string, DataKey>;
}

const KEY_FILE = 'encryption.key';

/** The embedded default's key file in `dataDir`. */
export const keyFilePath = (dataDir: string): string => join(dataDir, KEY_FILE);

function keyIdFor(key: Buffer): string {
  // A stable, non-secret id: a short digest of the key itself, so a bare base64 key needs no name.
  return 'k' + createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * Parses `AEGIS_ENCRYPTION_KEY`: either one base64 key, or a comma-separated ring of `id:base64`
 * entries (bare entries are allowed too). Every key must decode to exactly 32 bytes.
 */
export function parseKeyRing(raw: string, variable = 'AEGIS_ENCRYPTION_KEY'): KeyRing {
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new ConfigError(variable, 'is empty');
  const keys: DataKey[] = entries.map((entry, i) => {
    const m = /^([A-Za-z0-9_-]{1,32}):(.+)$/.exec(entry);
    const b64 = m ? m[2]! : entry;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
      throw new ConfigError(variable, `entry ${i + 1} is not base64 (expected "id:<base64>" or "<base64>" of 32 random bytes)`);
    }
    const key = Buffer.from(b64, 'base64');
    if (key.length !== 32) {
      throw new ConfigError(variable, `entry ${i + 1} decodes to ${key.length} bytes; AES-256 needs exactly 32 (generate one with: openssl rand -base64 32)`);
    }
    return { id: m ? m[1]! : keyIdFor(key), key };
  });
  const byId = new Map<string, DataKey>();
  for (const k of keys) {
    if (byId.has(k.id)) throw new ConfigError(variable, `key id "${k.id}" appears twice`);
    byId.set(k.id, k);
  }
  return { primary: keys[0]!, byId };
}

export function generateKeyBase64(): string {
  return randomBytes(32).toString('base64');
}

/**
 * Resolves the key ring: AEGIS_ENCRYPTION_KEY when set; otherwise, on the embedded database only, a
 * key generated once into the data directory (mode 0600). With a real server and no key we refuse to
 * start: a generated key on one host would make credentials unreadable by every other host.
 */
export async function loadKeyRing(opts: {
  encryptionKey: string | null;
  databaseUrl: string | null;
  dataDir: string;
}): Promise<{ ring: KeyRing; source: 'env' | 'file'; generated: boolean }> {
  if (opts.encryptionKey) return { ring: parseKeyRing(opts.encryptionKey), source: 'env', generated: false };
  if (opts.databaseUrl) {
    throw new ConfigError(
      'AEGIS_ENCRYPTION_KEY',
      'is required with DATABASE_URL (every process sharing the database needs the same key). Generate one with: openssl rand -base64 32',
    );
  }
  const file = keyFilePath(opts.dataDir);
  try {
    return { ring: await readKeyFile(opts.dataDir), source: 'file', generated: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  makeDirs(opts.dataDir);
  const key = generateKeyBase64();
  await writeKeyFile(file, key + '\n', { exclusive: true });
  return { ring: parseKeyRing(key, file), source: 'file', generated: true };
}

/**
 * The key ids in the data directory's key file, or none when there is no readable one: with
 * AEGIS_ENCRYPTION_KEY set the file is not read, and credentials sealed with its keys before the
 * variable was set cannot be opened (the start-up warning names the file then).
 */
export async function keyFileIds(dataDir: string): Promise<Set<string>> {
  try {
    return new Set((await readKeyFile(dataDir)).byId.keys());
  } catch {
    return new Set();
  }
}

/**
 * The data directory's key file as a ring (its errors name the file); throws ENOENT when there is none.
 * Its entries are separated by commas as the variable's are, or by line breaks: an operator who
 * merges a restored file's key into a new one (the start-up warning says how) puts it on a line of
 * its own, and a refused start then would strand them (a review of that advice).
 */
async function readKeyFile(dataDir: string): Promise<KeyRing> {
  const file = keyFilePath(dataDir);
  return parseKeyRing(
    (await readFile(file, 'utf8'))
      .trim()
      .split(/\s*[\r\n]+\s*/)
      .join(','),
    file,
  );
}

/** For the embedded default: puts a new key first in the data directory's key file. */
export async function prependKeyToFile(dataDir: string): Promise<KeyRing> {
  const file = keyFilePath(dataDir);
  const oldRing = await readKeyFile(dataDir);
  const entries = [...oldRing.byId.values()].map((k) => `${k.id}:${k.key.toString('base64')}`);
  const fresh = Buffer.from(generateKeyBase64(), 'base64');
  const next = [`${keyIdFor(fresh)}:${fresh.toString('base64')}`, ...entries].join(',');
  await writeKeyFile(file, next + '\n', { exclusive: false });
  return parseKeyRing(next, file);
}

/**
 * Writes the key file whole or not at all: the text goes to a file of its own, synced, which then
 * takes the key file's name, and the directory is synced. The key file is the embedded database's
 * only copy of its keys, and rewriting it in place (as before) left it empty or cut short if the
 * process was killed, the disk filled or the power went in between: every stored credential then
 * unreadable (an operator's review). `exclusive`: a first key, which must not replace one another
 * start wrote meanwhile (link fails with EEXIST where rename would overwrite).
 */
async function writeKeyFile(file: string, text: string, opts: { exclusive: boolean }): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    // open's mode is reduced by the umask: the key file is the owner's alone whatever it is.
    await handle.chmod(0o600);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (opts.exclusive) await link(temp, file);
    else await rename(temp, file);
  } finally {
    if (opts.exclusive) await unlink(temp).catch(() => undefined);
  }
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
