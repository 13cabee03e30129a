import { describe, expect, it } from 'vitest';
import { keysetPage } from './page.js';

describe('keysetPage', () => {
  it('keeps limit rows and names the last one only when the extra row says another page follows', () => {
    expect(keysetPage([1, 2, 3], 2)).toEqual({ rows: [1, 2], after: 2 });
    expect(keysetPage([1, 2], 2)).toEqual({ rows: [1, 2], after: null });
    expect(keysetPage([1], 2)).toEqual({ rows: [1], after: null });
    expect(keysetPage([], 2)).toEqual({ rows: [], after: null });
    expect(keysetPage([1], 0)).toEqual({ rows: [], after: null });
  });
});
