/**
 * A validator for OCSF events that reads the official OCSF schema source (vendored, unmodified, in
 * schemas/ocsf-1.8.0, two levels above this module both in src/events/ and in dist/events/, as
 * validate.ts finds the published schemas) and resolves it the way the OCSF schema server compiles it:
 *
 * - a class or object file's attributes, plus the attributes of every file it `$include`s (profiles:
 *   those attributes are tagged with the profile's name), the file's own definitions winning;
 * - then merged over what it `extends` (deeply: an enum's values accumulate, the child's caption wins;
 *   `"profile": null` in a child makes a profile attribute part of the class itself);
 * - each attribute's type, array-ness, enum and sibling from dictionary.json, under the class's own;
 * - dictionary data types with their base type, regex, max_len, range and values;
 * - class_uid = category uid * 1000 + class uid, type_uid = class_uid * 100 + activity_id, and the
 *   *_name captions that go with them.
 *
 * An event is checked for: unknown attributes (objects are closed, except the free-form `object`
 * type), required attributes, types, enum values of every enumerated attribute, siblings matching
 * their enum caption (and present for 99 Other), object constraints (at_least_one, just_one),
 * profile attributes used without their profile in metadata.profiles, and attributes or enum values
 * the schema deprecates (valid for older producers; nothing Aegis sends should use them).
 *
 * `aegis-stream validate-event` runs it on events operators captured, so the event is hostile input:
 * its keys are looked up with Object.hasOwn and Maps only (a key "__proto__" or "constructor" is an
 * unknown attribute, never a schema entry), nesting is bounded (OCSF_MAX_DEPTH) and so is the list
 * of violations (OCSF_MAX_VIOLATIONS), and messages name paths and schema facts, never the event's
 * values; a key the event made up is echoed only when safeSegment finds it plain.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { safeSegment } from './privacyGuard.js';
import type { Violation } from './violation.js';

export const OCSF_SCHEMA_DIR = fileURLToPath(new URL('../../schemas/ocsf-1.8.0/', import.meta.url));

export type OcsfViolation = Violation;

/**
 * Objects nested deeper than this (process.parent_process.parent_process...) are not checked further,
 * and say so: the walk recurses per level, and a real event is a few levels deep.
 */
export const OCSF_MAX_DEPTH = 64;

/** Violations listed per event; one more line says that more were left out. */
export const OCSF_MAX_VIOLATIONS = 100;

const hasOwn = (o: object, k: string): boolean => Object.hasOwn(o, k);

/** A property of a parsed JSON object, own properties only (never one inherited from Object.prototype). */
function own(o: JsonObject, k: string): Json {
  return hasOwn(o, k) ? o[k] : undefined;
}

/** Collects violations up to OCSF_MAX_VIOLATIONS; `full` tells the walk to stop. */
class Sink {
  readonly list: Violation[] = [];
  full = false;
  push(v: Violation): void {
    if (this.full) return;
    if (this.list.length < OCSF_MAX_VIOLATIONS) {
      this.list.push(v);
      return;
    }
    this.full = true;
    this.list.push({ path: '', message: `more violations not listed (the first ${OCSF_MAX_VIOLATIONS} are)` });
  }
}

type Json = unknown;
type JsonObject = Record<string, Json>;

interface EnumValue {
  caption?: string;
  '@deprecated'?: Deprecation;
}

/** The schema's note on an attribute or enum value it keeps only for older producers. */
interface Deprecation {
  message?: string;
  since?: string;
}

/** "is deprecated since 1.4.0: Use status_id attribute instead." (the schema's note, its HTML tags dropped). */
function deprecated(what: string, d: Deprecation): string {
  const note = typeof d.message === 'string' ? d.message.replace(/<[^>]*>/g, '').trim() : '';
  return `${what} deprecated${typeof d.since === 'string' ? ` since ${d.since}` : ''}${note ? `: ${note}` : ''}`;
}

