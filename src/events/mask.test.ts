import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detect } from './detect.js';
import { luhnValid } from './detectors/common.js';
import type { FindingType } from './findings.js';
import { detectAndMask, mask } from './mask.js';

// Fixed seed: CI runs the same cases every time (the issue #14 counterexample showed up on some
// runs only); it is also pinned as a regression test below. Change it to explore new cases.
const SEED = 1405;

const digit = fc.integer({ min: 0, max: 9 }).map(String);
const digits = (n: number) => fc.array(digit, { minLength: n, maxLength: n }).map((a) => a.join(''));
const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Valid SSNs: area 001-899 but not 666, group 01-99, serial 0001-9999. */
const ssn = fc
  .record({
    area: fc.integer({ min: 1, max: 899 }).filter((a) => a !== 666),
    group: fc.integer({ min: 1, max: 99 }),
    serial: fc.integer({ min: 1, max: 9999 }),
    sep: fc.constantFrom('-', ' ', '.', '', '\u2013', '\u00A0'),
  })
  .map(({ area, group, serial, sep }) => `${pad(area, 3)}${sep}${pad(group, 2)}${sep}${pad(serial, 4)}`);

function withCheckDigit(body: string): string {
  for (let c = 0; c < 10; c++) if (luhnValid(body + c)) return body + c;
  throw new Error('unreachable');
}

/** Luhn-valid Visa (16) and Mastercard (16) numbers, compact or in groups of four. */
const card = fc
  .record({
    prefix: fc.constantFrom('4', '51', '52', '53', '54', '55', '5019'),
    rest: digits(14),
    grouped: fc.boolean(),
    sep: fc.constantFrom(' ', '-', '.', '\u2014', '\u2009'),
  })
  .map(({ prefix, rest, grouped, sep }) => {
    const n = withCheckDigit((prefix + rest).slice(0, 15));
    return grouped ? (n.match(/.{4}/g) ?? []).join(sep) : n;
  });

const lower = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split(''));
const word = (min: number, max: number) => fc.array(lower, { minLength: min, maxLength: max }).map((a) => a.join(''));
const email = fc
  .record({ local: word(1, 12), dot: fc.option(word(1, 6)), domain: word(1, 12), tld: word(2, 6), at: fc.constantFrom('@', '\uFF20') })
  .map(({ local, dot, domain, tld, at }) => `${local}${dot ? `.${dot}` : ''}${at}${domain}.${tld}`);

const upperDigit = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''));
const awsKey = fc
  .record({ prefix: fc.constantFrom('AKIA', 'ASIA'), body: fc.array(upperDigit, { minLength: 16, maxLength: 16 }) })
  .map(({ prefix, body }) => prefix + body.join(''));

type Planted = { type: FindingType; value: string };
const planted: fc.Arbitrary<Planted> = fc.oneof(
  ssn.map((value) => ({ type: 'SSN' as const, value })),
  card.map((value) => ({ type: 'CREDIT_CARD' as const, value })),
  email.map((value) => ({ type: 'EMAIL' as const, value })),
  awsKey.map((value) => ({ type: 'AWS_ACCESS_KEY' as const, value })),
);
const PLANTED_TYPES: FindingType[] = ['SSN', 'CREDIT_CARD', 'EMAIL', 'AWS_ACCESS_KEY'];

/** Filler prose without digits or "@": letters, spaces and punctuation. */
const prose = fc.string({ unit: fc.constantFrom(...'abcdefghij KLMNOP ,.;:!?()"\'\n'.split('')), maxLength: 40 });

function assemble(parts: (string | Planted)[], sep: string): { text: string; values: string[] } {
  const values: string[] = [];
  const text = parts.map((p) => (typeof p === 'string' ? p : (values.push(p.value), p.value))).join(sep);
  return { text, values };
}

