import { describe, expect, it } from 'vitest';
import { destinationStatus } from './status.js';

const now = new Date('2026-05-15T12:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
const base = { enabled: true, last_attempt_ok: null, last_delivery_at: null, last_delivery_seq: null, last_dead_letter_seq: null };

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
    expect(destinationStatus({ ...base, last_attempt_ok: true, last_delivery_at: hoursAgo(2), last_delivery_seq: 1, last_dead_letter_seq: 2 }, now)).toBe(
      'failing',
    );
    expect(destinationStatus({ ...base, last_attempt_ok: true, last_delivery_at: hoursAgo(1), last_delivery_seq: 2, last_dead_letter_seq: 1 }, now)).toBe(
      'active',
    );
  });
  it('orders a dead letter and a success by their outcomes, not by their times', () => {
    // A success that waited for the row behind the dead letter's settle carries the earlier time
    // (its statement's start) and the later number: the destination works again.
    const stamped = hoursAgo(1);
    expect(destinationStatus({ ...base, last_attempt_ok: true, last_delivery_at: stamped, last_delivery_seq: 8, last_dead_letter_seq: 7 }, now)).toBe('active');
    // One settle delivered some events and dead-lettered a poison one: one number, the dead letter is
    // not after the success, so not Failing (the dead_letters alert tells of it).
    expect(destinationStatus({ ...base, last_attempt_ok: true, last_delivery_at: stamped, last_delivery_seq: 7, last_dead_letter_seq: 7 }, now)).toBe('active');
  });
});
