// Builds the dashboard into web/dist when it is missing or older than its sources (the service serves
// whatever web/dist holds), and checks the system Chromium is there.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export default function setup(): void {
  if (!existsSync('/usr/bin/chromium')) {
    throw new Error('/usr/bin/chromium is missing: run scripts/ensure-chromium.sh (the tests never download a browser).');
  }
  const built = join(ROOT, 'web/dist/index.html');
  const sources = [
    join(ROOT, 'web/src'),
    join(ROOT, 'web/index.html'),
    join(ROOT, 'web/vite.config.ts'),
    join(ROOT, 'src/siem'),
    join(ROOT, 'src/destinations/headerRules.ts'),
    join(ROOT, 'src/api/schemas/destinations.ts'),
    join(ROOT, 'src/filters'),
  ];
  const stale = !existsSync(built) || sources.some((s) => newestMtime(s) > statSync(built).mtimeMs);
  if (stale) {
    console.log('e2e: building the dashboard (vite build)');
    execFileSync(join(ROOT, 'node_modules/.bin/vite'), ['build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: 'inherit' });
  }
}
