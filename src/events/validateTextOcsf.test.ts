import { describe, expect, it } from 'vitest';
import { SIEM_IDS } from '../siem/catalog.js';
import { getEncoder } from '../siem/registry.js';
import { sampleEvent } from '../siem/testEvents.js';
import type { EncodeContext, SiemEvent } from '../siem/types.js';
import { buildTrailEvent } from '../trail/contract.js';
import { toOcsf } from './ocsf.js';
import { validateEventsText } from './validateText.js';

// validate-event on what an OCSF destination receives: bodies built by the real encoders with
// format "ocsf", so the unwrapping cannot drift from them, then hostile OCSF events.
const ocsfCtx: EncodeContext = { hostname: 'aegis-test', options: {}, userAgent: 'aegis-audit-stream/test', format: 'ocsf' };

const trail = buildTrailEvent({
  orgId: 'org_abc',
  actor: { type: 'api_key', id: 'key_0123456789abcdef' },
  change: { action: 'destination_disabled', changedFields: ['enabled'], destination: { id: 'fwd_a', siem: 'splunk_hec' } },
  occurredAt: new Date('2026-11-30T09:00:00Z'),
}) as unknown as SiemEvent;

const EXPECTED: Record<string, string | undefined> = {
  splunk_hec: 'Splunk HEC',
  datadog: 'Datadog log item',
  elastic: 'Elastic _bulk',
  new_relic: 'New Relic Logs',
  microsoft_sentinel: 'Microsoft Sentinel record',
  sumo_logic: undefined,
  custom: undefined,
};

type Json = Record<string, any>;
/** A Data Security Finding as the product sends it (a fresh copy). */
const finding = (): Json => JSON.parse(JSON.stringify(toOcsf(sampleEvent(1) as never))) as Json;

describe('validate-event reads OCSF events in every preset envelope', () => {
  it.each(SIEM_IDS)('%s: findings and a trail event (2006, 3004) pass, read as OCSF', (id) => {
    const events = [sampleEvent(1), sampleEvent(2), trail];
    const encoder = getEncoder(id);
    const body = encoder.maxBatchEvents === 1 ? events.map((e) => encoder.encode([e], ocsfCtx).body).join('\n') : encoder.encode(events, ocsfCtx).body;
    const reports = validateEventsText(body);
    expect(reports.map((r) => r.violations)).toEqual([[], [], []]);
    expect(reports.map((r) => r.format)).toEqual(['ocsf', 'ocsf', 'ocsf']);
    expect(reports.map((r) => r.envelope)).toEqual([EXPECTED[id], EXPECTED[id], EXPECTED[id]]);
  });

  it("an Elastic document on its own (no action line): the leading @timestamp is Elastic's, not the event's", () => {
    const doc = getEncoder('elastic')
      .encode([sampleEvent(1)], ocsfCtx)
      .body.split('\n')[1]!;
    const [r] = validateEventsText(doc);
    expect(r).toMatchObject({ format: 'ocsf', envelope: 'Elastic document', violations: [] });
  });

  it('a Datadog item keeps the OCSF message and drops only what the item adds', () => {
    const item = (JSON.parse(getEncoder('datadog').encode([sampleEvent(1)], ocsfCtx).body) as Json[])[0]!;
    // message is the OCSF object's own: an item without it is missing nothing OCSF requires, and an
    // item whose message is not a string is an OCSF fault at /message.
    const [r] = validateEventsText(JSON.stringify({ ...item, message: 42 }));
    expect(r!.envelope).toBe('Datadog log item');
    expect(r!.violations.map((v) => v.path)).toEqual(['/message']);
  });

  it('ECS events are still read as ECS', () => {
    const [r] = validateEventsText(JSON.stringify(sampleEvent(1)));
    expect(r!.format).toBe('ecs');
    expect(r!.violations.map((v) => v.path)).not.toContain('/aegis');
  });
});

