/**
 * Validation against the published JSON Schemas (schemas/*.schema.json), compiled once with ajv
 * (draft 2020-12, all errors). The schema files are read from the repository's schemas/ directory,
 * two levels above this module both in src/events/ (tsx, vitest) and in dist/events/ (compiled).
 *
 * Every function returns Violation[] (empty = valid). Messages never echo submitted values, and
 * property names from the document are echoed only when plainly safe (see safeSegment).
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { NOT_A_DATE_TIME } from './dateTime.js';
import { guardAgentRecord, safeSegment, type GuardMemo } from './privacyGuard.js';
import { patternMeans, MAX_REPORTED_VIOLATIONS, patternMeaning, withinNodeBudget, type Violation } from './violation.js';

export type { Violation } from './violation.js';

function loadSchema(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

export const auditEventSchema = loadSchema('audit-event.schema.json');
export const apiBodiesSchema = loadSchema('api-bodies.schema.json');
/** The configuration trail's event (src/trail/contract.ts). */
export const configChangeEventSchema = loadSchema('config-change-event.schema.json');
const TRAIL_ID = configChangeEventSchema.$id as string;

const WIRE_ID = auditEventSchema.$id as string;

// The free-text fields' pattern (Summary, ActorId: one pattern in the schema), and what it means. A
// destination's name is held to it too (destinations/name.ts): one list of the characters refused.
const FREE_TEXT_SOURCE = (auditEventSchema.$defs as Record<string, { pattern: string }>).Summary!.pattern;
/** A text with none of the characters that could make it display as another (the schema's free-text pattern). */
export const FREE_TEXT = new RegExp(FREE_TEXT_SOURCE, 'u');
export const FREE_TEXT_MESSAGE = 'must not contain line breaks, tabs, other control characters, invisible spaces or bidirectional marks';
patternMeans(FREE_TEXT_SOURCE, FREE_TEXT_MESSAGE);
// An agent's own preflight id, said as the rule it is (a contract review's agent sent the product
// page's "pflt_abc123", then refused for a minimum of 8 that no message named).
patternMeans(
  (auditEventSchema.$defs as Record<string, { pattern: string }>).AgentPreflightId!.pattern,
  'must be "pflt_" followed by 1 to 64 letters, digits, "_" or "-"',
);
const BODIES_ID = apiBodiesSchema.$id as string;

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const addFormats: FormatsPlugin = (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);

// Two compilations of the same schemas: every error for documents within the node budget, the
// first error for larger ones (see ALL_ERRORS_NODE_BUDGET).
function newAjv(allErrors: boolean): Ajv2020 {
  const a = new Ajv2020({ allErrors, strict: true, strictTypes: false });
  addFormats(a);
  a.addSchema(auditEventSchema);
  a.addSchema(apiBodiesSchema);
  a.addSchema(configChangeEventSchema);
  return a;
}
/** A schema compiled both ways; calling it picks by the document's size. */
interface BoundedValidator {
  all: ValidateFunction;
  first: ValidateFunction;
}

const BODY_NAMES = ['PreflightRequest', 'PreflightResponse', 'AgentDecisionRecord', 'AuditEventsRequest', 'AuditEventsResponse', 'ErrorResponse'] as const;
export type BodyName = (typeof BODY_NAMES)[number];

interface Validators {
  wire: BoundedValidator;
  trail: BoundedValidator;
  bodies: Record<BodyName, BoundedValidator>;
}

function compileValidators(): Validators {
  const ajvAll = newAjv(true);
  const ajvFirst = newAjv(false);
  const compileDef = (name: BodyName): BoundedValidator => {
    const schema = { $ref: `${BODIES_ID}#/$defs/${name}` };
    return { all: ajvAll.compile(schema), first: ajvFirst.compile(schema) };
  };
  return {
    wire: { all: ajvAll.getSchema(WIRE_ID) as ValidateFunction, first: ajvFirst.getSchema(WIRE_ID) as ValidateFunction },
    trail: { all: ajvAll.getSchema(TRAIL_ID) as ValidateFunction, first: ajvFirst.getSchema(TRAIL_ID) as ValidateFunction },
    bodies: Object.fromEntries(BODY_NAMES.map((name) => [name, compileDef(name)])) as Record<BodyName, BoundedValidator>,
  };
}

