import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The README promises Node.js 20.19 (package.json "engines"). A dependency that requires a newer Node
 * makes `npm ci` print EBADENGINE on the promised runtime and may use APIs it lacks. Every package in
 * the lock file that declares engines.node must accept the floor we promise.
 */
const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { engines?: unknown; optional?: boolean }>;
};

type V = [number, number, number];
const parse = (s: string): V => {
  const [a = 0, b = 0, c = 0] = s.split('.').map((x) => (x === 'x' || x === '*' ? 0 : Number(x)));
  return [a, b, c];
};
const cmp = (a: V, b: V) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Whether `v` satisfies one comparator set of the forms npm packages use for engines.node. */
function satisfiesSet(set: string, v: V): boolean {
  const parts = set
    .trim()
    .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
    .split(/\s+/)
    .filter(Boolean);
  if (parts.length === 0 || parts[0] === '*') return true;
  return parts.every((p) => {
    const m = /^(>=|<=|>|<|\^|~|=)?v?(\d+(?:\.(?:\d+|x))?(?:\.(?:\d+|x))?)$/.exec(p);
    if (!m) throw new Error(`unrecognised range "${p}" in "${set}": check it by hand and extend this test`);
    const op = m[1] ?? '';
    const r = parse(m[2]!);
    const given = m[2]!.split('.').length;
    switch (op) {
      case '>=':
        return cmp(v, r) >= 0;
      case '>':
        return cmp(v, r) > 0;
      case '<':
        return cmp(v, r) < 0;
      case '<=':
        return cmp(v, r) <= 0;
      case '^':
        return v[0] === r[0] && cmp(v, r) >= 0;
      case '~':
        return v[0] === r[0] && v[1] === r[1] && cmp(v, r) >= 0;
      default:
        // "20" or "20.x": that major; "20.19.0": exactly.
        return given === 3 && !m[2]!.includes('x') ? cmp(v, r) === 0 : v[0] === r[0] && (given === 1 || v[1] === r[1]);
    }
  });
}
const satisfies = (range: string, v: V) => range.split('||').some((set) => satisfiesSet(set, v));

describe('dependencies run on the Node.js version the README promises', () => {
  const floor = parse(/^>=\s*(\d+\.\d+(?:\.\d+)?)$/.exec(pkg.engines.node)![1]!);

  it('the range check itself', () => {
    expect(satisfies('>=22', [20, 19, 0])).toBe(false);
    expect(satisfies('18 || 20 || >=22', [20, 19, 0])).toBe(true);
    expect(satisfies('^20.19.0 || >=22.12.0', [20, 19, 0])).toBe(true);
    expect(satisfies('^20.20.0 || >=22.12.0', [20, 19, 0])).toBe(false);
  });

  it('every locked package accepts the engines floor', () => {
    const refused = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && !p.optional && typeof (p.engines as { node?: unknown } | undefined)?.node === 'string')
      .filter(([, p]) => !satisfies((p.engines as { node: string }).node, floor))
      .map(([path, p]) => `${path} wants node ${(p.engines as { node: string }).node}`);
    expect(refused).toEqual([]);
  });
});
