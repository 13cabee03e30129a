import { describe, expect, it } from 'vitest';
import { destinationStatus } from './status.js';

const now = new Date('2026-05-15T12:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
const base = { enabled: true, last_attempt_ok: null, last_delivery_at: null, last_dead_letter_at: null };

describe('status pill rule', () => {
  it('is disabled whenever enabled is false, whatever else happened', () => {
    expect(destinationStatus({ ...base, enabled: false, last_attempt_ok: false }, now)).toBe('disabled');
  });
  it('is idle for a new destination and when the last delivery is older than 24 h', () => {
    expect(destinationStatus(base, now)).toBe('idle');
    expect(destinationStatus({ ...base, last_attempt_ok: true, last_delivery_at: hoursAgo(25) }, now)).toBe('idle');
  });
  it('is active after a delivery in the last 24 h', () => {
    expect(destinationStatus({ ...base, last_attempt_ok: true, last_delivery_at: hoursAgo(23) }, now)).toBe('active');
  });
  it('is failing when the last attempt failed', () => {
    expect(destinationStatus({ ...base, last_attempt_ok: false, last_delivery_at: hoursAgo(1) }, now)).toBe('failing');
  });
  it('is failing when a job was dead-lettered since the last success, even if a later attempt succeeded', () => {
    expect(destinationStatus({ ...base, last_attempt_ok: true, last_delivery_at: hoursAgo(2), last_dead_letter_at: hoursAgo(1) }, now)).toBe('failing');
    expect(destinationStatus({ ...base, last_attempt_ok: true, last_delivery_at: hoursAgo(1), last_dead_letter_at: hoursAgo(2) }, now)).toBe('active');
  });
});
