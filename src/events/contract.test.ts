import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  buildTestEvent,
  buildWireEvent,
  DATE_TIME_OUT_OF_RANGE,
  DATE_TIME_RANGE,
  fieldsFromAgentRecord,
  formatTimestamp,
  newPreflightId,
  NOT_A_DATE_TIME,
  parseDateTime,
  sinceUntil,
  type AegisFields,
} from './contract.js';

const example = JSON.parse(readFileSync(new URL('./fixtures/product-page-example.json', import.meta.url), 'utf8'));

const fields: AegisFields = {
  preflight_id: 'pflt_abc123',
  decision: 'ALLOWED_WITH_MASKING',
  destination: 'AI_TOOL',
  summary: 'Detected SSN; masked.',
  policy_version: 'v1.0',
  policy_id: 'pol_xyz',
  source_type: 'api',
  input_type: 'text',
  input_size_bytes: 200,
  finding_counts_by_type: { SSN: 1, EMAIL: 2 },
  actor_id: example.aegis.actor_id,
};

/** Every key path of a JSON value, in document order. */
function keyPaths(v: unknown, prefix = ''): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [];
  return Object.entries(v).flatMap(([k, x]) => [`${prefix}${k}`, ...(k === 'finding_counts_by_type' ? [] : keyPaths(x, `${prefix}${k}.`))]);
}

describe('buildWireEvent', () => {
  it("reproduces the product page's example field for field, in the same order", () => {
    const built = buildWireEvent({ orgId: 'org_abc', fields, occurredAt: new Date('2026-05-15T10:33:21.456Z') });
    expect(keyPaths(built)).toEqual(keyPaths(example));
    expect(JSON.stringify(built)).toBe(JSON.stringify({ ...example, '@timestamp': '2026-05-15T10:33:21.456000+00:00' }));
  });

  it.each([
    ['ALLOWED', 'allowed', 'success'],
    ['ALLOWED_WITH_MASKING', 'allowed_with_masking', 'success'],
    ['BLOCKED', 'blocked', 'failure'],
  ] as const)('maps %s to event.type [%s] and outcome %s', (decision, type, outcome) => {
    const e = buildWireEvent({ orgId: 'org_abc', fields: { ...fields, decision }, occurredAt: new Date() });
    expect(e.event.type).toEqual([type]);
    expect(e.event.outcome).toBe(outcome);
    expect(e.event.id).toBe(fields.preflight_id);
  });

  it('omits actor_id when unknown and drops keys outside the contract', () => {
    const { actor_id: _drop, ...rest } = fields;
    const e = buildWireEvent({ orgId: 'org_abc', fields: { ...rest, extra: 'x' } as AegisFields, occurredAt: new Date() });
    expect('actor_id' in e.aegis).toBe(false);
    expect('extra' in e.aegis).toBe(false);
  });
});

