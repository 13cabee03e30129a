// The `detection` scenario: recall and false-positive rate per finding type on the labelled corpus
// (test/fixtures/pii-corpus), plus detect() throughput on the corpus texts and on 1 MiB of prose.
// Pure CPU in this process (and the first call in fresh ones): it needs neither the database nor the service.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { detect } from '../../src/events/detect.js';
import { loadCorpus, runCase, scoreCorpus, caseText, type TypeScore } from '../../test/support/piiCorpus.js';

export interface DetectionResult {
  cases: number;
  positives: number;
  negatives: number;
  perType: TypeScore[];
  missed: string[];
  falsePositives: string[];
  /** Corpus texts scanned per second (each text once per pass). */
  casesPerS: number;
  /** MiB/s on 1 MiB of ASCII prose and on 1 MiB of accented prose (the normalizing path). */
  asciiMiBPerS: number;
  unicodeMiBPerS: number;
  /** The first detect() of a fresh process, ms, by the script of the text (firstDetect.ts). */
  firstCallMs: Record<string, number>;
}

/** A text per script with a password's name in it, for the first call of a fresh process. */
const FIRST_TEXTS: Record<string, string> = {
  ascii: 'password: Zq8vT2xk!9',
  'latin-1': 'contraseña: Zq8vT2xk!9',
  cyrillic: 'пароль: Zq8vT2xk!9',
  turkish: 'APİ_KEY=Zq8vT2xk!9',
  arabic: 'كلمة المرور: Zq8vT2xk!9',
  cjk: '密码: Zq8vT2xk!9',
};

function firstCallMs(): Record<string, number> {
  const script = fileURLToPath(new URL('./firstDetect.ts', import.meta.url));
  return Object.fromEntries(
    Object.entries(FIRST_TEXTS).map(([name, text]) => {
      const out = execFileSync(process.execPath, ['--import', 'tsx', script, text], { encoding: 'utf8' });
      return [name, Number(out)];
    }),
  );
}

function mibPerS(text: string): number {
  const passes = 5;
  const t0 = performance.now();
  for (let i = 0; i < passes; i++) detect(text);
  const s = (performance.now() - t0) / 1000;
  return Math.round(((passes * Buffer.byteLength(text, 'utf8')) / (1 << 20) / s) * 10) / 10;
}

export function detectionScenario(): DetectionResult {
  const corpus = loadCorpus();
  const results = corpus.map(runCase);
  const texts = corpus.map(caseText);
  const passes = 20;
  const t0 = performance.now();
  for (let p = 0; p < passes; p++) for (const t of texts) detect(t);
  const casesPerS = Math.round((passes * texts.length) / ((performance.now() - t0) / 1000));
  const fill = (unit: string) => unit.repeat(Math.ceil((1 << 20) / unit.length)).slice(0, 1 << 20);
  const where = (r: (typeof results)[number]) => `${r.c.file}:${r.c.line}`;
  return {
    cases: corpus.length,
    positives: corpus.filter((c) => c.kind === 'positive').length,
    negatives: corpus.filter((c) => c.kind === 'negative').length,
    perType: scoreCorpus(results),
    // Locations only: the corpus values are synthetic, but the report format stays value-free.
    missed: results.filter((r) => r.missed.length > 0).map(where),
    falsePositives: results.filter((r) => r.unexpected.length > 0).map(where),
    casesPerS,
    asciiMiBPerS: mibPerS(fill('Order 12 shipped to the warehouse on 2026-05-15, page 3 of 40; ')),
    unicodeMiBPerS: mibPerS(fill('Événement résumé déjà vu — 12 pages, café; ')),
    firstCallMs: firstCallMs(),
  };
}

/** Rows for the bench table: [metric, measured, goal]. */
export function detectionRows(r: DetectionResult): string[][] {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const rows = r.perType
    .filter((s) => s.expected > 0 || s.negatives > 0)
    .map((s) => [
      `detection ${s.type}`,
      `recall ${pct(s.recall)} (${s.detected}/${s.expected}), false positives ${pct(s.falsePositiveRate)} of ${s.negatives} hard negatives, ${s.unexpectedFindings} unexpected findings`,
      'recall 100 %, FP 0 %',
    ]);
  rows.push([
    `detection speed (${r.cases} corpus cases)`,
    `${r.casesPerS.toLocaleString('en-US')} cases/s; 1 MiB ASCII ${r.asciiMiBPerS} MiB/s, 1 MiB accented ${r.unicodeMiBPerS} MiB/s`,
    '-',
  ]);
  rows.push([
    'detection, first call of a fresh process',
    Object.entries(r.firstCallMs)
      .map(([script, ms]) => `${script} ${ms} ms`)
      .join(', '),
    '-',
  ]);
  return rows;
}
