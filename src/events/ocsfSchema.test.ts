import { describe, expect, it } from 'vitest';
import { buildWireEvent } from './contract.js';
import { toOcsfEvent } from './ocsf.js';
import { ocsfSchema, ocsfViolations } from './ocsfSchema.js';

// The validator must be able to fail: each broken event below is refused, naming the path.
type Json = any;

function good(): Json {
  const wire = buildWireEvent({
    orgId: 'org_abc',
    occurredAt: new Date('2026-05-15T10:33:21.456Z'),
    fields: {
      preflight_id: 'pflt_abc123',
      decision: 'BLOCKED',
      destination: 'LLM_API',
      summary: 'Detected AWS_ACCESS_KEY; blocked.',
      policy_version: 'v1.0',
      policy_id: 'pol_default',
      source_type: 'sdk',
      input_type: 'tool_call',
      input_size_bytes: 64,
      finding_counts_by_type: { AWS_ACCESS_KEY: 1 },
      actor_id: 'alice@example.com',
    },
  });
  return JSON.parse(JSON.stringify(toOcsfEvent(wire)));
}

function broken(edit: (e: Json) => void): { path: string; message: string }[] {
  const e = good();
  edit(e);
  return ocsfViolations(e);
}

describe('OCSF schema resolution (vendored 1.8.0)', () => {
  it('resolves the class through extends and profiles', () => {
    const s = ocsfSchema();
    const cls = s.resolveClass('data_security_finding');
    expect(s.classUid(cls)).toBe(2006);
    // Enum values accumulate along extends: base (0, 99), finding (1-3), data security finding (4).
    expect(Object.keys(cls.attributes.get('activity_id')!.enum!).sort()).toEqual(['0', '1', '2', '3', '4', '99']);
    // The profile widens the dictionary's action_id enum (0, 1, 2, 99) with 3 Observed and 4 Modified.
    expect(cls.attributes.get('action_id')!.enum!['4']!.caption).toBe('Modified');
    expect(cls.attributes.get('action_id')!.profile).toBe('security_control');
    // "profile": null in the class makes the attribute the class's own.
    expect(cls.attributes.get('is_alert')!.profile).toBeUndefined();
    expect(cls.attributes.get('finding_info')!.requirement).toBe('required');
    expect(cls.attributes.get('time')!.type).toBe('timestamp_t');
    expect(s.resolveObject('policy').constraints.at_least_one).toEqual(['name', 'type', 'uid']);
  });

  it('accepts the produced event', () => {
    expect(ocsfViolations(good())).toEqual([]);
  });
});

