import { describe, expect, it } from 'vitest';
import { epochMillis } from './types.js';

// epochMillis remembers the timestamps it has read (a batching preset reads each event's three
// times): the remembered answer must be the parsed one, however many timestamps pass through.
describe('epochMillis', () => {
  it('answers a timestamp read again as it did the first time, past the bound of what it remembers', () => {
    const base = Date.UTC(2026, 11, 2, 10, 0, 0);
    const stamps = Array.from({ length: 10_000 }, (_, i) => new Date(base + i * 1_003).toISOString());
    for (let round = 0; round < 3; round++) {
      stamps.forEach((s, i) => expect(epochMillis(s)).toBe(base + i * 1_003));
    }
    expect(epochMillis('2026-12-02T12:00:00.123456+02:00')).toBe(Date.UTC(2026, 11, 2, 10, 0, 0, 123));
    expect(epochMillis('2026-12-02T12:00:00.123456+02:00')).toBe(Date.UTC(2026, 11, 2, 10, 0, 0, 123));
  });

  it('remembers only what it read as RFC 3339: a form read in the local time zone is read again', () => {
    const zone = process.env.TZ;
    try {
      process.env.TZ = 'UTC';
      const utc = epochMillis('2026-12-02 10:00:00');
      process.env.TZ = 'America/New_York';
      expect(epochMillis('2026-12-02 10:00:00')).toBe(utc + 5 * 3_600_000);
      expect(epochMillis('2026-12-02T10:00:00Z')).toBe(Date.UTC(2026, 11, 2, 10));
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('refuses an unreadable timestamp every time it is read, not only the first', () => {
    for (let i = 0; i < 3; i++) expect(() => epochMillis('2026-13-45T99:00:00Z')).toThrow(/invalid @timestamp/);
  });
});