export interface ResolvedAttribute {
  name: string;
  type: string;
  isArray: boolean;
  requirement: string;
  /** The profile this attribute comes from; undefined: part of the class/object itself. */
  profile?: string;
  enum?: Record<string, EnumValue>;
  sibling?: string;
  /** Set when the schema deprecates the attribute (in the class or object, or in the dictionary). */
  deprecated?: Deprecation;
}

export interface ResolvedEntity {
  name: string;
  caption: string;
  attributes: Map<string, ResolvedAttribute>;
  constraints: { at_least_one?: string[]; just_one?: string[] };
  /** Classes only. */
  uid?: number;
  category?: { name: string; uid: number; caption: string };
  profiles?: string[];
}

interface RawFile {
  name: string;
  caption?: string;
  extends?: string;
  category?: string;
  uid?: number;
  meta?: string;
  attributes: JsonObject;
  constraints?: ResolvedEntity['constraints'];
  profiles?: string[];
}

/** The schema's words for a value that is not an integer_t (checkType), also said of a string class_uid. */
const notInteger32 = (type: string) => `must be a 32-bit integer (${type})`;

function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An enum's entry for an event's value (an own key of the schema's enum only). */
function enumValue(e: Record<string, EnumValue> | undefined, v: number | string): EnumValue | undefined {
  const k = String(v);
  return e && hasOwn(e, k) ? e[k] : undefined;
}

/** Deep merge of attribute definitions: objects merge key by key (so enums accumulate), `over` wins. */
function deepMerge(base: Json, over: Json): Json {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = hasOwn(out, k) ? deepMerge(out[k], v) : v;
  return out;
}

const PRIMITIVES = new Set(['string_t', 'integer_t', 'long_t', 'float_t', 'boolean_t', 'json_t']);

export class OcsfSchema {
  private readonly dictionary: JsonObject;
  private readonly types: Record<string, JsonObject>;
  private readonly categories: Record<string, { uid: number; caption: string }>;
  private readonly classFiles = new Map<string, string>();
  private readonly objectCache = new Map<string, ResolvedEntity>();
  private readonly classCache = new Map<string, ResolvedEntity>();
  readonly version: string;

  constructor(readonly root: string = OCSF_SCHEMA_DIR) {
    const dict = this.read('dictionary.json');
    this.dictionary = (dict.attributes ?? {}) as JsonObject;
    this.types = ((dict.types as JsonObject).attributes ?? {}) as Record<string, JsonObject>;
    this.categories = (this.read('categories.json').attributes ?? {}) as OcsfSchema['categories'];
    this.version = String(this.read('version.json').version);
    const walk = (dir: string): void => {
      for (const entry of readdirSync(join(root, dir))) {
        const rel = join(dir, entry);
        if (statSync(join(root, rel)).isDirectory()) walk(rel);
        else if (entry.endsWith('.json')) this.classFiles.set(String(this.read(rel).name), rel);
      }
    };
    walk('events');
  }

  private read(rel: string): JsonObject {
    return JSON.parse(readFileSync(join(this.root, rel), 'utf8')) as JsonObject;
  }

  /** A dictionary attribute's definition (type, is_array, enum, sibling, caption). */
  dictionaryAttribute(name: string): JsonObject | undefined {
    const d = own(this.dictionary, name);
    return isObject(d) ? d : undefined;
  }

  /** A file's attributes with its `$include`s folded in (included profile attributes tagged). */
  private ownAttributes(file: RawFile): JsonObject {
    const { $include, ...own } = file.attributes;
    let merged: JsonObject = {};
    for (const inc of (Array.isArray($include) ? $include : []) as string[]) {
      const included = this.read(inc) as unknown as RawFile;
      const tag = included.meta === 'profile' ? included.name : undefined;
      for (const [k, v] of Object.entries(included.attributes)) {
        if (k === '$include') continue;
        merged[k] = tag ? { ...(v as JsonObject), profile: tag } : v;
      }
    }
    merged = deepMerge(merged, own) as JsonObject;
    return merged;
  }

  private resolveFile(file: RawFile, parent: ResolvedEntity | undefined, rawParentAttrs: JsonObject): { attrs: JsonObject; entity: ResolvedEntity } {
    const attrs = deepMerge(rawParentAttrs, this.ownAttributes(file)) as JsonObject;
    const resolved = new Map<string, ResolvedAttribute>();
    for (const [name, defRaw] of Object.entries(attrs)) {
      const def = defRaw as JsonObject;
      const dict = this.dictionaryAttribute(name);
      if (!dict) throw new Error(`OCSF schema: attribute ${name} of ${file.name} is not in the dictionary`);
      const enumMerged = deepMerge(dict.enum ?? undefined, def.enum ?? undefined) as Record<string, EnumValue> | undefined;
      const attr: ResolvedAttribute = {
        name,
        type: typeof def.type === 'string' ? def.type : String(dict.type),
        isArray: Boolean(def.is_array ?? dict.is_array ?? false),
        requirement: typeof def.requirement === 'string' ? def.requirement : 'optional',
      };
      if (typeof def.profile === 'string') attr.profile = def.profile;
      if (enumMerged && Object.keys(enumMerged).length > 0) attr.enum = enumMerged;
      if (typeof dict.sibling === 'string') attr.sibling = dict.sibling;
      const dep = def['@deprecated'] ?? dict['@deprecated'];
      if (isObject(dep)) attr.deprecated = dep;
      resolved.set(name, attr);
    }
    const entity: ResolvedEntity = {
      name: file.name,
      caption: file.caption ?? parent?.caption ?? file.name,
      attributes: resolved,
      // A child's constraints replace its parent's, as the schema server merges them.
      constraints: file.constraints ?? parent?.constraints ?? {},
    };
    return { attrs, entity };
  }

  private rawClassAttrs = new Map<string, JsonObject>();
  private rawObjectAttrs = new Map<string, JsonObject>();

  resolveClass(name: string): ResolvedEntity {
    const cached = this.classCache.get(name);
    if (cached) return cached;
    const rel = this.classFiles.get(name);
    if (!rel) throw new Error(`OCSF schema: class ${name} is not vendored`);
    const file = this.read(rel) as unknown as RawFile;
    const parent = file.extends ? this.resolveClass(file.extends) : undefined;
    const { attrs, entity } = this.resolveFile(file, parent, file.extends ? this.rawClassAttrs.get(file.extends)! : {});
    const categoryName = file.category ?? parent?.category?.name;
    if (categoryName && categoryName !== 'other') {
      const cat = this.categories[categoryName];
      if (!cat) throw new Error(`OCSF schema: unknown category ${categoryName}`);
      entity.category = { name: categoryName, uid: cat.uid, caption: cat.caption };
    } else if (parent?.category) {
      entity.category = parent.category;
    }
    if (file.uid !== undefined) entity.uid = file.uid;
    entity.profiles = [...new Set([...(parent?.profiles ?? []), ...(file.profiles ?? [])])];
    this.rawClassAttrs.set(name, attrs);
    this.classCache.set(name, entity);
    return entity;
  }

  hasObject(name: string): boolean {
    try {
      statSync(join(this.root, 'objects', `${name}.json`));
      return true;
    } catch {
      return false;
    }
  }

  resolveObject(name: string): ResolvedEntity {
    const cached = this.objectCache.get(name);
    if (cached) return cached;
    if (!this.hasObject(name)) throw new Error(`OCSF schema: object ${name} is not vendored`);
    const file = this.read(join('objects', `${name}.json`)) as unknown as RawFile;
    const parent = file.extends ? this.resolveObject(file.extends) : undefined;
    const { attrs, entity } = this.resolveFile(file, parent, file.extends ? this.rawObjectAttrs.get(file.extends)! : {});
    this.rawObjectAttrs.set(name, attrs);
    this.objectCache.set(name, entity);
    return entity;
  }

  /** class_uid of a class: category uid * 1000 + the class's uid. */
  classUid(cls: ResolvedEntity): number {
    if (cls.uid === undefined || !cls.category) throw new Error(`OCSF schema: ${cls.name} has no uid or category`);
    return cls.category.uid * 1000 + cls.uid;
  }

  /** Validates one event against a class; an empty list means valid. */
  validate(event: Json, className: string): OcsfViolation[] {
    const cls = this.resolveClass(className);
    const out = new Sink();
    if (!isObject(event)) return [{ path: '', message: 'an OCSF event is a JSON object' }];
    const meta = own(event, 'metadata');
    const applied = new Set<string>();
    const profiles = isObject(meta) ? own(meta, 'profiles') : undefined;
    if (Array.isArray(profiles)) {
      for (const [i, p] of profiles.entries()) {
        if (typeof p === 'string' && cls.profiles?.includes(p)) applied.add(p);
        else out.push({ path: `/metadata/profiles/${i}`, message: `is not a profile of class ${cls.name} (${cls.profiles?.join(', ') ?? 'none'})` });
        if (out.full) return out.list;
      }
    }
    this.checkEntity(event, cls, '', applied, out, true, 0);

    // Classification: the numbers and names that identify the class and activity.
    const classUid = this.classUid(cls);
    const expect = (key: string, want: Json) => {
      if (hasOwn(event, key) && event[key] !== want) out.push({ path: `/${key}`, message: `must be ${JSON.stringify(want)}` });
    };
    expect('class_uid', classUid);
    expect('category_uid', cls.category!.uid);
    expect('class_name', cls.caption);
    expect('category_name', cls.category!.caption);
    const activityId = own(event, 'activity_id');
    if (typeof activityId === 'number') {
      expect('type_uid', classUid * 100 + activityId);
      const activity = enumValue(cls.attributes.get('activity_id')?.enum, activityId);
      if (activity?.caption) expect('type_name', `${cls.caption}: ${activity.caption}`);
    }
    return out.list;
  }

  private checkEntity(value: JsonObject, entity: ResolvedEntity, path: string, applied: Set<string>, out: Sink, isClass: boolean, depth: number): void {
    const what = `${isClass ? 'class' : 'object'} ${entity.name}`;
    if (depth > OCSF_MAX_DEPTH) {
      out.push({ path, message: `is nested deeper than ${OCSF_MAX_DEPTH} objects: not checked further` });
      return;
    }
    for (const [key, v] of Object.entries(value)) {
      if (out.full) return;
      const attr = entity.attributes.get(key);
      if (!attr) {
        // A key the event made up may itself be a value (a card number as a name): echoed only when plain.
        out.push({ path: `${path}/${safeSegment(key)}`, message: `is not an attribute of ${what}` });
        continue;
      }
      const p = `${path}/${key}`;
      if (attr.profile && !applied.has(attr.profile)) {
        out.push({ path: p, message: `belongs to profile ${attr.profile}, which metadata.profiles does not list` });
      }
      // Classification ids are checked against the class itself (validate), not the base enums.
      if (isClass && (key === 'class_uid' || key === 'category_uid')) {
        this.checkType(v, 'integer_t', p, out);
        continue;
      }
      // Still valid, but no event of ours should use what the schema keeps only for older producers.
      if (attr.deprecated) out.push({ path: p, message: deprecated('is', attr.deprecated) });
      this.checkAttribute(v, attr, p, applied, out, depth);
      if (attr.sibling && attr.enum && typeof v === 'number') {
        const caption = enumValue(attr.enum, v)?.caption;
        const sib = own(value, attr.sibling);
        if (v === 99 && sib === undefined) out.push({ path: `${path}/${attr.sibling}`, message: `is required when ${key} is 99 (Other)` });
        else if (v !== 99 && sib !== undefined && caption !== undefined && sib !== caption) {
          // The caption is the schema's, for the event's (valid) id; the event's own text is not repeated.
          out.push({ path: `${path}/${attr.sibling}`, message: `must be ${JSON.stringify(caption)}, the caption of ${key}'s value` });
        }
      }
    }
    for (const attr of entity.attributes.values()) {
      if (attr.requirement !== 'required' || hasOwn(value, attr.name)) continue;
      if (attr.profile && !applied.has(attr.profile)) continue;
      out.push({ path: `${path}/${attr.name}`, message: `is required by ${what}` });
    }
    const present = (names: string[]) => names.filter((n) => own(value, n) !== undefined && own(value, n) !== null);
    const { at_least_one, just_one } = entity.constraints;
    if (at_least_one && present(at_least_one).length === 0)
      out.push({ path: path || '/', message: `${what} needs at least one of ${at_least_one.join(', ')}` });
    if (just_one && present(just_one).length !== 1) out.push({ path: path || '/', message: `${what} needs exactly one of ${just_one.join(', ')}` });
  }

  private checkAttribute(v: Json, attr: ResolvedAttribute, path: string, applied: Set<string>, out: Sink, depth: number): void {
    if (attr.isArray) {
      if (!Array.isArray(v)) {
        out.push({ path, message: `must be an array of ${attr.type}` });
        return;
      }
      for (let i = 0; i < v.length && !out.full; i++) this.checkScalarOrObject(v[i], attr, `${path}/${i}`, applied, out, depth);
      return;
    }
    this.checkScalarOrObject(v, attr, path, applied, out, depth);
  }

  private checkScalarOrObject(v: Json, attr: ResolvedAttribute, path: string, applied: Set<string>, out: Sink, depth: number): void {
    if (attr.type === 'object') {
      // The free-form object type (unmapped, data, ...): any JSON object.
      if (!isObject(v)) out.push({ path, message: 'must be a JSON object' });
      return;
    }
    if (!hasOwn(this.types, attr.type)) {
      if (!isObject(v)) {
        out.push({ path, message: `must be a ${attr.type} object` });
        return;
      }
      this.checkEntity(v, this.resolveObject(attr.type), path, applied, out, false, depth + 1);
      return;
    }
    if (!this.checkType(v, attr.type, path, out)) return;
    if (!attr.enum) return;
    const entry = typeof v === 'number' || typeof v === 'string' ? enumValue(attr.enum, v) : undefined;
    if (entry === undefined) out.push({ path, message: `is not a value of ${attr.name} (${Object.keys(attr.enum).join(', ')})` });
    else if (isObject(entry['@deprecated'])) out.push({ path, message: deprecated(`names a value of ${attr.name}`, entry['@deprecated']) });
  }

  private readonly regexes = new Map<string, RegExp>();
  private regex(source: string): RegExp {
    let r = this.regexes.get(source);
    if (!r) this.regexes.set(source, (r = new RegExp(source)));
    return r;
  }

  /** Checks a value against a dictionary data type (and its base types); false when it is not one. */
  private checkType(v: Json, type: string, path: string, out: Sink): boolean {
    const def = hasOwn(this.types, type) ? this.types[type] : undefined;
    if (!def) {
      out.push({ path, message: `schema type ${type} is unknown` });
      return false;
    }
    const bad = (message: string) => {
      out.push({ path, message });
      return false;
    };
    if (!PRIMITIVES.has(type)) {
      const base = typeof def.type === 'string' ? def.type : undefined;
      if (!base) return bad(`schema type ${type} has no base type`);
      if (!this.checkType(v, base, path, out)) return false;
    } else {
      switch (type) {
        case 'string_t':
          if (typeof v !== 'string') return bad(`must be a string (${type})`);
          break;
        case 'integer_t':
          if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) return bad(notInteger32(type));
          break;
        case 'long_t':
          if (typeof v !== 'number' || !Number.isSafeInteger(v)) return bad(`must be an integer (${type})`);
          break;
        case 'float_t':
          if (typeof v !== 'number' || !Number.isFinite(v)) return bad(`must be a number (${type})`);
          break;
        case 'boolean_t':
          if (typeof v !== 'boolean') return bad(`must be true or false (${type})`);
          break;
        case 'json_t':
          break;
      }
    }
    // Length first: the schema's regexes then only ever see strings as long as the type allows (ip_t's
    // pattern, with \s* at both ends, would backtrack on a long run of spaces).
    if (typeof def.max_len === 'number' && typeof v === 'string' && v.length > def.max_len) return bad(`is longer than ${def.max_len} (${type})`);
    if (typeof def.regex === 'string' && typeof v === 'string' && !this.regex(def.regex).test(v)) return bad(`does not match ${type}`);
    if (Array.isArray(def.range) && typeof v === 'number' && (v < Number(def.range[0]) || v > Number(def.range[1])))
      return bad(`is outside ${def.range.join('..')} (${type})`);
    if (Array.isArray(def.values) && !def.values.includes(v)) return bad(`must be one of ${JSON.stringify(def.values)} (${type})`);
    return true;
  }
}

