import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { validateWireEvent } from '../../../src/events/validate.js';
import { assertValidOcsf } from '../../../src/events/ocsfSchema.js';
import { PLANTED, agentRecord, dumpDatabase, leaksIn, leaksInDump } from './support.js';

// The privacy promise, end to end: values planted in preflight inputs and in refused agent records
// reach no log line, no database row, no SIEM byte and no API response (other than the caller's own
// masked text, which holds none of them either).
describe.each(DB_KINDS)('planted values never leave the request (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let custom: Receiver;
  let splunk: Receiver;
  let ocsf: Receiver;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,1,1' });
    custom = await startReceiver();
    splunk = await startReceiver();
    ocsf = await startReceiver();
  });
  afterAll(async () => {
    await svc?.stop();
    await custom?.close();
    await splunk?.close();
    await ocsf?.close();
    await tdb?.close();
  });

  it('scans logs, a database dump, every byte three SIEMs received (one in OCSF) and every API response', async () => {
    // The scanner itself finds what it looks for.
    expect(leaksIn(`x${PLANTED.ssn}x`)).not.toEqual([]);
    expect(leaksInDump(`\\x${Buffer.from(PLANTED.aws).toString('hex')}`)).not.toEqual([]);

    const { orgId, apiKey } = await svc.newOrg();
    const responses: string[] = [];
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await svc.request(method, `/api/orgs/${orgId}${path}`, { apiKey, ...(body !== undefined ? { body } : {}) });
      return res;
    };
    const keep = <T extends { text: string }>(res: T): T => {
      responses.push(res.text);
      return res;
    };

    const c = keep(
      await call('POST', '/forwarding-destinations', {
        url: `${custom.url}/ingest`,
        auth_header_name: 'Authorization',
        auth_header_value: 'Bearer custom-siem-token',
      }),
    );
    expect(c.status, c.text).toBe(201);
    const s = keep(
      await call('POST', '/forwarding-destinations', {
        siem: 'splunk_hec',
        url: `${splunk.url}/services/collector/event`,
        auth_header_name: 'Authorization',
        auth_header_value: 'Splunk 5f8d1c2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f',
      }),
    );
    expect(s.status, s.text).toBe(201);
    // The same events as OCSF Data Security Findings (format "ocsf"): counts by type, no values either.
    const o = keep(await call('POST', '/forwarding-destinations', { url: `${ocsf.url}/ocsf`, format: 'ocsf' }));
    expect(o.status, o.text).toBe(201);

    // Preflight checks carrying every planted value.
    const inputs: Array<[string, string]> = [
      [`Patient SSN ${PLANTED.ssn}, card ${PLANTED.card}, mail ${PLANTED.email1} and ${PLANTED.email2}.`, 'ALLOWED_WITH_MASKING'],
      [`export AWS_ACCESS_KEY_ID=${PLANTED.aws}\ngit clone https://${PLANTED.github}@github.com/acme/app\nowner ${PLANTED.email1}`, 'BLOCKED'],
      [`${PLANTED.ssn}${' '.repeat(10)}${PLANTED.card}`, 'ALLOWED_WITH_MASKING'],
      // Spellings that used to pass unmasked (issue #14), and a card right before an SSN.
      [
        'SSN 287.65.4321, 287654321, 287\u201365\u20134321, \uff12\uff18\uff17-\uff16\uff15-\uff14\uff13\uff12\uff11; card 4539.7812.3456.7813; mail planted.one\uff20leak-test.example',
        'ALLOWED_WITH_MASKING',
      ],
      [`${PLANTED.card} 287 65 4321`, 'ALLOWED_WITH_MASKING'],
    ];
    const eventIds: string[] = [];
    for (const [input, decision] of inputs) {
      const res = await call('POST', '/preflight', {
        input,
        destination: 'LLM_API',
        source_type: 'sdk',
        input_type: 'tool_call',
        actor_id: 'operator@company.example',
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.decision).toBe(decision);
      expect(leaksIn(res.body.masked_input as string)).toEqual([]);
      const { masked_input: _masked, ...rest } = res.body as Record<string, unknown>;
      responses.push(JSON.stringify(rest));
      eventIds.push(res.body.preflight_id as string);
    }
    // Refused preflight requests: a planted value in an unknown field, in actor_id, in an oversize input.
    for (const body of [
      { input: 'hello', [PLANTED.email1]: PLANTED.ssn },
      { input: 'hello', note: PLANTED.aws },
      { input: 'hello', actor_id: `${PLANTED.email1} ${PLANTED.ssn}` },
      { input: 'hello', actor_id: PLANTED.github },
      { input: 'hello', destination: PLANTED.card },
      { input: `${PLANTED.ssn} ${'a'.repeat(1024 * 1024)}` },
    ]) {
      const res = keep(await call('POST', '/preflight', body));
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }

    // Agent batches: refused ones carrying planted values everywhere, then a clean one.
    for (const bad of [
      agentRecord({ summary: `Detected SSN ${PLANTED.ssn}; masked.` }),
      agentRecord({ summary: `card ${PLANTED.card}` }),
      agentRecord({ actor_id: `${PLANTED.email1}, ${PLANTED.email2}` }),
      agentRecord({ actor_id: PLANTED.aws }),
      agentRecord({ policy_id: `pol_${PLANTED.github}` }),
      agentRecord({ raw_input: `${PLANTED.ssn} ${PLANTED.aws}` }),
      agentRecord({ [PLANTED.email2]: 1 }),
      agentRecord({ finding_counts_by_type: { [PLANTED.aws]: 1 } }),
      agentRecord({ tool_args: { password: PLANTED.github } }),
      agentRecord({ preflight_id: 'pflt_4539781234567813' }),
      agentRecord({ policy_id: '287.65.4321' }),
      agentRecord({ policy_version: 'v4539781234567813' }),
      agentRecord({ actor_id: 'ssn.287.65.4321@example.com' }),
      agentRecord({ summary: 'SSN 287.65.4321, card 4539.7812.3456.7813' }),
      agentRecord({ finding_counts_by_type: { SSN_287_65_4321: 1 } }),
      agentRecord({ finding_counts_by_type: { PLANTED_ONE_AT_LEAK_TEST_COM: 1 } }),
    ]) {
      const res = keep(await call('POST', '/audit-events', { events: [agentRecord(), bad] }));
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.message).toContain('events[1]');
    }
    const accepted = keep(
      await call('POST', '/audit-events', {
        events: [
          agentRecord({ actor_id: 'operator@company.example' }),
          agentRecord({ decision: 'ALLOWED', summary: 'No sensitive data detected.', finding_counts_by_type: {} }),
        ],
      }),
    );
    expect(accepted.status, accepted.text).toBe(200);
    eventIds.push(...(accepted.body.preflight_ids as string[]));

    // Every event reaches both SIEMs.
    const hasAll = (r: Receiver) => () => eventIds.every((id) => r.requests.some((q) => q.body.toString('utf8').includes(id)));
    await custom.waitFor(hasAll(custom), 60_000);
    await splunk.waitFor(hasAll(splunk), 60_000);
    await ocsf.waitFor(hasAll(ocsf), 60_000);
    for (const q of ocsf.requests) assertValidOcsf(JSON.parse(q.body.toString('utf8')));
    expect(splunk.requests.some((q) => q.headers['content-encoding'] === 'gzip')).toBe(true);
    for (const q of custom.requests) expect(validateWireEvent(JSON.parse(q.body.toString('utf8')))).toEqual([]);

    // Reads through the API too (destinations, failed events) go into the scan.
    keep(await call('GET', '/forwarding-destinations'));
    keep(await call('GET', `/forwarding-destinations/${c.body.destination_id as string}`));
    keep(await call('GET', `/forwarding-destinations/${s.body.destination_id as string}/failed-events`));

    // The scans.
    const received = [custom, splunk, ocsf].flatMap((r) => r.requests.map((q) => `${JSON.stringify(q.headers)}\n${q.body.toString('utf8')}`)).join('\n');
    expect(received).toContain(eventIds[0]);
    expect(leaksIn(received)).toEqual([]);

    const logs = svc.logs.text();
    expect(logs).toContain('preflight recorded');
    expect(leaksIn(logs)).toEqual([]);

    const dump = await dumpDatabase(tdb);
    for (const id of eventIds) expect(dump).toContain(id);
    expect(leaksInDump(dump)).toEqual([]);

    const api = responses.join('\n');
    expect(api).toContain(eventIds[0]);
    expect(responses.filter((r) => leaksIn(r).length > 0)).toEqual([]);
  });
});