describe('mask()', () => {
  it('replaces each finding with its type in brackets', () => {
    const text = 'SSN 123-45-6789, mail a.b@example.com, key AKIAIOSFODNN7EXAMPLE.';
    expect(mask(text, detect(text))).toBe('SSN [SSN], mail [EMAIL], key [AWS_ACCESS_KEY].');
  });
  it('leaves clean text unchanged and refuses overlapping findings', () => {
    expect(mask('nothing here', [])).toBe('nothing here');
    expect(() =>
      mask('abcdef', [
        { type: 'SSN', start: 0, end: 4 },
        { type: 'EMAIL', start: 2, end: 5 },
      ]),
    ).toThrow(RangeError);
  });

  it('property: no planted value survives, and nothing of those types is detected afterwards', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(prose, planted), { minLength: 1, maxLength: 12 }), (parts) => {
        const { text, values } = assemble(parts, ' ');
        const { masked, findings } = detectAndMask(text);
        for (const v of values) expect(masked).not.toContain(v);
        expect(detect(masked).filter((f) => PLANTED_TYPES.includes(f.type))).toEqual([]);
        // Every planted value was found as its own type.
        for (const p of parts) {
          if (typeof p === 'string') continue;
          expect(findings.some((f) => f.type === p.type && text.slice(f.start, f.end) === p.value)).toBe(true);
        }
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('property: planted values are masked among arbitrary filler (digits, symbols, unicode) too', () => {
    const filler = fc.string({ unit: 'grapheme', maxLength: 30 });
    fc.assert(
      fc.property(fc.array(fc.oneof(filler, planted), { minLength: 1, maxLength: 10 }), (parts) => {
        const { text, values } = assemble(parts, ' ; ');
        const masked = detectAndMask(text).masked;
        for (const v of values) expect(masked).not.toContain(v);
        expect(detect(masked).filter((f) => PLANTED_TYPES.includes(f.type))).toEqual([]);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('property: a card right before a space-separated SSN: both are found, nothing is left', () => {
    const spacedCard = card.map((c) => (c.length === 16 && /^\d+$/.test(c) ? (c.match(/.{4}/g) ?? []).join(' ') : c));
    const spacedSsn = ssn.map((s) => s.replace(/\D/g, '')).map((d) => `${d.slice(0, 3)} ${d.slice(3, 5)} ${d.slice(5)}`);
    fc.assert(
      fc.property(spacedCard, spacedSsn, (c, s) => {
        expect(detectAndMask(`${c} ${s}`).masked).toBe('[CREDIT_CARD] [SSN]');
      }),
      { numRuns: 1000, seed: SEED },
    );
  });

  it('property: on any text (lone surrogates, expansions, invisibles) findings are ordered spans of the original', () => {
    const tricky = fc.constantFrom(
      '\uD800',
      '\uDC00',
      '\uFDFA',
      '\u200B',
      '\u00AD',
      '\uFF11',
      '\u2013',
      '\u0301',
      '\uFF20',
      '\u00A0',
      '\u0661',
      '\uD835\uDFCF',
    );
    const text = fc
      .array(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 12 }),
          tricky,
          planted.map((p) => p.value),
        ),
        { maxLength: 12 },
      )
      .map((a) => a.join(' '));
    fc.assert(
      fc.property(text, (t) => {
        const fs = detect(t);
        let pos = 0;
        for (const f of fs) {
          expect(f.start).toBeGreaterThanOrEqual(pos);
          expect(f.end).toBeGreaterThan(f.start);
          expect(f.end).toBeLessThanOrEqual(t.length);
          pos = f.end;
        }
        expect(() => mask(t, fs)).not.toThrow();
      }),
      { numRuns: 500, seed: SEED },
    );
  });

  it('regression: a card followed by a space-separated SSN masks both (issue #14)', () => {
    // The Luhn-valid 19-digit reading "4033 5294 5474 9459 457" used to win and leave "01 0001".
    const { masked, findings } = detectAndMask('4033 5294 5474 9459 457 01 0001');
    expect(masked).toBe('[CREDIT_CARD] [SSN]');
    expect(findings.map((f) => f.type)).toEqual(['CREDIT_CARD', 'SSN']);
  });

  it('masks the original text, invisible and fullwidth characters included', () => {
    expect(detectAndMask('ssn 1２3\u200B-45–6789, mail jane＠example.com.').masked).toBe('ssn [SSN], mail [EMAIL].');
  });
});
