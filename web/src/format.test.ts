import { describe, expect, it } from 'vitest';
import { behind } from './format.js';

describe('behind: how far behind a queue is, for the card', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  it('says nothing for a queue that is current (under a minute)', () => {
    expect(behind(null, now)).toBeNull();
    expect(behind('2026-11-30T11:59:30Z', now)).toBeNull();
  });
  it('minutes, hours, then days', () => {
    expect(behind('2026-11-30T11:57:00Z', now)).toBe('3 min');
    expect(behind('2026-11-30T10:00:00Z', now)).toBe('2 h');
    expect(behind('2026-11-27T12:00:00Z', now)).toBe('3 days');
  });
});
