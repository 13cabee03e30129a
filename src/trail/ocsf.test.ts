import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildTrailEvent, ORGANIZATION_ACTIONS, TRAIL_ACTIONS, type TrailAction, type TrailActor, type TrailChange, type TrailEvent } from './contract.js';
import {
  OCSF_ACTIVITY_BY_TRAIL_ACTION,
  OCSF_ENTITY_OTHER,
  OCSF_TRAIL_CATEGORY,
  OCSF_TRAIL_CLASS,
  OCSF_TRAIL_SEVERITY,
  OCSF_TRAIL_STATUS,
  toOcsfTrailEvent,
} from './ocsf.js';
import { buildTestEvent, buildWireEvent, type WireEvent } from '../events/contract.js';
import { OCSF_VERSION, toOcsf, toOcsfEvent } from '../events/ocsf.js';
import { SIEM_IDS, getPresetInfo } from '../siem/catalog.js';
import { VERSION } from '../version.js';
import { assertValidOcsf, ocsfSchema, ocsfViolations } from '../events/ocsfSchema.js';

type Json = any;
const apiKey: TrailActor = { type: 'api_key', id: 'key_0123456789abcdef' };
const session: TrailActor = { type: 'dashboard_session', id: 'ses_fedcba9876543210' };
const cli: TrailActor = { type: 'cli', id: 'cli_00112233445566ff' };
const at = new Date('2026-11-30T09:12:03.417Z');

function trail(
  action: TrailAction,
  opts: { actor?: TrailActor; fields?: string[]; siem?: (typeof SIEM_IDS)[number]; outcome?: 'success' | 'failure' } = {},
): TrailEvent {
  const change: TrailChange = ORGANIZATION_ACTIONS.has(action)
    ? { action, changedFields: opts.fields ?? ['emails', 'webhook_url'] }
    : { action, changedFields: opts.fields ?? ['url', 'options.index'], destination: { id: 'fwd_k2j4h5g6f7d8s9a0q1w2', siem: opts.siem ?? 'splunk_hec' } };
  if (opts.outcome) change.outcome = opts.outcome;
  return buildTrailEvent({ orgId: 'org_abc', actor: opts.actor ?? apiKey, change, occurredAt: at, id: 'cfg_3kQ9x-Vb2mLr8TzWq1YhN0aC' });
}

/** The event as a receiver parses it. */
const ocsf = (e: TrailEvent | WireEvent): Json => JSON.parse(JSON.stringify(toOcsf(e)));

describe('trail OCSF constants match the vendored schema', () => {
  const schema = ocsfSchema();
  const cls = schema.resolveClass('entity_management');
  const caption = (attr: string, id: number) => cls.attributes.get(attr)?.enum?.[String(id)]?.caption;

  it('class, category, activities, severities, statuses and the entity type', () => {
    expect(schema.classUid(cls)).toBe(OCSF_TRAIL_CLASS.uid);
    expect(cls.caption).toBe(OCSF_TRAIL_CLASS.name);
    expect(cls.category).toMatchObject({ uid: OCSF_TRAIL_CATEGORY.uid, caption: OCSF_TRAIL_CATEGORY.name });
    for (const action of TRAIL_ACTIONS) {
      const a = OCSF_ACTIVITY_BY_TRAIL_ACTION[action];
      // 99 Other carries the source's own name (activity_name); every other id is the schema's caption.
      expect(caption('activity_id', a.id), action).toBe(a.id === 99 ? 'Other' : a.name);
    }
    for (const s of Object.values(OCSF_TRAIL_SEVERITY)) expect(caption('severity_id', s.id)).toBe(s.name);
    for (const s of Object.values(OCSF_TRAIL_STATUS)) expect(caption('status_id', s.id)).toBe(s.name);
    const entity = schema.resolveObject('managed_entity');
    expect(entity.attributes.get('type_id')?.enum?.[String(OCSF_ENTITY_OTHER.id)]?.caption).toBe(OCSF_ENTITY_OTHER.name);
    expect(cls.attributes.get('entity')?.type).toBe('managed_entity');
    expect(cls.attributes.get('entity')?.requirement).toBe('required');
  });

  it('the activity of each action', () => {
    expect(Object.fromEntries(TRAIL_ACTIONS.map((a) => [a, OCSF_ACTIVITY_BY_TRAIL_ACTION[a].name]))).toEqual({
      destination_created: 'Create',
      destination_updated: 'Update',
      credential_rotated: 'Update',
      credential_removed: 'Update',
      signing_secret_rotated: 'Update',
      destination_enabled: 'Enable',
      destination_disabled: 'Disable',
      destination_deleted: 'Delete',
      replay_requested: 'Replay',
      test_sent: 'Test',
      notification_settings_changed: 'Update',
      encryption_key_rotated: 'Update',
    });
  });
});

