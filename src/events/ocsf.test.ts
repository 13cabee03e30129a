import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildTestEvent, buildWireEvent, type AegisFields, type WireEvent } from './contract.js';
import { DECISIONS } from './enums.js';
import { FINDING_TYPES } from './findings.js';
import {
  OCSF_ACTIVITY,
  OCSF_BY_DECISION,
  OCSF_CATEGORY,
  OCSF_CLASS,
  OCSF_DATA_CATEGORY,
  OCSF_DETECTION_SYSTEM,
  OCSF_PROFILES,
  OCSF_STATUS,
  OCSF_TEST_SEVERITY,
  OCSF_VERSION,
  dataCategory,
  toOcsfEvent,
} from './ocsf.js';
import { assertValidOcsf, ocsfSchema } from './ocsfSchema.js';
import { VERSION } from '../version.js';

function wire(fields: Partial<AegisFields> = {}): WireEvent {
  return buildWireEvent({
    orgId: 'org_abc',
    occurredAt: new Date('2026-05-15T10:33:21.456Z'),
    fields: {
      preflight_id: 'pflt_abc123',
      decision: 'ALLOWED_WITH_MASKING',
      destination: 'AI_TOOL',
      summary: 'Detected SSN, EMAIL; masked.',
      policy_version: 'v1.0',
      policy_id: 'pol_xyz',
      source_type: 'api',
      input_type: 'text',
      input_size_bytes: 200,
      finding_counts_by_type: { SSN: 1, EMAIL: 2 },
      actor_id: 'alice@example.com',
      ...fields,
    },
  });
}

// The numbers the encoder writes, each checked against the vendored OCSF 1.8.0 source files.
describe('OCSF constants match the vendored schema', () => {
  const schema = ocsfSchema();
  const cls = schema.resolveClass('data_security_finding');
  const caption = (attr: string, id: number, entity = cls) => entity.attributes.get(attr)?.enum?.[String(id)]?.caption;

  it('class, category, activity, status and version', () => {
    expect(OCSF_VERSION).toBe(schema.version);
    expect(schema.classUid(cls)).toBe(OCSF_CLASS.uid);
    expect(cls.caption).toBe(OCSF_CLASS.name);
    expect(cls.category).toMatchObject({ uid: OCSF_CATEGORY.uid, caption: OCSF_CATEGORY.name });
    expect(caption('activity_id', OCSF_ACTIVITY.id)).toBe(OCSF_ACTIVITY.name);
    expect(caption('status_id', OCSF_STATUS.id)).toBe(OCSF_STATUS.name);
    for (const p of OCSF_PROFILES) expect(cls.profiles).toContain(p);
  });

  it('action_id, disposition_id and severity_id of every decision', () => {
    for (const d of DECISIONS) {
      const m = OCSF_BY_DECISION[d];
      expect(caption('action_id', m.action.id), d).toBe(m.action.name);
      expect(caption('disposition_id', m.disposition.id), d).toBe(m.disposition.name);
      expect(caption('severity_id', m.severity.id), d).toBe(m.severity.name);
      // The profile's attributes are the ones these ids belong to.
      expect(cls.attributes.get('action_id')?.profile).toBe('security_control');
    }
    expect(caption('severity_id', OCSF_TEST_SEVERITY.id)).toBe(OCSF_TEST_SEVERITY.name);
  });

  it('detection system and data categories', () => {
    const ds = schema.resolveObject('data_security');
    expect(caption('detection_system_id', OCSF_DETECTION_SYSTEM.id, ds)).toBe(OCSF_DETECTION_SYSTEM.name);
    for (const c of Object.values(OCSF_DATA_CATEGORY)) expect(caption('category_id', c.id, ds)).toBe(c.name);
  });
});

