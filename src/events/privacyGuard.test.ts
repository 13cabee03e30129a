import { describe, expect, it } from 'vitest';
import { guardActorId, guardAgentRecord, safeSegment } from './privacyGuard.js';

const record = {
  preflight_id: 'pflt_abcdefgh123',
  decision: 'ALLOWED_WITH_MASKING',
  destination: 'AI_TOOL',
  summary: 'Detected SSN, EMAIL; masked.',
  policy_version: 'v1.0',
  policy_id: 'pol_default',
  source_type: 'sdk',
  input_type: 'text',
  input_size_bytes: 200,
  finding_counts_by_type: { SSN: 1, EMAIL: 2 },
  actor_id: 'alice@example.com',
  occurred_at: '2026-05-15T10:33:21.456789+00:00',
};

describe('guardAgentRecord', () => {
  it('accepts a metadata-only record whose actor_id is one email address', () => {
    expect(guardAgentRecord(record)).toEqual([]);
    expect(guardAgentRecord({ ...record, actor_id: 'usr_12345' })).toEqual([]);
  });

  it('refuses raw values in the summary, naming field and type, never the value', () => {
    const v = guardAgentRecord({ ...record, summary: 'Detected SSN 123-45-6789' });
    expect(v).toEqual([{ path: '/summary', message: expect.stringContaining('SSN') }]);
    expect(JSON.stringify(v)).not.toContain('123-45-6789');
  });

  it('refuses a summary with a bare nine-digit run', () => {
    expect(guardAgentRecord({ ...record, summary: 'Detected SSN 123456789; masked.' }).map((x) => x.path)).toEqual(['/summary']);
  });

  it.each([
    ['an email plus other text', 'alice@example.com 123-45-6789', ['EMAIL', 'SSN']],
    ['two emails', 'alice@example.com,bob@example.com', ['EMAIL']],
    ['an email with a note', 'alice@example.com (card 4111 1111 1111 1111)', ['EMAIL', 'CREDIT_CARD']],
    ['an SSN', '123-45-6789', ['SSN']],
    ['an AWS key', 'AKIAIOSFODNN7EXAMPLE', ['AWS_ACCESS_KEY']],
  ])('refuses an actor_id holding %s', (_name, actor, types) => {
    const v = guardAgentRecord({ ...record, actor_id: actor });
    expect(v.map((x) => x.path)).toEqual(types.map(() => '/actor_id'));
    for (const t of types) expect(v.some((x) => x.message.includes(t))).toBe(true);
    for (const x of v) expect(x.message).not.toContain(actor);
  });

  it('scans every string field, including ones the schema would refuse', () => {
    const v = guardAgentRecord({ ...record, policy_id: 'pol_AKIAIOSFODNN7EXAMPLE', destination: 'bob@example.com', note: '4111111111111111' });
    expect(v.map((x) => x.path).sort()).toEqual(['/destination', '/note', '/policy_id']);
  });

  it('scans finding type names too', () => {
    const v = guardAgentRecord({ ...record, finding_counts_by_type: { AKIAIOSFODNN7EXAMPLE: 1 } });
    expect(v).toEqual([{ path: '/finding_counts_by_type', message: expect.stringContaining('AWS_ACCESS_KEY') }]);
    expect(JSON.stringify(v)).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });

  it('prefixes paths and ignores non-objects', () => {
    expect(guardAgentRecord({ summary: 'x@example.com' }, '/events/3')).toEqual([{ path: '/events/3/summary', message: expect.any(String) }]);
    expect(guardAgentRecord(null)).toEqual([]);
    expect(guardAgentRecord('123-45-6789')).toEqual([]);
  });
});

describe('guardActorId and safeSegment', () => {
  it('allows exactly one email or a finding-free id', () => {
    expect(guardActorId('alice@example.com')).toEqual([]);
    expect(guardActorId('okta|00u1abcd')).toEqual([]);
    expect(guardActorId(' alice@example.com')).toHaveLength(1);
  });
  it('redacts unsafe property names', () => {
    expect(safeSegment('summary')).toBe('summary');
    expect(safeSegment('123-45-6789')).toBe('<redacted-property-name>');
    expect(safeSegment('my secret note')).toBe('<redacted-property-name>');
  });
});

describe('secrets glued to an identifier', () => {
  it.each([
    ['policy_id', 'pol_ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789', 'GITHUB_TOKEN'],
    ['preflight_id', 'pflt_sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'STRIPE_KEY'],
    ['policy_version', 'v1-AIzaSyA1234567890abcdefghijklmnopqrstuv', 'GOOGLE_API_KEY'],
  ])('refuses %s carrying a token after a prefix', (field, value, type) => {
    const v = guardAgentRecord({ ...record, [field]: value });
    expect(v).toEqual([{ path: `/${field}`, message: expect.stringContaining(type) }]);
  });

  it('refuses an actor_id email whose local part is a token or an SSN', () => {
    expect(guardActorId('ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789@example.com')).toEqual([{ path: '/actor_id', message: expect.stringContaining('GITHUB_TOKEN') }]);
    expect(guardActorId('123-45-6789@example.com')).toEqual([{ path: '/actor_id', message: expect.stringContaining('SSN') }]);
    expect(guardActorId('4155552671@txt.att.net')).toEqual([]);
    expect(guardActorId('alice_smith@example.com')).toEqual([]);
  });
});

describe('finding type names', () => {
  it('refuses a digit run that could be a compact SSN or account number', () => {
    expect(guardAgentRecord({ ...record, finding_counts_by_type: { SSN_287654321: 1 } }).map((v) => v.path)).toEqual(['/finding_counts_by_type']);
    expect(guardAgentRecord({ ...record, finding_counts_by_type: { CUSTOM_RULE_12: 1 } })).toEqual([]);
  });
});
