// How tests start the real CLI in a child process. `npm test` builds dist/ before the suites run, and
// starting the built CLI takes a fraction of the CPU of tsx compiling src/ in every child (the CLI
// suites start dozens of processes, which on a loaded 2-core machine took minutes). When dist/ is
// missing or older than any source file (a developer running one test after an edit), the source
// runs through tsx, so a test never exercises stale code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(path) : entry.name.endsWith('.ts') ? statSync(path).mtimeMs : 0;
    if (t > newest) newest = t;
  }
  return newest;
}

let cached: string[] | null = null;

/** Node arguments that run the CLI (append the command and its options). */
export function cliEntry(): string[] {
  if (cached) return cached;
  const built = join(ROOT, 'dist', 'cli', 'main.js');
  const fresh = existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(ROOT, 'src'));
  cached = fresh ? [built] : ['--import', 'tsx', 'src/cli/main.ts'];
  return cached;
}