// Compiled on first use, not at import: compiling is most of the CPU of loading the service (about a
// second), and a worker process, or a command that stops at a configuration error, never validates.
let compiled: Validators | null = null;
function validators(): Validators {
  compiled ??= compileValidators();
  return compiled;
}

/** Compiles the validators now: the API calls it before it listens, so no agent's request waits behind it. */
export function prepareValidators(): void {
  validators();
}

function safePath(instancePath: string): string {
  if (instancePath === '') return '';
  return (
    instancePath
      .split('/')
      .slice(1)
      // Every segment, digits too: an object's key "4111111111111111" looks like an array index here.
      .map((s) => safeSegment(s.replace(/~1/g, '/').replace(/~0/g, '~')))
      .map((s) => `/${s}`)
      .join('')
  );
}

function toViolation(e: ErrorObject, prefix: string): Violation | null {
  const base = prefix + safePath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'if':
      return null; // the failing "then" branch is reported on its own, with its path
    case 'additionalProperties':
      return { path: `${base}/${safeSegment(String(params.additionalProperty))}`, message: 'unknown field (not part of the schema)' };
    case 'required':
      return { path: `${base}/${String(params.missingProperty)}`, message: 'is required' };
    case 'propertyNames':
      return { path: `${base}/${safeSegment(String(params.propertyName))}`, message: 'property name is not allowed here' };
    case 'pattern':
      return { path: base, message: patternMeaning(String(params.pattern)) ?? 'has characters or a length the schema does not allow' };
    case 'enum':
      return { path: base, message: `must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'const':
      return { path: base, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'format':
      // The one parser's sentence (dateTime.ts), as a date-time the schema lets through and the parser
      // refuses gets: the schema's bare 'must match format "date-time"' said nothing of what is expected.
      if (params.format === 'date-time') return { path: base, message: NOT_A_DATE_TIME };
      break;
    case 'minProperties':
      return { path: base, message: params.limit === 1 ? 'send at least one field' : (e.message ?? 'has too few fields') };
  }
  return { path: base, message: e.message ?? `fails "${e.keyword}"` };
}

function run(validator: BoundedValidator, value: unknown, prefix = ''): Violation[] {
  const v = withinNodeBudget(value) ? validator.all : validator.first;
  return v(value) ? [] : violationsFromAjv(v.errors ?? [], prefix);
}

/**
 * A union of constants (TypeBox's Union of Literals: `anyOf` of `const`s) as the one choice it is.
 * Ajv reports each branch's `const` and then the `anyOf`, which would read "must be \"failed\"" with
 * more problems to follow; as an `enum` it reads "must be one of: ...". Any other union is left as is.
 */
function constUnionsAsEnums(errors: readonly ErrorObject[]): ErrorObject[] {
  const out: ErrorObject[] = [];
  for (const e of errors) {
    if (e.keyword === 'anyOf') {
      // The branches' errors come just before their anyOf, with schema paths under it.
      const under = `${e.schemaPath}/`;
      let start = out.length;
      while (start > 0 && out[start - 1]!.schemaPath.startsWith(under)) start--;
      const branches = out.slice(start);
      // Every branch a `const` of this value, in order from the first: a branch whose error has
      // another path (a $ref's, a nested union's) would be left out of the choice the message names.
      const allConst = branches.every((b, i) => b.keyword === 'const' && b.instancePath === e.instancePath && b.schemaPath === `${under}${i}/const`);
      if (branches.length > 0 && allConst) {
        out.splice(start, branches.length, { ...e, keyword: 'enum', params: { allowedValues: branches.map((b) => b.params.allowedValue as unknown) } });
        continue;
      }
      // A nullable field (a value or null): "must be null" and "must match a schema in anyOf" told the
      // user nothing; the value's own branch says what is wrong ("must NOT have fewer than 1
      // characters"), and a value of another type "must be string or null".
      const isNull = (b: ErrorObject) => b.keyword === 'type' && b.params.type === 'null' && b.instancePath === e.instancePath;
      if (branches.filter(isNull).length === 1 && branches.length > 1) {
        const rest = branches.filter((b) => !isNull(b));
        const here = (keyword: string) => rest.every((b) => b.keyword === keyword && b.instancePath === e.instancePath);
        // Every other branch refused the value by its type, or as another constant: one problem
        // naming every choice ("must be string, integer or null"; one of "a", "b", null). Else the
        // value's own branch says what is wrong with it.
        if (here('type'))
          out.splice(start, branches.length, {
            ...e,
            keyword: 'type',
            message: `must be ${[...rest.map((b) => String(b.params.type)), 'null'].join(', ').replace(/, (?=[^,]*$)/, ' or ')}`,
          });
        else if (here('const'))
          out.splice(start, branches.length, {
            ...e,
            keyword: 'enum',
            params: { allowedValues: [...rest.map((b) => b.params.allowedValue as unknown), null] },
          });
        else out.splice(start, branches.length, ...rest);
        continue;
      }
    }
    out.push(e);
  }
  return out;
}

/**
 * Ajv errors as Violations: one per problem, each with a path, in the order ajv found them. Names
 * taken from the document pass through safeSegment (a property name can itself be a secret).
 */
export function violationsFromAjv(errors: readonly ErrorObject[], prefix = ''): Violation[] {
  const out: Violation[] = [];
  const seen = new Set<string>();
  for (const e of constUnionsAsEnums(errors)) {
    // One more than a refusal lists is enough for it to say more follow (errors.ts): the rest would
    // each cost a privacy check of its key (safeSegment), and two thousand cost the API a quarter second.
    if (out.length > MAX_REPORTED_VIOLATIONS) break;
    // Pattern errors raised inside propertyNames are reported once, by the propertyNames error.
    if (e.propertyName !== undefined && e.keyword !== 'propertyNames') continue;
    const v = toViolation(e, prefix);
    if (!v) continue;
    const key = `${v.path}\u0000${v.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(v);
    }
  }
  return out;
}

