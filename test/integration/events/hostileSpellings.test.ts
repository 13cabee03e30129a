import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { agentRecord, countRows } from './support.js';
import { DIGIT_ONLY_IBANS } from '../../support/ibans.js';

// Issue #14, first two bullets, through the real API: every spelling that used to pass unmasked is
// masked by POST /preflight, and every record that used to be accepted by POST /audit-events with a
// raw value in an identifier or free-text field is refused with a 400 naming the field.
describe.each(DB_KINDS)('hostile spellings of detected values (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let org: { orgId: string; apiKey: string };

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,1,1' });
    org = await svc.newOrg();
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  const post = (path: string, body: unknown) => svc.request('POST', `/api/orgs/${org.orgId}${path}`, { apiKey: org.apiKey, body });

  it.each([
    ['123.45.6789', 'SSN', '[SSN]'],
    ['123456789', 'SSN', '[SSN]'],
    ['4111.1111.1111.1111', 'CREDIT_CARD', '[CREDIT_CARD]'],
    ['jane＠example.com', 'EMAIL', '[EMAIL]'],
    ['123–45–6789', 'SSN', '[SSN]'],
    ['１２３-４５-６７８９', 'SSN', '[SSN]'],
    ['4033 5294 5474 9459 457 01 0001', 'CREDIT_CARD', '[CREDIT_CARD] [SSN]'],
    ['123-45 6789', 'SSN', '[SSN]'],
    ['4111/1111/1111/1111', 'CREDIT_CARD', '[CREDIT_CARD]'],
    ['4111 1111\r\n1111 1111', 'CREDIT_CARD', '[CREDIT_CARD]'],
    ['❶❷❸-❹❺-❻❼❽❾', 'SSN', '[SSN]'],
    ['4111\u31641111\u31641111\u31641111', 'CREDIT_CARD', '[CREDIT_CARD]'],
    ['de89 3704 0044 0532 0130 00', 'IBAN', '[IBAN]'],
    ['4111\u28001111\u28001111\u28001111', 'CREDIT_CARD', '[CREDIT_CARD]'],
    ['jane @ example.com', 'EMAIL', '[EMAIL]'],
    ['123_45_6789', 'SSN', '[SSN]'],
    ['4111_1111_1111_1111', 'CREDIT_CARD', '[CREDIT_CARD]'],
    ['4111  1111  1111  1111', 'CREDIT_CARD', '[CREDIT_CARD]'],
    ['123 - 45 - 6789', 'SSN', '[SSN]'],
    ['123,45,6789', 'SSN', '[SSN]'],
  ])('POST /preflight masks %j', async (value, type, masked) => {
    const res = await post('/preflight', { input: `value: ${value}.` });
    expect(res.status, res.text).toBe(200);
    expect(res.body.decision).toBe('ALLOWED_WITH_MASKING');
    expect(res.body.masked_input).toBe(`value: ${masked}.`);
    expect(Object.keys(res.body.finding_counts_by_type as object)).toContain(type);
    expect(res.text).not.toContain(value);
    // No digit of the value survives either (the card used to leave "01 0001").
    expect(res.body.masked_input as string).not.toMatch(/\d/);
  });

  it('POST /preflight blocks and masks a lower-case AWS access key id', async () => {
    const res = await post('/preflight', { input: 'key akiaiosfodnn7example.' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.decision).toBe('BLOCKED');
    expect(res.body.masked_input).toBe('key [AWS_ACCESS_KEY].');
    expect(res.text).not.toContain('akiaiosfodnn7example');
  });

  it('POST /audit-events refuses each raw value in an identifier or free-text field, naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [agentRecord({ preflight_id: 'pflt_4111111111111111' }), 'preflight_id', '4111111111111111'],
      [agentRecord({ policy_id: '123.45.6789' }), 'policy_id', '123.45.6789'],
      [agentRecord({ policy_id: 'ip_10.1.2.3' }), 'policy_id', '10.1.2.3'],
      [agentRecord({ policy_version: 'v4111111111111111' }), 'policy_version', '4111111111111111'],
      [agentRecord({ actor_id: 'ssn.123.45.6789@example.com' }), 'actor_id', '123.45.6789'],
      [agentRecord({ summary: 'SSN 123.45.6789' }), 'summary', '123.45.6789'],
      [agentRecord({ summary: 'card 4111.1111.1111.1111' }), 'summary', '4111.1111.1111.1111'],
      [agentRecord({ finding_counts_by_type: { SSN_123_45_6789: 1 } }), 'finding_counts_by_type', '123_45_6789'],
      [agentRecord({ finding_counts_by_type: { JANE_AT_EXAMPLE_COM: 1 } }), 'finding_counts_by_type', 'JANE_AT_EXAMPLE_COM'],
      [agentRecord({ policy_id: 'ssn:123:45:6789' }), 'policy_id', '123:45:6789'],
      // The needle spelled as sent: "6789" alone turns up in the logs' random request ids (UUIDs).
      [agentRecord({ summary: 'SSN 123\u202845\u20286789' }), 'summary', '45\u20286789'],
      [agentRecord({ policy_id: 'iban_de89370400440532013000' }), 'policy_id', 'de89370400440532013000'],
      // A key with a non-integer count: its path used to be echoed in error.details.
      [agentRecord({ finding_counts_by_type: { '4111111111111111': 'x' } }), 'finding_counts_by_type', '4111111111111111'],
    ];
    const before = await countRows(tdb.db, 'audit_events', org.orgId);
    for (const [bad, field, value] of cases) {
      const res = await post('/audit-events', { events: [agentRecord(), bad] });
      expect(res.status, field).toBe(400);
      expect(res.body.error.code, field).toBe('validation_failed');
      expect(res.body.error.message, field).toContain(`events[1].${field}`);
      expect(res.text, field).not.toContain(value);
    }
    expect(await countRows(tdb.db, 'audit_events', org.orgId)).toBe(before);
    const logs = svc.logs.text();
    // As written, and as a JSON log line escapes it ("\u2028").
    for (const [, , value] of cases) for (const spelled of [value, value.replace(/\u2028/g, '\\u2028')]) expect(logs).not.toContain(spelled);
  });

  // Digit-only IBANs, which preflight detects, used to be accepted in every identifier field (stored,
  // returned by the pull API and forwarded): the guard's identifier form split "NO9386011117947"
  // into "NO 9386011117947", where the IBAN detector could not read it.
  it('POST /audit-events refuses a digit-only IBAN in each identifier field, in either case and after "pflt_"', async () => {
    const ibans = DIGIT_ONLY_IBANS.flatMap((iban) => [iban, iban.toLowerCase()]);
    // Preflight detects each one (and records a masked event of its own).
    for (const iban of ibans) {
      const pre = await post('/preflight', { input: `pay to ${iban} today` });
      expect(pre.status, iban).toBe(200);
      expect(pre.body.masked_input, iban).toBe('pay to [IBAN] today');
    }
    const before = await countRows(tdb.db, 'audit_events', org.orgId);
    for (const iban of ibans) {
      for (const [field, value] of [
        ['preflight_id', `pflt_${iban}`],
        ['preflight_id', iban],
        ['policy_id', iban],
        ['policy_version', iban],
        ['actor_id', iban],
      ] as const) {
        const res = await post('/audit-events', { events: [agentRecord(), agentRecord({ [field]: value })] });
        expect(res.status, `${field}=${value}`).toBe(400);
        expect(res.body.error.code, `${field}=${value}`).toBe('validation_failed');
        expect(res.body.error.message, `${field}=${value}`).toContain(`events[1].${field}`);
        // The guard's finding is among the details (a bare IBAN as preflight_id breaks its pattern too).
        const details = res.body.error.details as Array<{ path: string; message: string }>;
        expect(
          details.some((d) => d.path === `/events/1/${field}` && d.message.includes('IBAN')),
          `${field}=${value}: ${JSON.stringify(details)}`,
        ).toBe(true);
        expect(res.text, `${field}=${value}`).not.toContain(iban);
      }
    }
    expect(await countRows(tdb.db, 'audit_events', org.orgId)).toBe(before);
    const pulled = await svc.request('GET', `/api/orgs/${org.orgId}/audit-events?limit=100`, { apiKey: org.apiKey });
    expect(pulled.status, pulled.text).toBe(200);
    for (const iban of ibans) expect(pulled.text).not.toContain(iban);
    const logs = svc.logs.text();
    for (const iban of ibans) expect(logs).not.toContain(iban);
  });

  it('POST /audit-events still accepts ordinary ids, versions, dates and an e-mail actor_id', async () => {
    const res = await post('/audit-events', {
      events: [
        agentRecord({ preflight_id: 'pflt_agent_0001', policy_id: 'default', policy_version: '2026-05-01', actor_id: 'alice@example.com' }),
        agentRecord({ preflight_id: 'pflt_550e8400-e29b-41d4-a716-446655440000', policy_version: 'v3', occurred_at: '2026-05-15T10:33:21.456789+00:00' }),
        agentRecord({ policy_id: 'pol_xyz', policy_version: 'e83c5163316f89bfbde7d9ab23ca2e25604af290', actor_id: '4155552671@txt.att.net' }),
      ],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.accepted).toBe(3);
  });
});
