import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildTestEvent, buildWireEvent, newPreflightId, type AegisFields } from './contract.js';
import { DECISIONS, DESTINATIONS, INPUT_TYPES, OUTCOME_BY_DECISION, SOURCE_TYPES } from './enums.js';
import { evaluatePolicy } from './policy.js';
import { requestAjv } from '../api/ajvOptions.js';
import { FINDING_TYPES } from './findings.js';
import { MAX_REPORTED_VIOLATIONS } from './violation.js';
import {
  apiBodiesSchema,
  auditEventSchema,
  configChangeEventSchema,
  validateAgentRecord,
  validateAuditEventsRequest,
  validateBody,
  validatePreflightOptions,
  validateWireEvent,
  violationsFromAjv,
} from './validate.js';

const example = JSON.parse(readFileSync(new URL('./fixtures/product-page-example.json', import.meta.url), 'utf8'));

const paths = (vs: { path: string }[]) => vs.map((v) => v.path);

const counts = fc.dictionary(fc.constantFrom(...FINDING_TYPES), fc.integer({ min: 1, max: 1_000_000 }), { maxKeys: 8 });
const aegisFields: fc.Arbitrary<AegisFields> = fc
  .record({
    preflight_id: fc.constant(null).map(() => newPreflightId()),
    destination: fc.constantFrom(...DESTINATIONS),
    source_type: fc.constantFrom(...SOURCE_TYPES),
    input_type: fc.constantFrom(...INPUT_TYPES),
    input_size_bytes: fc.integer({ min: 0, max: 1 << 30 }),
    finding_counts_by_type: counts,
    // Addresses without digits: the guard refuses an actor_id whose address carries another detected
    // value (ssn.123.45.6789@example.com), and random digits can spell one (an IP in 1.2.3.4@x.io).
    actor_id: fc.option(
      fc.oneof(
        fc.emailAddress().filter((e) => !/\d/.test(e)),
        fc.stringMatching(/^usr_[a-z]{1,40}$/),
      ),
      { nil: undefined },
    ),
    policy: fc.record({ id: fc.stringMatching(/^pol_[A-Za-z0-9_]{1,60}$/), version: fc.stringMatching(/^v[0-9]{1,3}\.[0-9]{1,3}$/) }),
  })
  .map(({ policy, finding_counts_by_type, actor_id, ...rest }) => {
    const r = evaluatePolicy(finding_counts_by_type);
    return {
      ...rest,
      decision: r.decision,
      summary: r.summary,
      policy_id: policy.id,
      policy_version: policy.version,
      finding_counts_by_type,
      ...(actor_id !== undefined ? { actor_id } : {}),
    };
  });

const sampleFields: AegisFields = { ...example.aegis, preflight_id: 'pflt_abc12345', actor_id: 'alice@example.com' };

function clone<T>(x: T): T {
  return structuredClone(x);
}

