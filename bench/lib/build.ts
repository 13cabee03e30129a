// The service compiled as production runs it (tsc with the project's build config, into a private
// directory so the repository's dist/ is left alone), from the working tree or from another commit's
// sources, for the benches that measure the service's own code. One build for all of them.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';

export interface BuildOptions {
  /** The repository's root, ending in '/'. */
  root: string;
  /** Where dist/ and the links it reads at run time go (emptied first). */
  buildDir: string;
  /** Build that commit's src/ and migrations/ (git archive) instead of the working tree's. */
  srcRev: string | null;
  log: (msg: string) => void;
}

/** Compiles src/ into buildDir/dist with the project's build config; links what it reads at run time. */
export function buildService({ root, buildDir, srcRev, log }: BuildOptions): void {
  const t = Date.now();
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  let srcRoot = root;
  if (srcRev) {
    srcRoot = `${buildDir}/checkout/`;
    mkdirSync(srcRoot, { recursive: true });
    const tar = execFileSync('git', ['archive', srcRev, 'src', 'migrations', 'schemas', 'tsconfig.json', 'tsconfig.build.json', 'package.json'], {
      cwd: root,
      maxBuffer: 256 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', srcRoot], { input: tar });
    symlinkSync(`${root}node_modules`, `${srcRoot}node_modules`);
    log(`building the service from ${srcRev}`);
  }
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${srcRoot}tsconfig.build.json`, '--outDir', `${buildDir}/dist`], {
    cwd: srcRoot,
    stdio: 'inherit',
  });
  for (const name of ['migrations', 'package.json', 'schemas']) symlinkSync(`${srcRoot}${name}`, `${buildDir}/${name}`);
  for (const name of ['node_modules', 'web']) symlinkSync(`${root}${name}`, `${buildDir}/${name}`);
  log(`built the service into ${buildDir} in ${Math.round((Date.now() - t) / 100) / 10} s`);
}
