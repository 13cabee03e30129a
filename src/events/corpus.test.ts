import { describe, expect, it } from 'vitest';
import { loadCorpus, runCase, scoreCorpus } from '../../test/support/piiCorpus.js';

// The labelled corpus (test/fixtures/pii-corpus): positives and hard negatives for every type, every
// separator, adjacency, Unicode forms and long inputs. `npm run bench -- --scenario detection` prints
// the same score per type.
const corpus = loadCorpus();

describe('detection corpus', () => {
  it('covers every personal-data type with positives and hard negatives', () => {
    for (const type of ['SSN', 'EMAIL', 'CREDIT_CARD', 'PHONE', 'IP_ADDRESS', 'IBAN'] as const) {
      expect(
        corpus.some((c) => c.type === type && c.kind === 'positive'),
        type,
      ).toBe(true);
      expect(
        corpus.some((c) => c.type === type && c.kind === 'negative'),
        type,
      ).toBe(true);
    }
  });

  it.each(corpus.map((c) => [`${c.file}:${c.line}${c.note ? ` (${c.note})` : ''}`, c] as const))('%s', (_name, c) => {
    const r = runCase(c);
    expect({ missed: r.missed, unexpected: r.unexpected }).toEqual({ missed: [], unexpected: [] });
  });

  it('scores 100 % recall and no false positive for every type', () => {
    for (const s of scoreCorpus(corpus.map(runCase))) {
      expect(s.recall, s.type).toBe(1);
      expect(s.unexpectedFindings, s.type).toBe(0);
      expect(s.falsePositiveCases, s.type).toBe(0);
    }
  });
});