describe('toOcsf of a trail event: Entity Management', () => {
  it('every action, for every SIEM and both actors, is a valid Entity Management event (not a finding)', () => {
    for (const action of TRAIL_ACTIONS) {
      for (const siem of SIEM_IDS) {
        for (const actor of [apiKey, session, cli]) {
          const e = ocsf(trail(action, { siem, actor }));
          assertValidOcsf(e, 'entity_management');
          // The class-dispatching check agrees, and the finding class refuses it.
          expect(ocsfViolations(e)).toEqual([]);
          expect(ocsfViolations(e, 'data_security_finding').length, `${action} as 2006`).toBeGreaterThan(0);
          expect(e.class_uid).toBe(3004);
          expect(e.activity_id).toBe(OCSF_ACTIVITY_BY_TRAIL_ACTION[action].id);
          expect(e.metadata.event_code).toBe(action);
        }
      }
    }
  });

  it('maps the docs example field by field', () => {
    const e = ocsf(trail('destination_disabled', { fields: ['enabled'] }));
    expect(e).toEqual({
      activity_id: 9,
      activity_name: 'Disable',
      category_uid: 3,
      category_name: 'Identity & Access Management',
      class_uid: 3004,
      class_name: 'Entity Management',
      type_uid: 300409,
      type_name: 'Entity Management: Disable',
      severity_id: 2,
      severity: 'Low',
      status_id: 1,
      status: 'Success',
      time: Date.parse('2026-11-30T09:12:03.417Z'),
      timezone_offset: 0,
      message: 'API key key_0123456789abcdef disabled destination fwd_k2j4h5g6f7d8s9a0q1w2 (Splunk HEC): enabled.',
      actor: {
        user: {
          uid: 'key_0123456789abcdef',
          name: 'key_0123456789abcdef',
          org: { uid: 'org_abc' },
          programmatic_credentials: [{ uid: 'key_0123456789abcdef', type: 'API Key' }],
        },
      },
      entity: { uid: 'fwd_k2j4h5g6f7d8s9a0q1w2', name: 'Splunk HEC', type: 'Forwarding Destination', type_id: 99 },
      metadata: {
        version: OCSF_VERSION,
        product: { name: 'Aegis Audit Stream', vendor_name: 'Aegis', version: VERSION, feature: { name: 'Configuration trail' } },
        uid: 'cfg_3kQ9x-Vb2mLr8TzWq1YhN0aC',
        tenant_uid: 'org_abc',
        source: 'aegis.audit_stream',
        event_code: 'destination_disabled',
      },
      unmapped: { aegis: { action: 'destination_disabled', actor_type: 'api_key', changed_fields: ['enabled'], siem: 'splunk_hec' } },
    });
    assertValidOcsf(e);
  });

  it('docs/events.md shows exactly what is built for its trail example', () => {
    const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
    const json = (after: string): Json => JSON.parse(doc.slice(doc.indexOf(after)).split('```json\n')[1]!.split('```')[0]!);
    const ecsExample = json('## Configuration trail events') as TrailEvent;
    const shown = json('The `destination_disabled` example above, as OCSF:');
    expect(ecsExample.event.action).toBe('destination_disabled');
    shown.metadata.product.version = VERSION;
    expect(shown).toEqual(toOcsf(ecsExample));
    assertValidOcsf(shown, 'entity_management');
  });

  it('a dashboard session is the actor session; notification settings are their own entity; a failed test is a Failure', () => {
    const s = ocsf(trail('destination_created', { actor: session }));
    expect(s.actor).toEqual({ user: { uid: session.id, name: session.id, org: { uid: 'org_abc' } }, session: { uid: session.id } });
    expect(s).toMatchObject({ activity_id: 1, type_uid: 300401, severity_id: 1, status_id: 1 });
    expect(s.entity.name).toBe(getPresetInfo('splunk_hec').label);

    const n = ocsf(trail('notification_settings_changed'));
    expect(n.entity).toEqual({ name: 'Notification settings', type: 'Notification Settings', type_id: 99 });
    expect(n.unmapped.aegis).toEqual({ action: 'notification_settings_changed', actor_type: 'api_key', changed_fields: ['emails', 'webhook_url'] });
    expect(n).toMatchObject({ activity_id: 3, activity_name: 'Update' });

    const t = ocsf(trail('test_sent', { fields: [], outcome: 'failure' }));
    expect(t).toMatchObject({
      activity_id: 99,
      activity_name: 'Test',
      type_uid: 300499,
      type_name: 'Entity Management: Other',
      status_id: 2,
      status: 'Failure',
      severity_id: 1,
    });
    assertValidOcsf(t);
    expect(ocsf(trail('destination_deleted', { fields: [] }))).toMatchObject({ activity_id: 4, severity_id: 2, severity: 'Low' });
    expect(ocsf(trail('replay_requested', { fields: ['from', 'to'] }))).toMatchObject({ activity_id: 99, activity_name: 'Replay' });
  });

  it('the command line is a user with neither a credential nor a session; key rotation updates the stored secrets', () => {
    const r = ocsf(trail('encryption_key_rotated', { actor: cli, fields: ['auth_header_value', 'webhook_signing_secret'] }));
    assertValidOcsf(r, 'entity_management');
    expect(r.actor).toEqual({ user: { uid: cli.id, name: cli.id, org: { uid: 'org_abc' } } });
    expect(r.entity).toEqual({ name: 'Stored secrets', type: 'Stored Secrets', type_id: 99 });
    expect(r).toMatchObject({ activity_id: 3, activity_name: 'Update', type_uid: 300403, severity_id: 1, metadata: { event_code: 'encryption_key_rotated' } });
    expect(r.unmapped.aegis).toEqual({ action: 'encryption_key_rotated', actor_type: 'cli', changed_fields: ['auth_header_value', 'webhook_signing_secret'] });
  });

  it("names, never values: only the trail event's own strings appear", () => {
    const source = trail('destination_updated', { fields: ['url', 'auth_header_name', 'options.index', 'filter'] });
    const out = JSON.stringify(toOcsfTrailEvent(source));
    const strings = (v: unknown, acc: Set<string>): Set<string> => {
      if (typeof v === 'string') acc.add(v);
      else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, acc);
      return acc;
    };
    const allowed = strings(source, new Set<string>());
    for (const fixed of [
      'Update',
      'Identity & Access Management',
      'Entity Management',
      'Entity Management: Update',
      'Informational',
      'Success',
      'API Key',
      'Forwarding Destination',
      'Splunk HEC',
      'Aegis Audit Stream',
      'Aegis',
      VERSION,
      OCSF_VERSION,
      'Configuration trail',
    ])
      allowed.add(fixed);
    for (const s of strings(JSON.parse(out), new Set<string>())) expect(allowed.has(s), s).toBe(true);
  });

  it('the validator refuses a broken trail event', () => {
    const cases: Array<[(e: Json) => void, string, RegExp]> = [
      [(e) => delete e.entity, '/entity', /required/],
      [(e) => (e.entity = { type: 'Forwarding Destination', type_id: 99 }), '/entity', /at least one/],
      [(e) => delete e.entity.type, '/entity/type', /99/],
      [(e) => (e.activity_id = 14), '/activity_id', /not a value/],
      [(e) => (e.activity_name = 'Remove'), '/activity_name', /caption/],
      [(e) => (e.type_uid = 300401), '/type_uid', /300409/],
      [(e) => (e.class_name = 'Data Security Finding'), '/class_name', /Entity Management/],
      [(e) => (e.entity.changed_fields = ['enabled']), '/entity/changed_fields', /not an attribute of object managed_entity/],
      [(e) => (e.actor.user.programmatic_credentials = [{ type: 'API Key' }]), '/actor/user/programmatic_credentials/0/uid', /required/],
      [(e) => (e.status_id = 3), '/status_id', /not a value/],
      [(e) => (e.finding_info = { uid: 'x' }), '/finding_info', /not an attribute of class entity_management/],
      [(e) => (e.class_uid = 2006), '/type_uid', /200609/],
    ];
    for (const [edit, path, message] of cases) {
      const e = ocsf(trail('destination_disabled', { fields: ['enabled'] }));
      edit(e);
      const v = ocsfViolations(e);
      const hit = v.find((x) => x.path === path);
      expect(hit, `${path}: ${JSON.stringify(v)}`).toBeDefined();
      expect(hit!.message).toMatch(message);
    }
  });
});

describe('toOcsf keeps the other events Data Security Findings', () => {
  it('the test event and a preflight decision', () => {
    const test = ocsf(buildTestEvent({ orgId: 'org_abc', destinationId: 'fwd_1', now: at }));
    expect(test).toMatchObject({ class_uid: 2006, metadata: { source: 'aegis.audit_stream.test', labels: ['test'] } });
    assertValidOcsf(test, 'data_security_finding');
    const wire = buildWireEvent({
      orgId: 'org_abc',
      occurredAt: at,
      fields: {
        preflight_id: 'pflt_1',
        decision: 'BLOCKED',
        destination: 'LLM_API',
        summary: 'Detected AWS_ACCESS_KEY; blocked.',
        policy_version: 'v1.0',
        policy_id: 'pol_default',
        source_type: 'sdk',
        input_type: 'text',
        input_size_bytes: 10,
        finding_counts_by_type: { AWS_ACCESS_KEY: 1 },
      },
    });
    expect(toOcsf(wire)).toEqual(toOcsfEvent(wire));
    // The finding builder on its own refuses a trail event by name instead of writing a wrong finding.
    expect(() => toOcsfEvent(trail('destination_disabled') as never)).toThrow(/not a Data Security Finding/);
  });
});
