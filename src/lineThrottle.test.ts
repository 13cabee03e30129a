import { describe, expect, it } from 'vitest';
import { LineThrottle } from './lineThrottle.js';

describe('LineThrottle', () => {
  it('lets one line a period through per kind, saying how many it held back', () => {
    let now = 0;
    const lines = new LineThrottle(60_000, () => now);
    expect(lines.take('A')).toBe(0);
    now = 59_999;
    expect(lines.take('A')).toBeNull();
    expect(lines.take('A')).toBeNull();
    expect(lines.take('B')).toBe(0);
    now = 60_000;
    expect(lines.take('A')).toBe(2);
    expect(lines.take('A')).toBeNull();
  });

  it('remembers at most maxKinds kinds, forgetting those whose period is over', () => {
    let now = 0;
    const lines = new LineThrottle(1000, () => now, 3);
    for (const k of ['a', 'b', 'c']) expect(lines.take(k)).toBe(0);
    // a holds one line back.
    expect(lines.take('a')).toBeNull();
    now = 1000;
    // Over the cap: a, b and c are past their period and forgotten, so d is remembered alone.
    expect(lines.take('d')).toBe(0);
    expect(lines.take('d')).toBeNull();
    // Forgotten, a starts again at 0, not at the one line it held back (which it would say if kept).
    expect(lines.take('a')).toBe(0);
  });

  it('holds maxKinds kinds at most when all are within their period: the one written longest ago goes', () => {
    let now = 0;
    const lines = new LineThrottle(60_000, () => now, 3);
    for (const k of ['a', 'b', 'c']) expect(lines.take(k)).toBe(0);
    now = 1000;
    expect(lines.take('d')).toBe(0);
    // a was forgotten to make room (kept, it would be held back: null); b, c and d are still held.
    expect(lines.take('a')).toBe(0);
    expect(lines.take('c')).toBeNull();
    expect(lines.take('d')).toBeNull();
  });
});
