// Command-line options of the bench scripts, one parser for all of them: `--name value` pairs read
// from process.argv, a whole-number option refused with a message rather than silently becoming NaN.

/** The value after `--name`, or null when the option is absent. */
export function stringArg(argv: readonly string[], name: string): string | null {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : null;
}

/** The whole number (at least 1) after `--name`, or `def` when the option is absent. */
export function numArg(argv: readonly string[], name: string, def: number): number {
  const v = stringArg(argv, name);
  if (v === null) return def;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} needs a whole number, got ${v}`);
  return n;
}

/**
 * Refuses an option the script does not know (a misspelt `--scenarios` would otherwise run the whole
 * bench, an hour on these machines, instead of the one scenario asked for) and a valued option given
 * no value; `--help` prints `usage` and ends the process. `flags` take no value; `valued` take one,
 * as `--name value` or `--name=value`.
 */
export function checkOptions(argv: readonly string[], opts: { flags: readonly string[]; valued: readonly string[]; usage: string }): void {
  const flags = new Set(opts.flags);
  const valued = new Set(opts.valued);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      console.log(opts.usage);
      process.exit(0);
    }
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (flags.has(a)) continue;
    if (valued.has(name)) {
      if (name === a) {
        if (i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) refuse(`${a} needs a value`, opts.usage);
        i++;
      }
      continue;
    }
    refuse(`unknown option ${a}`, opts.usage);
  }
}

/** The problem, then the usage, on stderr; exit status 2 (a usage error, as a shell's builtins give). */
function refuse(problem: string, usage: string): never {
  console.error(`${problem}\n\n${usage}`);
  process.exit(2);
}

/** A source file's leading `//` comment, without the slashes: a script's usage, written once at its top. */
export function leadingComment(source: string): string {
  const lines = source.split('\n');
  const end = lines.findIndex((l) => !l.startsWith('//'));
  return lines
    .slice(0, end === -1 ? lines.length : end)
    .map((l) => l.replace(/^\/\/ ?/, ''))
    .join('\n');
}