let shared: OcsfSchema | undefined;

/** The vendored OCSF 1.8.0 schema, loaded on first use and kept. */
export function ocsfSchema(): OcsfSchema {
  shared ??= new OcsfSchema();
  return shared;
}

/** The OCSF classes Aegis sends, by class_uid: findings and configuration trail events. */
export const OCSF_CLASSES: Readonly<Record<number, string>> = {
  2006: 'data_security_finding',
  3004: 'entity_management',
};

const CLASSES_SENT = 'Aegis sends OCSF Data Security Finding (2006) for events and Entity Management (3004) for configuration trail events';

/**
 * A class_uid written as a JSON string of digits ("3002"): a pipeline that stringifies numbers sends
 * them so. The event still claims that class; the schema then reports the type at /class_uid.
 */
function numericString(x: unknown): x is string {
  return typeof x === 'string' && /^-?\d{1,10}$/.test(x);
}

/**
 * An OCSF event, as validate-event recognises one: an object with no `aegis` object (an ECS wire event
 * has one) and a metadata object, whose class_uid is a number, or a numeric string when metadata also
 * has OCSF's `version` or `product` (the stricter test keeps a stray string field from making an
 * ECS-shaped document read as OCSF). Envelopes (envelopes.ts) use this same test for what they hold.
 */
