import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildTestEvent, buildWireEvent, fieldsFromAgentRecord, formatTimestamp, newPreflightId, type AegisFields } from './contract.js';

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
  it('is pflt_ plus 24 URL-safe characters, and unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, newPreflightId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^pflt_[A-Za-z0-9_-]{24}$/);
  });
});

describe('buildTestEvent', () => {
  it('is plainly a test event for the destination', () => {
    const e = buildTestEvent({ orgId: 'org_abc', destinationId: 'fwd_a1b2c3', now: new Date('2026-05-15T10:30:00Z') });
    expect(e.event.dataset).toBe('aegis.audit_stream.test');
    expect(e.event.action).toBe('audit_stream_test');
    expect(e.event.id).toMatch(/^pflt_test_[A-Za-z0-9_-]{16}$/);
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
    expect(f.preflight_id).toMatch(/^pflt_[A-Za-z0-9_-]{24}$/);
    expect(occurredAt).toBe(now);
  });
});

describe('parseOccurredAt', () => {
  it('keeps a leap second as the last millisecond of its minute, and refuses what is not a time', async () => {
    const { parseOccurredAt } = await import('./contract.js');
    expect(parseOccurredAt('2016-12-31T23:59:60Z')?.toISOString()).toBe('2016-12-31T23:59:59.999Z');
    expect(parseOccurredAt('2016-12-31T23:59:60.5+01:00')?.toISOString()).toBe('2016-12-31T22:59:59.999Z');
    expect(parseOccurredAt('2026-05-15T10:33:21.456789+00:00')?.toISOString()).toBe('2026-05-15T10:33:21.456Z');
    expect(parseOccurredAt('not a time')).toBeNull();
  });
});
