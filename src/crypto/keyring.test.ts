import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadKeyRing, prependKeyToFile } from './keyring.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
const embedded = async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'aegis-keyring-'));
  dirs.push(dataDir);
  return { encryptionKey: null, databaseUrl: null, dataDir };
};

describe("the embedded database's key file", () => {
  it('is written whole under its own name, the owner only, with no temporary file left', async () => {
    const opts = await embedded();
    const first = await loadKeyRing(opts);
    expect(first.generated).toBe(true);
    const [firstId] = [...first.ring.byId.keys()];
    const rotated = await prependKeyToFile(opts.dataDir);
    // The new key first, the old one kept after it: credentials sealed with it still open.
    expect([...rotated.byId.keys()]).toEqual([rotated.primary.id, firstId]);
    expect(rotated.primary.id).not.toBe(firstId);
    expect(await readdir(opts.dataDir)).toEqual(['encryption.key']);
    expect((await stat(join(opts.dataDir, 'encryption.key'))).mode & 0o777).toBe(0o600);
    expect([...(await loadKeyRing(opts)).ring.byId.keys()]).toEqual([...rotated.byId.keys()]);
  });

  it('a first key never replaces one that is already there', async () => {
    const opts = await embedded();
    await loadKeyRing(opts);
    const before = await readFile(join(opts.dataDir, 'encryption.key'), 'utf8');
    // A second process that found no file a moment ago generates too: the one written first stays.
    const again = await loadKeyRing(opts);
    expect(again.generated).toBe(false);
    expect(await readFile(join(opts.dataDir, 'encryption.key'), 'utf8')).toBe(before);
  });

  it("reads entries one per line as well as comma-separated: a restored file's key added on a line of its own", async () => {
    const opts = await embedded();
    const first = await loadKeyRing(opts);
    const restored = await embedded();
    const old = await loadKeyRing(restored);
    const file = join(opts.dataDir, 'encryption.key');
    const oldText = (await readFile(join(restored.dataDir, 'encryption.key'), 'utf8')).trim();
    await writeFile(file, `${(await readFile(file, 'utf8')).trim()}\r\n${oldText}\n`);
    const merged = await loadKeyRing(opts);
    expect([...merged.ring.byId.keys()]).toEqual([first.ring.primary.id, old.ring.primary.id]);
    expect(merged.ring.primary.id).toBe(first.ring.primary.id);
  });
});
