import { describe, expect, it } from 'vitest';
import { findUnstorableText } from './storableText.js';

describe('findUnstorableText', () => {
  it('names the first string or key holding NUL or an unpaired surrogate', () => {
    expect(findUnstorableText({ url: 'x', options: { index: 'a\u0000b' } })).toBe('options.index');
    expect(findUnstorableText({ events: [{ summary: 'ok' }, { summary: 'bad \ud800' }] })).toBe('events[1].summary');
    expect(findUnstorableText({ options: { ['k\udc00']: 'v' } })).toBe('options.k\uFFFD');
    expect(findUnstorableText({ options: { ['a\u0000b\ud800']: 'v' } })).toBe('options.a\uFFFDb\uFFFD');
    expect(findUnstorableText('\udc00x')).toBe('body');
    expect(findUnstorableText(['a', '\u0000'])).toBe('body[1]');
  });

  it('accepts ordinary text, including characters outside the BMP written as surrogate pairs', () => {
    expect(findUnstorableText({ name: 'Tökén 🔐 ✓', n: 1, ok: true, none: null, list: ['a', '😀'] })).toBeNull();
    expect(findUnstorableText(undefined)).toBeNull();
  });
});
