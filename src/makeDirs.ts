import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p`: makes `dir` and any missing parent, each with `mode`. Not `mkdirSync(dir, { recursive:
 * true })`: Node 20's recursive mkdir loops for ever, at a full core and deaf to signals, where a
 * parent exists but the file system refuses a child with ENOENT (/proc, /sys: a contract review's
 * AEGIS_DATA_DIR=/proc/nope spun for ten minutes and ignored SIGTERM). Here each level is tried once:
 * such a refusal is thrown as it is, and the start says it in one line.
 */
export function makeDirs(dir: string, mode = 0o700): void {
  const missing: string[] = [];
  for (let at = resolve(dir); ;) {
    try {
      mkdirSync(at, { mode });
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        if (statSync(at).isDirectory()) break;
        throw err;
      }
      const parent = dirname(at);
      if (code !== 'ENOENT' || parent === at) throw err;
      missing.push(at);
      at = parent;
    }
  }
  // From the outermost missing one in: each once, and one made meanwhile by another process is fine.
  for (const at of missing.reverse()) {
    try {
      mkdirSync(at, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(at).isDirectory()) throw err;
    }
  }
}