describe('OCSF validator refuses broken events', () => {
  const cases: Array<[string, (e: Json) => void, string, RegExp]> = [
    ['a missing required attribute', (e) => delete e.finding_info.uid, '/finding_info/uid', /required/],
    ['missing metadata', (e) => delete e.metadata, '/metadata', /required/],
    ['missing severity_id', (e) => delete e.severity_id, '/severity_id', /required/],
    ['an action_id outside the enum', (e) => (e.action_id = 7), '/action_id', /not a value/],
    ['a disposition_id outside the enum', (e) => (e.disposition_id = 28), '/disposition_id', /not a value/],
    ['a detection_system_id outside the enum', (e) => (e.data_security.detection_system_id = 13), '/data_security/detection_system_id', /not a value/],
    ['a sibling that is not the caption', (e) => (e.action = 'Blocked'), '/action', /caption/],
    ['99 Other without its sibling', (e) => ((e.severity_id = 99), delete e.severity), '/severity', /99/],
    ['time as an ISO string', (e) => (e.time = '2026-05-15T10:33:21Z'), '/time', /integer/],
    ['time in fractional seconds', (e) => (e.time = 1778841201.456), '/time', /integer/],
    ['a string count', (e) => (e.data_security.discovery_details[0].count = '1'), '/data_security/discovery_details/0/count', /integer/],
    ['types not an array', (e) => (e.finding_info.types = 'AWS_ACCESS_KEY'), '/finding_info/types', /array/],
    ['an unknown top-level attribute', (e) => (e.aegis = { decision: 'BLOCKED' }), '/aegis', /not an attribute of class/],
    [
      'an unknown nested attribute',
      (e) => (e.finding_info.detected_value = 'AKIA...'),
      '/finding_info/detected_value',
      /not an attribute of object finding_info/,
    ],
    ['a wrong type_uid', (e) => (e.type_uid = 200602), '/type_uid', /200601/],
    ['a wrong class_uid', (e) => (e.class_uid = 2004), '/class_uid', /2006/],
    ['a wrong category_uid', (e) => (e.category_uid = 1), '/category_uid', /2/],
    ['a wrong type_name', (e) => (e.type_name = 'Data Security Finding: Update'), '/type_name', /Create/],
    ['profile attributes without the profile', (e) => (e.metadata.profiles = []), '/action_id', /security_control/],
    ['an unknown profile', (e) => e.metadata.profiles.push('made_up'), '/metadata/profiles/1', /not a profile/],
    ['a policy with neither name, type nor uid', (e) => (e.policy = { version: 'v1.0' }), '/policy', /at least one of name, type, uid/],
    ['an actor with nothing in it', (e) => (e.actor = {}), '/actor', /at least one/],
    ['an email_addr that is not one', (e) => (e.actor.user.email_addr = 'not an address'), '/actor/user/email_addr', /email_t/],
    ['a boolean as a string', (e) => (e.is_alert = 'true'), '/is_alert', /true or false/],
    ['an object where a string goes', (e) => (e.message = { text: 'x' }), '/message', /string/],
    ['a string where an object goes', (e) => (e.metadata.product = 'Aegis'), '/metadata/product', /product object/],
    ['unmapped that is not an object', (e) => (e.unmapped = 'x'), '/unmapped', /JSON object/],
    // Valid for older producers, and nothing Aegis should send (an OCSF conformance review).
    [
      'a deprecated enum value (activity 4, Suppressed)',
      (e) => ((e.activity_id = 4), (e.activity_name = 'Suppressed'), (e.type_uid = 200604), (e.type_name = 'Data Security Finding: Suppressed')),
      '/activity_id',
      /^names a value of activity_id deprecated since 1\.4\.0: Use status_id attribute instead\.$/,
    ],
    [
      'a deprecated attribute (user.credential_uid)',
      (e) => (e.actor.user.credential_uid = 'AKIAEXAMPLE'),
      '/actor/user/credential_uid',
      /^is deprecated since 1\.6\.0: Use programmatic_credentials instead\.$/,
    ],
  ];
  it.each(cases)('%s', (_name, edit, path, message) => {
    const v = broken(edit);
    expect(v.length, JSON.stringify(v)).toBeGreaterThan(0);
    const hit = v.find((x) => x.path === path);
    expect(hit, JSON.stringify(v)).toBeDefined();
    expect(hit!.message).toMatch(message);
  });

  it('checks an event against the class it claims, which must be one Aegis sends', () => {
    const e = good();
    e.class_uid = 4001;
    expect(ocsfViolations(e)[0]).toMatchObject({ path: '/class_uid', message: expect.stringMatching(/not a class Aegis sends/) });
    // A finding that claims to be Entity Management is checked as one, and refused.
    const claims = good();
    claims.class_uid = 3004;
    expect(ocsfViolations(claims).map((v) => v.path)).toEqual(expect.arrayContaining(['/entity', '/finding_info', '/category_uid']));
    expect(ocsfViolations(good(), 'entity_management').length).toBeGreaterThan(0);
  });

  it("never quotes the event's values, and takes no inherited property for a schema entry", () => {
    const SECRET = '4111111111111111';
    const e = good();
    e.action = SECRET; // a sibling that is not its caption
    e.type_name = SECRET;
    e.category_name = SECRET;
    e.metadata.profiles.push(SECRET);
    e.actor.user.email_addr = `${SECRET}@`;
    e.finding_info.types = [SECRET, 1];
    const v = ocsfViolations(JSON.parse(JSON.stringify(e).replace('{', `{"constructor":"${SECRET}","__proto__":{"x":1},`)));
    expect(v.map((x) => x.path).sort()).toEqual(
      [
        '/__proto__',
        '/action',
        '/actor/user/email_addr',
        '/category_name',
        '/constructor',
        '/finding_info/types/1',
        '/metadata/profiles/1',
        '/type_name',
      ].sort(),
    );
    expect(JSON.stringify(v)).not.toContain(SECRET);
  });

  it('refuses something that is not an object', () => {
    expect(ocsfViolations([good()])).toHaveLength(1);
  });
});
