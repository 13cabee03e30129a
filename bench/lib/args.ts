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
