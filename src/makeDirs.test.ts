import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirs } from './makeDirs.js';

describe('makeDirs', () => {
  const root = mkdtempSync(join(tmpdir(), 'aegis-makedirs-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('makes a directory and its missing parents with the mode, and accepts one already there', () => {
    const deep = join(root, 'a', 'b', 'c');
    makeDirs(deep);
    for (const dir of [join(root, 'a'), join(root, 'a', 'b'), deep]) expect(statSync(dir).mode & 0o777).toBe(0o700);
    makeDirs(deep);
    makeDirs(join(root, 'a'));
  });

  it('throws for a path under a file, and for a file in its place', () => {
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    expect(() => makeDirs(join(file, 'sub'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => makeDirs(file)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });

  // Node 20's recursive mkdir loops for ever here (a contract review): this one throws at once.
  it.runIf(process.platform === 'linux')('throws at once where the file system refuses a child of an existing directory (/proc)', () => {
    // ENOENT on Linux; a sandboxed kernel may say EACCES or EPERM. Whatever it says, it is thrown.
    expect(() => makeDirs('/proc/aegis-no-such-dir/data')).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(ENOENT|EACCES|EPERM)$/) }));
  });
});