describe('formatTimestamp', () => {
  it('writes microseconds and a +00:00 offset', () => {
    expect(formatTimestamp(new Date('2026-05-15T10:33:21.456Z'))).toBe('2026-05-15T10:33:21.456000+00:00');
    expect(formatTimestamp(new Date(0))).toBe('1970-01-01T00:00:00.000000+00:00');
  });
  it('refuses an invalid date', () => {
    expect(() => formatTimestamp(new Date('nope'))).toThrow(RangeError);
  });
  it('formats each time as its own, whatever was formatted before (the last one is remembered)', () => {
    const times = [0, 1, 1, 0, 1_778_841_201_456, 1_778_841_201_456, -1, 0].map((ms) => new Date(ms));
    expect(times.map(formatTimestamp)).toEqual(times.map((d) => `${d.toISOString().slice(0, -1)}000+00:00`));
    formatTimestamp(new Date(5));
    expect(() => formatTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('newPreflightId', () => {
  it('is pflt_ plus 28 lower-case letters, and unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newPreflightId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^pflt_[a-z]{28}$/);
  });
});

describe('buildTestEvent', () => {
  it('is plainly a test event for the destination', () => {
    const e = buildTestEvent({ orgId: 'org_abc', destinationId: 'fwd_a1b2c3', now: new Date('2026-05-15T10:30:00Z') });
    expect(e.event.dataset).toBe('aegis.audit_stream.test');
    expect(e.event.action).toBe('audit_stream_test');
    expect(e.event.id).toMatch(/^pflt_test_[a-z]{16}$/);
    expect(e.aegis.preflight_id).toBe(e.event.id);
    expect(e.aegis.decision).toBe('ALLOWED');
    expect(e.event.type).toEqual(['allowed']);
    expect(e.aegis.summary).toBe('Test event from Aegis Audit Stream: destination fwd_a1b2c3 is wired correctly. Safe to ignore.');
    expect(e['@timestamp']).toBe('2026-05-15T10:30:00.000000+00:00');
    expect(e.organization.id).toBe('org_abc');
  });
});

describe('fieldsFromAgentRecord', () => {
  const record = { ...fields, occurred_at: '2026-05-15T10:33:21.456789+00:00' };
  it("keeps the agent's preflight_id and occurred_at", () => {
    const { fields: f, occurredAt } = fieldsFromAgentRecord(record, new Date(0));
    expect(f.preflight_id).toBe('pflt_abc123');
    expect('occurred_at' in f).toBe(false);
    expect(occurredAt.toISOString()).toBe('2026-05-15T10:33:21.456Z');
  });
  it("writes the fields in the page's order whatever the record's, without keys the page does not have", () => {
    const shuffled = Object.fromEntries(Object.entries({ ...record, actor_id: 'u1', extra: 'x' }).reverse()) as typeof record;
    const { fields: f } = fieldsFromAgentRecord(shuffled, new Date(0));
    expect(Object.keys(f)).toEqual([...Object.keys(fields).filter((k) => k !== 'actor_id'), 'actor_id']);
    expect(f).toEqual({ ...fields, actor_id: 'u1' });
  });
  it('assigns an id and uses now when absent', () => {
    const { preflight_id: _p, occurred_at: _o, ...bare } = record;
    const now = new Date('2026-01-01T00:00:00Z');
    const { fields: f, occurredAt } = fieldsFromAgentRecord(bare, now);
    expect(f.preflight_id).toMatch(/^pflt_[a-z]{28}$/);
    expect(occurredAt).toBe(now);
  });
});

describe('sinceUntil: bounds on @timestamp, which holds whole milliseconds', () => {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  it('takes the first millisecond at or after each bound, so [since, until) reads as given', () => {
    const b = sinceUntil({ since: '2026-12-01T12:00:00.123001Z', until: '2026-12-01T12:00:00.123999Z' });
    expect([iso(b.since), iso(b.until)]).toEqual(['2026-12-01T12:00:00.124Z', '2026-12-01T12:00:00.124Z']);
    const whole = sinceUntil({ since: '2026-12-01T12:00:00.123Z', until: '2026-12-01T12:00:00.123000Z' });
    expect([iso(whole.since), iso(whole.until)]).toEqual(['2026-12-01T12:00:00.123Z', '2026-12-01T12:00:00.123Z']);
    expect(iso(sinceUntil({ until: '2026-12-31T23:59:59.999001Z' }).until)).toBe('2027-01-01T00:00:00.000Z');
    // Never past the range: year 10000 is no date a query takes.
    expect(iso(sinceUntil({ until: '9999-12-31T23:59:59.999999Z' }).until)).toBe('9999-12-31T23:59:59.999Z');
  });

  it('orders the two to the microsecond', () => {
    expect(() => sinceUntil({ since: '2026-12-01T12:00:00.123500Z', until: '2026-12-01T12:00:00.123001Z' })).toThrow(/until: is before since/);
    expect(() => sinceUntil({ since: '2026-12-01T12:00:00.123001Z', until: '2026-12-01T12:00:00.123001Z' })).not.toThrow();
  });
});

describe('parseDateTime', () => {
  const at = (value: string) => {
    const parsed = parseDateTime(value);
    return parsed.ok ? parsed.date.toISOString() : parsed.problem;
  };

  it('reads RFC 3339 date-times, dropping digits past milliseconds', () => {
    expect(at('2026-05-15T10:33:21.456789+00:00')).toBe('2026-05-15T10:33:21.456Z');
    expect(at('2026-05-15t10:33:21.9999z')).toBe('2026-05-15T10:33:21.999Z');
    expect(at('2026-05-15 10:33:21-07:30')).toBe('2026-05-15T18:03:21.000Z');
    expect(at('2024-02-29T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z');
  });

  it('keeps a leap second (at 23:59 UTC only) as the last millisecond of its minute', () => {
    expect(at('2016-12-31T23:59:60Z')).toBe('2016-12-31T23:59:59.999Z');
    expect(at('2017-01-01T00:59:60.5+01:00')).toBe('2016-12-31T23:59:59.999Z');
    expect(at('2016-12-31T18:29:60-05:30')).toBe('2016-12-31T23:59:59.999Z');
    // 23:59:60 at +01:00 is 22:59:60 UTC: no leap second is ever inserted there.
    expect(at('2016-12-31T23:59:60+01:00')).toBe(NOT_A_DATE_TIME);
    expect(at('2016-12-31T12:00:60Z')).toBe(NOT_A_DATE_TIME);
  });

  it('refuses what is not RFC 3339, though JavaScript or the schema format check may take it', () => {
    for (const value of [
      'not a time',
      '2026-11-30T10:00:00+0530',
      '2026-11-30T10:00:00+05',
      '2026-11-30T10:00:00',
      '2026-11-30',
      '2026-11-30T10:00Z',
      '+002026-11-30T10:00:00Z',
      '2026-11-30T10:00:00.Z',
      '2026-11-30\t10:00:00Z',
      '2026-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-00-01T00:00:00Z',
      '2026-11-00T00:00:00Z',
      '2026-11-30T24:00:00Z',
      '2026-11-30T10:60:00Z',
      '2026-11-30T10:00:00+24:00',
      '2026-11-30T10:00:00+05:60',
      ' 2026-11-30T10:00:00Z',
      '2026-11-30T10:00:00Z\n',
    ]) {
      expect(at(value), value).toBe(NOT_A_DATE_TIME);
    }
  });

  it('takes instants from 1970 to 9999 (UTC), after the offset', () => {
    expect(at('1970-01-01T00:00:00Z')).toBe('1970-01-01T00:00:00.000Z');
    expect(at('1969-12-31T23:00:00-01:00')).toBe('1970-01-01T00:00:00.000Z');
    expect(at('9999-12-31T23:59:59.999Z')).toBe('9999-12-31T23:59:59.999Z');
    expect(at('9999-12-31T23:59:60Z')).toBe('9999-12-31T23:59:59.999Z');
    expect(at('9999-12-31T23:58:60-00:01')).toBe('9999-12-31T23:59:59.999Z');
    expect(at('10000-01-01T00:00:00Z')).toBe(NOT_A_DATE_TIME);
    for (const value of [
      '0000-01-01T00:00:00Z',
      '0001-01-01T00:00:00+14:00',
      '0050-01-01T00:00:00Z', // Date.UTC would read year 50 as 1950
      '1969-12-31T23:59:59.999Z',
      '1970-01-01T00:30:00+01:00',
      '9999-12-31T23:59:59-01:00',
    ]) {
      expect(at(value), value).toBe(DATE_TIME_OUT_OF_RANGE);
    }
  });

  it('reads every instant of the range, at any offset, as JavaScript reads the same text', () => {
    const offset = fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }));
    fc.assert(
      fc.property(fc.integer({ min: DATE_TIME_RANGE.min, max: DATE_TIME_RANGE.max }), offset, (ms, [sign, h, m]) => {
        const minutes = (sign === '-' ? -1 : 1) * (h * 60 + m);
        const local = new Date(ms + minutes * 60_000).toISOString();
        // The same instant written in that offset (when its local year is still 4 digits).
        fc.pre(/^\d{4}-/.test(local));
        const text = `${local.slice(0, -1)}${sign}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
        expect(at(text)).toBe(new Date(ms).toISOString());
        expect(new Date(text).getTime()).toBe(ms);
      }),
    );
  });
});