/** A configuration trail event against schemas/config-change-event.schema.json. */
export function validateTrailEvent(x: unknown): Violation[] {
  return run(validators().trail, x);
}

/**
 * A forwarded (wire) event: the published schema, event.id equal to aegis.preflight_id, and the
 * privacy guard over the aegis fields. An event whose event.dataset is the configuration trail's
 * ("aegis.audit_stream") is held to that schema instead.
 */
export function validateWireEvent(x: unknown): Violation[] {
  if ((x as { event?: { dataset?: unknown } } | null)?.event?.dataset === 'aegis.audit_stream') return validateTrailEvent(x);
  const out = run(validators().wire, x);
  if (typeof x === 'object' && x !== null) {
    const doc = x as { event?: { id?: unknown }; aegis?: { preflight_id?: unknown } };
    if (doc.event?.id !== undefined && doc.aegis?.preflight_id !== undefined && doc.event.id !== doc.aegis.preflight_id) {
      out.push({ path: '/event/id', message: 'must equal aegis.preflight_id' });
    }
    out.push(...guardAgentRecord(doc.aegis, '/aegis'));
  }
  return out;
}

/**
 * One agent decision record: the AgentDecisionRecord schema plus the privacy guard. `memo`: one per
 * batch of records (see GuardMemo), never kept beyond it.
 */
export function validateAgentRecord(x: unknown, basePath = '', memo?: GuardMemo): Violation[] {
  return [...run(validators().bodies.AgentDecisionRecord, x, basePath), ...guardAgentRecord(x, basePath, memo)];
}

/** A whole POST /audit-events body; paths name the record, e.g. "/events/3/summary". */
export function validateAuditEventsRequest(x: unknown): Violation[] {
  const out = run(validators().bodies.AuditEventsRequest, x);
  const events = (x as { events?: unknown } | null)?.events;
  if (Array.isArray(events)) events.forEach((rec, i) => out.push(...guardAgentRecord(rec, `/events/${i}`)));
  return out;
}

/**
 * The optional fields of a PreflightRequest (destination, source_type, input_type, actor_id) against
 * the schema; `input` is checked by the caller (its size limit is in bytes) and never echoed.
 */
export function validatePreflightOptions(x: unknown): Violation[] {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return [{ path: '', message: 'must be an object' }];
  return run(validators().bodies.PreflightRequest, { ...x, input: '' });
}

/** Any named body of the producer API, schema only (PreflightRequest, PreflightResponse, ...). */
export function validateBody(name: BodyName, x: unknown): Violation[] {
  return run(validators().bodies[name], x);
}