describe('validate-event refuses broken OCSF events by path, never echoing a value', () => {
  const SECRET = '4111111111111111';
  it('wrong severity_id, unknown attribute, missing required attribute, __proto__/constructor keys, inside a Splunk envelope', () => {
    const e = finding();
    e.severity_id = 42;
    e.finding_info.detected_value = `card ${SECRET}`;
    delete e.finding_info.uid;
    e.metadata.hasOwnProperty = SECRET;
    const body = JSON.stringify({ time: 1, host: 'h', source: 'aegis', sourcetype: 'ocsf:aegis:audit', event: e }).replace(
      '"event":{',
      `"event":{"__proto__":{"polluted":"${SECRET}"},"toString":"${SECRET}","constructor":{"prototype":"${SECRET}"},`,
    );
    const [r] = validateEventsText(body);
    expect(r!.format).toBe('ocsf');
    expect(r!.envelope).toBe('Splunk HEC');
    const paths = r!.violations.map((v) => v.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/severity_id',
        '/finding_info/detected_value',
        '/finding_info/uid',
        '/__proto__',
        '/toString',
        '/constructor',
        '/metadata/hasOwnProperty',
      ]),
    );
    for (const p of ['/__proto__', '/toString', '/constructor', '/metadata/hasOwnProperty', '/finding_info/detected_value'])
      expect(r!.violations.find((v) => v.path === p)!.message).toMatch(/not an attribute of/);
    expect(r!.violations.find((v) => v.path === '/severity_id')!.message).toMatch(/severity_id/);
    expect(r!.violations.find((v) => v.path === '/finding_info/uid')!.message).toMatch(/required/);
    expect(JSON.stringify(r)).not.toContain(SECRET);
    expect(JSON.stringify(r)).not.toContain('42');
    expect(({} as Json).polluted).toBeUndefined();
  });

  it('a wrong caption and a wrong class_name are named by the schema, not quoted from the event', () => {
    const e = finding();
    e.severity = `Low ${SECRET}`;
    e.class_name = SECRET;
    const [r] = validateEventsText(JSON.stringify(e));
    expect(r!.violations.map((v) => v.path).sort()).toEqual(['/class_name', '/severity']);
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('an unknown key that is itself a secret is not echoed in the path', () => {
    const e = finding();
    e[`ssn_${SECRET}`] = 1;
    const [r] = validateEventsText(JSON.stringify(e));
    expect(r!.violations).toHaveLength(1);
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('a class Aegis does not send (4001): one violation naming the classes it sends', () => {
    const e = finding();
    e.class_uid = 4001;
    const [r] = validateEventsText(JSON.stringify(e));
    expect(r!.format).toBe('ocsf');
    expect(r!.violations).toHaveLength(1);
    expect(r!.violations[0]!.path).toBe('/class_uid');
    expect(r!.violations[0]!.message).toMatch(/2006/);
    expect(r!.violations[0]!.message).toMatch(/3004/);
    expect(r!.violations[0]!.message).not.toMatch(/4001/);
  });

  it('deep nesting (parent_process 100000 levels) and a million-item array neither crash nor list everything', () => {
    const e = finding();
    // Built as text: JSON.stringify itself would overflow on an object this deep.
    const n = 100_000;
    const proc = '{"pid":1,"parent_process":'.repeat(n) + '{"pid":1}' + '}'.repeat(n);
    const deep = JSON.stringify(e).replace('"actor":{', `"actor":{"process":${proc},`);
    e.finding_info.types = Array.from({ length: 1_000_000 }, () => 7);
    const reports = validateEventsText(`${deep}\n${JSON.stringify(e)}\n`);
    expect(reports).toHaveLength(2);
    const [depth, wide] = reports.map((r) => r.violations);
    expect(depth!.map((x) => x.message)).toEqual([expect.stringMatching(/nested deeper than \d+ objects/)]);
    expect(wide!.length).toBe(101);
    expect(wide![0]).toEqual({ path: '/finding_info/types/0', message: 'must be a string (string_t)' });
    expect(wide![100]!.message).toMatch(/more violations not listed/);
  });
});

describe('validate-event reads an OCSF event as OCSF however its class_uid or envelope keys are written', () => {
  /** A body of `id` holding one finding whose class_uid is the string "2006" (a pipeline that stringified it). */
  const stringUidBody = (id: (typeof SIEM_IDS)[number]) => {
    const body = getEncoder(id).encode([sampleEvent(1)], ocsfCtx).body;
    expect(body).toContain('"class_uid":2006');
    return body.replace('"class_uid":2006', '"class_uid":"2006"');
  };

  it.each(SIEM_IDS)('%s: a numeric-string class_uid is unwrapped the same way and reported by the schema, not as ECS', (id) => {
    const reports = validateEventsText(stringUidBody(id));
    expect(reports).toHaveLength(1);
    const [r] = reports;
    expect(r!.format).toBe('ocsf');
    expect(r!.envelope).toBe(EXPECTED[id]);
    // Only the class_uid is wrong: no ECS field (/@timestamp, /aegis, /event) is asked for.
    expect(r!.violations.map((v) => v.path)).toEqual(r!.violations.map(() => '/class_uid'));
    expect(r!.violations.map((v) => v.message)).toContainEqual(expect.stringMatching(/must be a 32-bit integer/));
  });

  it('a bare event of a class Aegis does not send, class_uid "3002": its type and its class, nothing else', () => {
    const e = finding();
    e.class_uid = '3002';
    const [r] = validateEventsText(JSON.stringify(e));
    expect(r!.format).toBe('ocsf');
    expect(r!.violations).toEqual([
      { path: '/class_uid', message: 'must be a 32-bit integer (integer_t)' },
      { path: '/class_uid', message: expect.stringMatching(/is not a class Aegis sends: .*2006.*3004/) },
    ]);
  });

  it('a string class_uid that is not a number, or a metadata without version and product, is not taken for OCSF', () => {
    const e = finding();
    e.class_uid = 'abc';
    expect(validateEventsText(JSON.stringify(e))[0]!.format).toBe('ecs');
    expect(validateEventsText(JSON.stringify({ class_uid: '2006', metadata: { note: 'x' } }))[0]!.format).toBe('ecs');
  });

  it('an Elastic OCSF document whose @timestamp is not the first key (a tool re-serialised it) still validates', () => {
    const doc = JSON.parse(
      getEncoder('elastic')
        .encode([sampleEvent(1)], ocsfCtx)
        .body.split('\n')[1]!,
    ) as Json;
    const { '@timestamp': ts, ...rest } = doc;
    for (const reordered of [
      { ...rest, '@timestamp': ts },
      { class_uid: rest.class_uid, '@timestamp': ts, ...rest },
    ]) {
      const [r] = validateEventsText(JSON.stringify(reordered));
      expect(r).toMatchObject({ format: 'ocsf', envelope: 'Elastic document', violations: [] });
    }
  });
});