describe('toOcsfEvent', () => {
  it('maps the product page example field by field', () => {
    const o = toOcsfEvent(wire());
    expect(o).toMatchObject({
      class_uid: 2006,
      category_uid: 2,
      activity_id: 1,
      type_uid: 200601,
      time: Date.parse('2026-05-15T10:33:21.456Z'),
      severity_id: 2,
      action_id: 4,
      disposition_id: 1,
      is_alert: false,
      message: 'Detected SSN, EMAIL; masked.',
      policy: { uid: 'pol_xyz', version: 'v1.0' },
      actor: { user: { uid: 'alice@example.com', email_addr: 'alice@example.com', org: { uid: 'org_abc' } } },
      metadata: {
        version: '1.8.0',
        product: { name: 'Aegis Audit Stream', vendor_name: 'Aegis', version: VERSION, feature: { name: 'api' } },
        profiles: ['security_control'],
        uid: 'pflt_abc123',
        tenant_uid: 'org_abc',
        source: 'aegis.preflight',
        event_code: 'preflight_check',
      },
      finding_info: { uid: 'pflt_abc123', types: ['SSN', 'EMAIL'], desc: 'Detected SSN, EMAIL; masked.' },
      data_security: {
        detection_system_id: 10,
        discovery_details: [
          { type: 'SSN', count: 1 },
          { type: 'EMAIL', count: 2 },
        ],
        total: 3,
        size: 200,
        category_id: 99,
        policy: { uid: 'pol_xyz', version: 'v1.0' },
      },
      unmapped: { aegis: { decision: 'ALLOWED_WITH_MASKING', destination: 'AI_TOOL', input_type: 'text' } },
    });
    expect(o.metadata.labels).toBeUndefined();
    assertValidOcsf(o);
  });

  it('docs/events.md shows exactly what is built for the page example', () => {
    const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
    const block = doc.slice(doc.indexOf('The example above, as OCSF:')).split('```json\n')[1]!.split('```')[0]!;
    const shown = JSON.parse(block) as { metadata: { product: { version: string } } };
    const built = toOcsfEvent(wire({ summary: 'Detected SSN; masked.' }));
    // The product version moves with releases; the page shows the one it was written for.
    expect({ ...shown, metadata: { ...shown.metadata, product: { ...shown.metadata.product, version: VERSION } } }).toEqual(built);
    assertValidOcsf(shown);
  });

  it('every decision, with and without an actor, is a valid Data Security Finding', () => {
    for (const decision of DECISIONS) {
      for (const actor_id of ['bob@example.com', 'svc-build-42', undefined]) {
        const fields: Partial<AegisFields> = { decision, finding_counts_by_type: decision === 'ALLOWED' ? {} : { AWS_ACCESS_KEY: 1 } };
        const w = wire(fields);
        if (actor_id === undefined) delete w.aegis.actor_id;
        else w.aegis.actor_id = actor_id;
        const o = toOcsfEvent(w);
        assertValidOcsf(o);
        expect(o.is_alert).toBe(decision === 'BLOCKED');
        expect(o.actor === undefined).toBe(actor_id === undefined);
        if (actor_id === 'svc-build-42') expect(o.actor?.user).toEqual({ uid: 'svc-build-42', org: { uid: 'org_abc' } });
      }
    }
  });

  it('the test event says it is a test and is informational', () => {
    const o = toOcsfEvent(buildTestEvent({ orgId: 'org_abc', destinationId: 'fwd_1', now: new Date() }));
    assertValidOcsf(o);
    expect(o.metadata.source).toBe('aegis.audit_stream.test');
    expect(o.metadata.event_code).toBe('audit_stream_test');
    expect(o.metadata.labels).toEqual(['test']);
    expect(o.severity_id).toBe(1);
    expect(o.is_alert).toBe(false);
    expect(o.finding_info.title).toMatch(/test event/i);
    expect(o.message).toMatch(/^Test event from Aegis Audit Stream/);
    expect(o.data_security.discovery_details).toEqual([]);
  });

  it('data category: one category, mixed, none, and agent-defined types', () => {
    expect(dataCategory([])).toBe(OCSF_DATA_CATEGORY.unknown);
    expect(dataCategory(['SSN'])).toBe(OCSF_DATA_CATEGORY.governmental);
    expect(dataCategory(['CREDIT_CARD', 'IBAN'])).toBe(OCSF_DATA_CATEGORY.financial);
    expect(dataCategory(['EMAIL', 'PHONE'])).toBe(OCSF_DATA_CATEGORY.personal);
    expect(dataCategory(['JWT', 'PRIVATE_KEY', 'IP_ADDRESS'])).toBe(OCSF_DATA_CATEGORY.security);
    expect(dataCategory(['SSN', 'EMAIL'])).toBe(OCSF_DATA_CATEGORY.other);
    expect(dataCategory(['CUSTOMER_ID'])).toBe(OCSF_DATA_CATEGORY.other);
    for (const t of FINDING_TYPES) expect(dataCategory([t]).id).not.toBe(OCSF_DATA_CATEGORY.unknown.id);
  });

  // The schema allows a count of 0 (an agent may send {"SSN": 0}), but a type with no finding was not
  // found: the OCSF event must not report a finding, a category or a type that did not happen.
  it('ignores types counted 0: no finding, no category, no type', () => {
    const none = toOcsfEvent(wire({ decision: 'ALLOWED', finding_counts_by_type: { SSN: 0 } }));
    expect(none.data_security.category_id).toBe(OCSF_DATA_CATEGORY.unknown.id);
    expect(none.data_security.discovery_details).toEqual([]);
    expect(none.data_security.total).toBe(0);
    expect(none.finding_info.types).toEqual([]);
    assertValidOcsf(none);
    // A zero beside a real finding: only the real one counts, for the category too (not "Other").
    const some = toOcsfEvent(wire({ finding_counts_by_type: { SSN: 0, EMAIL: 2 } }));
    expect(some.data_security.discovery_details).toEqual([{ type: 'EMAIL', count: 2 }]);
    expect(some.finding_info.types).toEqual(['EMAIL']);
    expect(some.data_security.category_id).toBe(OCSF_DATA_CATEGORY.personal.id);
    expect(some.data_security.total).toBe(2);
  });

  it('carries no more than the wire event: every string in it is a wire-event string or a fixed caption', () => {
    const w = wire({ summary: 'Detected SSN; masked.' });
    const wireStrings = new Set<string>();
    const collect = (v: unknown, into: Set<string>) => {
      if (typeof v === 'string') into.add(v);
      else if (Array.isArray(v)) v.forEach((x) => collect(x, into));
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          into.add(k);
          collect(x, into);
        }
      }
    };
    collect(w, wireStrings);
    const ocsfStrings = new Set<string>();
    collect(toOcsfEvent(w), ocsfStrings);
    const extra = [...ocsfStrings].filter((s) => !wireStrings.has(s));
    // Only schema names, captions and the product's own name/version/title: nothing from the input.
    for (const s of extra) expect(s, s).toMatch(/^[A-Za-z_ .:()&-]*$|^\d+\.\d+\.\d+/);
  });
});
