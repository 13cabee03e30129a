/**
 * The labelled detection corpus (test/fixtures/pii-corpus/*.jsonl) and its score, shared by the unit
 * test (which demands 100 % recall and no false positive) and the `detection` bench scenario (which
 * prints recall and false-positive rate per type).
 *
 * One case per line: { type, kind: "positive" | "negative", text, expect: [[TYPE, value], ...], note? }.
 * `type` is the type the case is about; `expect` lists every value detect() must report, in order, as
 * written in the text (a hard negative for one type may still expect another, e.g. "+123456789" is a
 * phone number, not an SSN). `padBefore` / `padAfter` surround the text with that many characters of
 * prose (accented when `padUnicode`), for long inputs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { detect } from '../../src/events/detect.js';
import { FINDING_TYPES, type FindingType } from '../../src/events/findings.js';

export interface CorpusCase {
  file: string;
  line: number;
  type: FindingType;
  kind: 'positive' | 'negative';
  text: string;
  expect: [FindingType, string][];
  note?: string;
  padBefore?: number;
  padAfter?: number;
  padUnicode?: boolean;
}

const DIR = new URL('../fixtures/pii-corpus/', import.meta.url);

export function loadCorpus(): CorpusCase[] {
  const out: CorpusCase[] = [];
  for (const file of readdirSync(DIR)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()) {
    readFileSync(new URL(file, DIR), 'utf8')
      .split('\n')
      .forEach((raw, i) => {
        if (raw.trim() === '') return;
        out.push({ file, line: i + 1, ...(JSON.parse(raw) as Omit<CorpusCase, 'file' | 'line'>) });
      });
  }
  return out;
}

function padding(n: number, unicode: boolean): string {
  const unit = unicode ? 'Événement résumé, déjà vu; ' : 'The quick brown fox, page 12 of 30; ';
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

/** The text a case is scanned as (its padding applied). */
export function caseText(c: CorpusCase): string {
  const pad = (n: number | undefined) => (n ? padding(n, c.padUnicode === true) : '');
  // A space keeps the padding from gluing onto the value.
  return `${pad(c.padBefore)}${c.padBefore ? ' ' : ''}${c.text}${c.padAfter ? ' ' : ''}${pad(c.padAfter)}`;
}

export interface CaseResult {
  c: CorpusCase;
  found: [FindingType, string][];
  missed: [FindingType, string][];
  unexpected: [FindingType, string][];
}

export function runCase(c: CorpusCase): CaseResult {
  const text = caseText(c);
  const found = detect(text).map((f): [FindingType, string] => [f.type, text.slice(f.start, f.end)]);
  const key = ([t, v]: [FindingType, string]) => `${t}\u0000${v}`;
  const remaining = found.map(key);
  const missed: [FindingType, string][] = [];
  for (const e of c.expect) {
    const k = remaining.indexOf(key(e));
    if (k === -1) missed.push(e);
    else remaining.splice(k, 1);
  }
  const expected = c.expect.map(key);
  const unexpected = found.filter((f) => {
    const k = expected.indexOf(key(f));
    if (k === -1) return true;
    expected.splice(k, 1);
    return false;
  });
  return { c, found, missed, unexpected };
}

export interface TypeScore {
  type: FindingType;
  /** Values of this type the corpus expects, and how many detect() reported. */
  expected: number;
  detected: number;
  recall: number;
  /** Hard negatives about this type, and how many of them had any unexpected finding. */
  negatives: number;
  falsePositiveCases: number;
  falsePositiveRate: number;
  /** Unexpected findings of this type anywhere in the corpus. */
  unexpectedFindings: number;
}

export function scoreCorpus(results: readonly CaseResult[]): TypeScore[] {
  return FINDING_TYPES.map((type) => {
    const expected = results.reduce((n, r) => n + r.c.expect.filter(([t]) => t === type).length, 0);
    const missed = results.reduce((n, r) => n + r.missed.filter(([t]) => t === type).length, 0);
    const negatives = results.filter((r) => r.c.kind === 'negative' && r.c.type === type);
    const fpCases = negatives.filter((r) => r.unexpected.length > 0).length;
    return {
      type,
      expected,
      detected: expected - missed,
      recall: expected === 0 ? 1 : (expected - missed) / expected,
      negatives: negatives.length,
      falsePositiveCases: fpCases,
      falsePositiveRate: negatives.length === 0 ? 0 : fpCases / negatives.length,
      unexpectedFindings: results.reduce((n, r) => n + r.unexpected.filter(([t]) => t === type).length, 0),
    };
  });
}