export function looksLikeOcsf(x: unknown): boolean {
  if (!isObject(x) || isObject(own(x, 'aegis'))) return false;
  const metadata = own(x, 'metadata');
  if (!isObject(metadata)) return false;
  const uid = own(x, 'class_uid');
  if (typeof uid === 'number') return true;
  return numericString(uid) && (hasOwn(metadata, 'version') || hasOwn(metadata, 'product'));
}

/**
 * Violations of an event against the class it claims (class_uid), which must be one Aegis sends: a
 * Data Security Finding (2006) or, for a configuration trail event, Entity Management (3004); any other
 * class is one violation saying so. Pass `className` to check an event against one class whatever it
 * claims.
 */
export function ocsfViolations(event: Json, className?: string): OcsfViolation[] {
  let cls = className;
  if (cls === undefined) {
    const raw = isObject(event) ? own(event, 'class_uid') : undefined;
    // A numeric string still names its class: checked against it, the schema reports the type.
    const uid = numericString(raw) ? Number(raw) : raw;
    // No class claimed: checked as a finding, which reports class_uid among what is missing.
    const known = typeof uid !== 'number' ? 'data_security_finding' : Object.hasOwn(OCSF_CLASSES, uid) ? OCSF_CLASSES[uid] : undefined;
    if (known === undefined) {
      const notSent = { path: '/class_uid', message: `is not a class Aegis sends: ${CLASSES_SENT}` };
      // The type fault too, in the schema's own words, so both are fixed in one pass.
      return numericString(raw) ? [{ path: '/class_uid', message: notInteger32('integer_t') }, notSent] : [notSent];
    }
    cls = known;
  }
  return ocsfSchema().validate(event, cls);
}

/** Throws with every violation listed when the event is not a valid event of its class (or of `className`). */
export function assertValidOcsf(event: Json, className?: string): void {
  const v = ocsfViolations(event, className);
  if (v.length > 0) throw new Error(`invalid OCSF event:\n${v.map((x) => `  ${x.path}: ${x.message}`).join('\n')}`);
}