describe('wire event schema', () => {
  it("accepts the product page's own example event", () => {
    expect(validateWireEvent(example)).toEqual([]);
  });

  it('accepts the synthetic test event', () => {
    expect(validateWireEvent(buildTestEvent({ orgId: 'org_abc', destinationId: 'fwd_a1b2c3', now: new Date() }))).toEqual([]);
  });

  it('property: every built event validates', () => {
    fc.assert(
      fc.property(aegisFields, fc.date({ min: new Date('2000-01-01'), max: new Date('2999-12-31'), noInvalidDate: true }), (fields, occurredAt) => {
        expect(validateWireEvent(buildWireEvent({ orgId: 'org_abc', fields, occurredAt }))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('reports unknown, missing and malformed fields with their paths', () => {
    const e = clone(example);
    e.aegis.raw_input = 'hello';
    e.extra = true;
    delete e.aegis.summary;
    e.event.kind = 'alert';
    e['@timestamp'] = 'yesterday';
    e.aegis.input_size_bytes = -1;
    e.organization.id = 'acme';
    expect(paths(validateWireEvent(e)).sort()).toEqual(
      ['/@timestamp', '/aegis/input_size_bytes', '/aegis/raw_input', '/aegis/summary', '/event/kind', '/extra', '/organization/id'].sort(),
    );
  });

  it('enforces the decision -> event.type / event.outcome mapping', () => {
    const e = clone(example);
    e.aegis.decision = 'BLOCKED';
    const v = validateWireEvent(e);
    expect(paths(v)).toContain('/event/type');
    expect(paths(v)).toContain('/event/outcome');
    e.event.type = ['blocked'];
    e.event.outcome = 'failure';
    expect(validateWireEvent(e)).toEqual([]);
  });

  it('requires event.id to equal aegis.preflight_id and the test dataset to go with the test action', () => {
    const e = clone(example);
    e.event.id = 'pflt_other';
    expect(paths(validateWireEvent(e))).toEqual(['/event/id']);
    const t = clone(example);
    t.event.dataset = 'aegis.audit_stream.test';
    expect(paths(validateWireEvent(t))).toEqual(['/event/action']);
  });

  it('bounds strings and finding counts', () => {
    const e = clone(example);
    e.aegis.summary = 'x'.repeat(501);
    e.aegis.actor_id = 'a'.repeat(257);
    e.aegis.finding_counts_by_type = { SSN: 1_000_001, lower: 1 };
    expect(paths(validateWireEvent(e)).sort()).toEqual(
      ['/aegis/actor_id', '/aegis/finding_counts_by_type/SSN', '/aegis/finding_counts_by_type/lower', '/aegis/summary'].sort(),
    );
  });

  it('refuses raw values in the aegis fields, without echoing them', () => {
    const e = clone(example);
    e.aegis.summary = 'Detected SSN 123-45-6789; masked.';
    const v = validateWireEvent(e);
    expect(paths(v)).toEqual(['/aegis/summary']);
    expect(JSON.stringify(v)).not.toContain('123-45-6789');
  });

  it('never echoes a value smuggled in as a property name', () => {
    const e = clone(example);
    e.aegis['123-45-6789'] = 1;
    e.aegis.finding_counts_by_type['AKIAIOSFODNN7EXAMPLE'] = 1;
    const out = JSON.stringify(validateWireEvent(e));
    expect(out).not.toContain('123-45-6789');
    expect(out).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(out).toContain('AWS_ACCESS_KEY');
  });

  it('never echoes an all-digit property name in a path (a card or account number as a key)', () => {
    // An all-digit name looks like an array index, but in an object it is whatever the client sent:
    // a type error on its value used to put it into the path verbatim.
    for (const key of ['4111111111111111', '1234567890']) {
      const e = clone(example);
      e.aegis.finding_counts_by_type[key] = 'x';
      const out = JSON.stringify(validateWireEvent(e));
      expect(out, key).not.toContain(key);
      const r = JSON.stringify(validateAgentRecord({ ...sampleFields, finding_counts_by_type: { [key]: 'x' } }));
      expect(r, key).not.toContain(key);
    }
    // Array indices still name the item.
    expect(paths(validateAuditEventsRequest({ events: [sampleFields, { ...sampleFields, decision: 'MAYBE' }] }))).toEqual(['/events/1/decision']);
  });
});

describe('schemas and code share one set of enumerations', () => {
  const defs = auditEventSchema.$defs as Record<string, { enum?: unknown[] }>;
  it.each([
    ['Decision', DECISIONS],
    ['Destination', DESTINATIONS],
    ['SourceType', SOURCE_TYPES],
    ['InputType', INPUT_TYPES],
  ] as const)('%s', (name, values) => {
    expect(defs[name]?.enum).toEqual([...values]);
  });
  it('the decision mapping in the schema matches OUTCOME_BY_DECISION', () => {
    interface Rule {
      if?: { properties?: { aegis?: { properties?: { decision?: { const?: string } } } } };
      then: { properties: { event: { properties: { outcome: { const: string }; type: { const: string[] } } } } };
    }
    const allOf = auditEventSchema.allOf as Rule[];
    for (const d of DECISIONS) {
      const rule = allOf.find((r) => r.if?.properties?.aegis?.properties?.decision?.const === d);
      expect(rule?.then.properties.event.properties.outcome.const).toBe(OUTCOME_BY_DECISION[d]);
      expect(rule?.then.properties.event.properties.type.const).toEqual([d.toLowerCase()]);
    }
  });
  it('every property in both schemas has a description and every object is closed', () => {
    const problems: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (typeof node !== 'object' || node === null) return;
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}/${i}`));
      const o = node as Record<string, unknown>;
      if (o.type === 'object' && o.additionalProperties === undefined) problems.push(`${where}: open object`);
      if (o.properties && typeof o.properties === 'object') {
        for (const [k, p] of Object.entries(o.properties as Record<string, { description?: unknown }>)) {
          const inIf = where.includes('/if') || where.includes('/then') || where.includes('/else');
          if (!inIf && typeof p.description !== 'string') problems.push(`${where}/${k}: no description`);
        }
      }
      for (const [k, v] of Object.entries(o)) walk(v, `${where}/${k}`);
    };
    walk(auditEventSchema, 'audit-event');
    walk(apiBodiesSchema, 'api-bodies');
    walk(configChangeEventSchema, 'config-change-event');
    expect(problems).toEqual([]);
  });
});

describe('agent decision records', () => {
  const record = { ...sampleFields, occurred_at: '2026-05-15T10:33:21.456789+00:00' };

  it('accepts a well-formed record, with or without preflight_id and occurred_at', () => {
    expect(validateAgentRecord(record)).toEqual([]);
    const { preflight_id: _p, occurred_at: _o, ...bare } = record;
    expect(validateAgentRecord(bare)).toEqual([]);
  });

  it('requires an agent preflight_id of the idempotency-key form', () => {
    for (const id of ['pflt_', 'pflt_a b', `pflt_${'a'.repeat(65)}`, 'abc123'])
      expect(paths(validateAgentRecord({ ...record, preflight_id: id })), id).toEqual(['/preflight_id']);
    // The product page's own example id is short.
    for (const id of ['pflt_abc123', 'pflt_1', `pflt_${'a'.repeat(64)}`]) expect(validateAgentRecord({ ...record, preflight_id: id }), id).toEqual([]);
  });

  it('refuses fields outside the schema and names them', () => {
    expect(paths(validateAgentRecord({ ...record, input: 'my ssn is ...' }))).toEqual(['/input']);
    expect(paths(validateAgentRecord({ ...record, occurred_at: 'later' }))).toEqual(['/occurred_at']);
  });

  it('refuses the characters that make a line display as another: C1 controls, separators, bidirectional marks', () => {
    // A black-box review's: "admin\u202emoc.elpmaxe@evil" displays as another address in a SIEM,
    // and NEL breaks a line for some log splitters; only C0 controls and DEL were refused.
    for (const c of ['\u0085', '\u009b', '\u2028', '\u2029', '\u202a', '\u202e', '\u2066', '\u2069', '\u200b', '\u2060', '\ufeff']) {
      const refused = validateAgentRecord({ ...record, actor_id: `admin${c}moc.elpmaxe@evil`, summary: `Detected SSN;${c} masked.` });
      expect(paths(refused), JSON.stringify(c)).toEqual(['/summary', '/actor_id']);
      expect(refused[0]!.message).toBe('must not contain line breaks, tabs, other control characters, invisible spaces or bidirectional marks');
    }
    // Letters of every script, joiners and the marks that only set a direction's strength stay allowed.
    for (const text of ['Détecté SSN; masqué.', 'زهرا\u200cمحمدی', 'שלום\u200f abc', '👩\u200d💻 dev ops'])
      expect(validateAgentRecord({ ...record, actor_id: text, summary: text }), text).toEqual([]);
  });

  it('validates a batch and names the record and field', () => {
    const events = Array.from({ length: 5 }, () => ({ ...record }));
    events[3] = { ...record, summary: 'Detected SSN 123-45-6789' };
    (events[1] as Record<string, unknown>).aegis_field = 1;
    expect(paths(validateAuditEventsRequest({ events }))).toEqual(['/events/1/aegis_field', '/events/3/summary']);
    expect(paths(validateAuditEventsRequest({ events: [] }))).toEqual(['/events']);
    expect(paths(validateAuditEventsRequest({ events: Array.from({ length: 1001 }, () => record) }))).toEqual(['/events']);
  });
});

describe('API bodies', () => {
  it('PreflightRequest: input required, the rest optional and enumerated', () => {
    expect(validateBody('PreflightRequest', { input: 'hi' })).toEqual([]);
    expect(validateBody('PreflightRequest', { input: 'hi', destination: 'AI_TOOL', source_type: 'sdk', input_type: 'file', actor_id: 'a@b.co' })).toEqual([]);
    expect(paths(validateBody('PreflightRequest', { destination: 'MOON' }))).toEqual(['/input', '/destination']);
    expect(paths(validatePreflightOptions({ input: 'x'.repeat(10), source_type: 'fax' }))).toEqual(['/source_type']);
  });
  it('PreflightResponse and AuditEventsResponse', () => {
    const r = evaluatePolicy({ SSN: 1 });
    expect(validateBody('PreflightResponse', { preflight_id: newPreflightId(), masked_input: '[SSN]', finding_counts_by_type: { SSN: 1 }, ...r })).toEqual([]);
    expect(validateBody('AuditEventsResponse', { accepted: 1, preflight_ids: [newPreflightId()] })).toEqual([]);
    expect(paths(validateBody('AuditEventsResponse', { accepted: -1, preflight_ids: ['x'] }))).toEqual(['/accepted', '/preflight_ids/0']);
  });
});

describe('a union of constants in a refusal', () => {
  const refusal = (schema: object, value: unknown) =>
    [true, false].map((allErrors) => {
      // The options of the API's own validators (Fastify's first error, and the allErrors re-run).
      const validate = requestAjv({ allErrors }).compile(schema);
      expect(validate(value)).toBe(false);
      return violationsFromAjv(validate.errors ?? []);
    });

  it('reads as the one choice it is, with the first error only or all of them', () => {
    const schema = { type: 'object', properties: { outcome: { anyOf: [{ const: 'failed' }, { const: 'delivered' }] } } };
    for (const v of refusal(schema, { outcome: 'maybe' })) expect(v).toEqual([{ path: '/outcome', message: 'must be one of: "failed", "delivered"' }]);
  });

  // A value or null: ajv's "must be null" and "must match a schema in anyOf" said nothing; the
  // value's own problem, or one naming every choice, is what the caller needs.
  it.each([
    [{ anyOf: [{ type: 'string', minLength: 1 }, { type: 'null' }] }, '', 'must NOT have fewer than 1 characters'],
    [{ anyOf: [{ type: 'string' }, { type: 'null' }] }, 5, 'must be string or null'],
    [{ anyOf: [{ type: 'string' }, { type: 'integer' }, { type: 'null' }] }, true, 'must be string, integer or null'],
    [{ anyOf: [{ const: 'a' }, { const: 'b' }, { type: 'null' }] }, 'c', 'must be one of: "a", "b", null'],
  ])('a nullable %j refusing %j says %j, once', (field, value, message) => {
    for (const v of refusal({ type: 'object', properties: { f: field } }, { f: value })) expect(v).toEqual([{ path: '/f', message }]);
  });

  it('is left as ajv says it when a branch is not a constant of its own, so no choice is left out', () => {
    const schema = { $defs: { A: { const: 'a' } }, anyOf: [{ $ref: '#/$defs/A' }, { const: 'b' }, { const: 'c' }] };
    for (const v of refusal(schema, 'z')) {
      expect(v.map((x) => x.message)).toEqual(['must be "a"', 'must be "b"', 'must be "c"', 'must match a schema in anyOf']);
    }
  });
});

// A refusal lists MAX_REPORTED_VIOLATIONS problems and says more follow (errors.ts); each listed
// unknown key costs a privacy check of its name, so two thousand of them cost the API's event loop a
// quarter of a second for a request that is refused anyway.
describe('violationsFromAjv over a body of many faults', () => {
  it('stops one past what a refusal lists, with the first ones in order', () => {
    const schema = { type: 'object', additionalProperties: false, properties: { siem: { type: 'string' } } };
    const body = Object.fromEntries(Array.from({ length: 1990 }, (_, i) => [`k${i}_4f1c2a9e7b3d5f60${i}`, 1]));
    const validate = requestAjv({ allErrors: true }).compile(schema);
    expect(validate(body)).toBe(false);
    expect(validate.errors!.length).toBe(1990);
    const listed = violationsFromAjv(validate.errors!);
    expect(listed).toHaveLength(MAX_REPORTED_VIOLATIONS + 1);
    expect(listed[0]).toEqual({ path: '/k0_4f1c2a9e7b3d5f600', message: 'unknown field (not part of the schema)' });
  });
});
