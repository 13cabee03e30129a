// `npx tsx bench/profile.ts <file.cpuprofile> [--top 25] [--events N] [--from S] [--to S]`
//
// Summarises a V8 CPU profile (from `npm run bench -- --cpu-prof`): where the process's CPU went,
// as self time per function, inclusive time per function (every function on the stack is charged
// once per sample) and self time per module (a node_modules package, a source file, node internals).
// With --events, also in microseconds per event, the unit the bench reports. --from and --to keep the
// samples between those seconds of the profile (a cold start against the steady state).
import { readFileSync } from 'node:fs';
import { numArg } from './lib/args.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const argv = process.argv.slice(2);
const VALUED = new Set(['--top', '--events', '--from', '--to']);
const file = argv.find((a) => !a.startsWith('--') && !VALUED.has(argv[argv.indexOf(a) - 1] ?? ''));
if (!file) throw new Error('usage: bench/profile.ts <file.cpuprofile> [--top 25] [--events N] [--from S] [--to S]');
const top = numArg(argv, '--top', 25);
const events = argv.includes('--events') ? numArg(argv, '--events', 1) : null;
const fromUs = numArg(argv, '--from', 0) * 1e6;
const toUs = argv.includes('--to') ? numArg(argv, '--to', 0) * 1e6 : Infinity;

const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** Where a frame's code lives: a package, a file of ours, or the engine. */
function moduleOf(f: CallFrame): string {
  if (f.url === '') return f.functionName.startsWith('(') ? f.functionName : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url);
  if (nm) return nm[1]!;
  if (f.url.startsWith('node:')) return f.url.split('/').slice(0, 2).join('/');
  const ours = /\/(dist|src)\/(.*)$/.exec(f.url);
  return ours ? ours[2]! : f.url;
}
const label = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${moduleOf(f)}${f.url ? `:${f.lineNumber + 1}` : ''}`;

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const modules = new Map<string, number>();
let total = 0;
let idle = 0;
// timeDeltas[i] is the time since the previous sample: charge it to sample i's stack.
let at = 0;
for (let i = 0; i < p.samples.length; i++) {
  const dt = p.timeDeltas[i] ?? 0;
  at += dt;
  if (at < fromUs || at > toUs) continue;
  const leaf = byId.get(p.samples[i]!)!;
  total += dt;
  if (leaf.callFrame.functionName === '(idle)') {
    idle += dt;
    continue;
  }
  self.set(label(leaf.callFrame), (self.get(label(leaf.callFrame)) ?? 0) + dt);
  modules.set(moduleOf(leaf.callFrame), (modules.get(moduleOf(leaf.callFrame)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
    const l = label(byId.get(id)!.callFrame);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
  }
}

const busy = total - idle;
const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
const pct = (us: number) => `${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)} %`;
const per = (us: number) => (events ? `${(us / events).toFixed(2).padStart(8)} µs/event` : '');
const print = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title} (share of busy time)\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${ms(v)} ms ${pct(v)} ${per(v)}  ${k}\n`);
};
process.stdout.write(
  `${file}\nprofile ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(2)} s (${((100 * busy) / Math.max(1, total)).toFixed(0)} %)${events ? `, ${(busy / events).toFixed(1)} µs busy per event` : ''}\n`,
);
print('self time by module', modules);
print('self time by function', self);
print('inclusive time by function', inclusive);
