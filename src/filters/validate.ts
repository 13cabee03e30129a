/**
 * The strict check of a destination filter, run before it is saved or previewed. Only the documented
 * subset passes: the operators of filters/fields.ts over the wire event's paths, with bounded size,
 * depth and values. Every problem is reported with its JSON pointer inside the request ("/filter/...")
 * and never with the submitted value. The evaluation itself is sift's (filters/compile.ts); this only
 * decides what sift is ever given.
 */
import { MAX_REPORTED_VIOLATIONS, type Violation } from '../events/violation.js';
import { validationFailed } from '../errors.js';
import { FREE_TEXT, FREE_TEXT_MESSAGE } from '../events/validate.js';
import { compileFilter } from './compile.js';
import { safeSegment } from '../events/privacyGuard.js';
import { DATE_TIME_EXAMPLE, FIELD_OPERATORS, FILTER_LIMITS, fieldSpec, isDateAlone, isFilterField, normalizeFilterTime, type FieldSpec } from './fields.js';

const fieldOps: ReadonlySet<string> = new Set(FIELD_OPERATORS);
const OPERATOR_LIST = ['$and', '$or', ...FIELD_OPERATORS].join(', ');

/** RFC 6901: a key inside a JSON pointer. */
const escapeKey = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');
const OPERATOR_LIKE = /^\$[A-Za-z]{1,32}$/;
/**
 * A key as a refusal names it. A filter is configuration, but a mistyped key could still be a value
 * (an e-mail address, a token pasted in the wrong place): keys that are neither known paths nor
 * operator-like are shown only when the privacy guard finds nothing in them, as for event bodies.
 */
const shownKey = (k: string) => (isFilterField(k) || OPERATOR_LIKE.test(k) ? k : safeSegment(k));
const at = (base: string, key: string | number) => `${base}/${typeof key === 'number' ? key : escapeKey(shownKey(key))}`;

/**
 * A JSON object as JSON.parse makes it: not an array, a Date, a RegExp, nor a null-prototype object
 * (which sift cannot read).
 */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * The allowed value a near miss meant (other case, fullwidth forms, spaces or hyphens for
 * underscores, surrounding space), or null. Named in the refusal instead of the value sent: it comes
 * from the list, so a refusal never echoes what was typed.
 */
function meant(v: string, values: readonly string[]): string | null {
  const fold = (x: string) =>
    x
      .normalize('NFKC')
      .trim()
      .replace(/[\s-]+/g, '_')
      .toLowerCase();
  const f = fold(v);
  return values.find((a) => fold(a) === f) ?? null;
}

const DATE_TIME = `must be an RFC 3339 date-time from 1970 to 9999, such as ${DATE_TIME_EXAMPLE} (a date alone is 00:00 UTC, a time without an offset UTC)`;
const OBJECT_ONLY = 'is an object in the wire event: only {"$exists": true} or {"$exists": false} applies to it';

class Checker {
  readonly violations: Violation[] = [];
  /**
   * One more than a refusal lists is enough for it to say more follow (errors.ts): the walk stops
   * there, since each refused key costs a privacy check (shownKey), and a filter of ten thousand
   * unknown keys held the API's event loop for a quarter of a second.
   */
  get full(): boolean {
    return this.violations.length > MAX_REPORTED_VIOLATIONS;
  }
  add(path: string, message: string) {
    if (!this.full) this.violations.push({ path, message });
  }

  scalar(v: unknown, path: string): boolean {
    if (v === null || typeof v === 'boolean') return true;
    if (typeof v === 'number') {
      if (Number.isFinite(v)) return true;
      this.add(path, 'is not a finite number');
      return false;
    }
    if (typeof v === 'string') {
      if (v.length <= FILTER_LIMITS.maxStringLength) return true;
      this.add(path, `is ${v.length} characters; the limit is ${FILTER_LIMITS.maxStringLength}`);
      return false;
    }
    this.add(
      path,
      typeof v === 'object'
        ? 'must be a string, number, boolean or null (compare one field at a time; use dotted paths for nested fields)'
        : 'is not a JSON value',
    );
    return false;
  }

  /**
   * One value a field is compared with for equality ($eq, $ne, $in, $nin, or a bare value): one the
   * field can hold in a recorded event, or the comparison could never be true ($eq, $in) or never
   * false ($ne, $nin), and the destination would silently get nothing or everything.
   */
  value(v: unknown, path: string, spec: FieldSpec): void {
    if (!this.scalar(v, path)) return;
    if (spec.type === 'object') return this.add(path, OBJECT_ONLY);
    if (v === null) {
      if (spec.always) this.add(path, 'cannot be null: every event has this field, so null never equals it');
      return;
    }
    switch (spec.type) {
      case 'enum':
        if (typeof v !== 'string' || !spec.values.includes(v)) {
          const hint = typeof v === 'string' ? meant(v, spec.values) : null;
          this.add(path, `must be one of ${spec.values.join(', ')} (exactly as written here)${hint ? `; did you mean ${hint}?` : ''}`);
        }
        return;
      case 'string':
        if (typeof v !== 'string') this.add(path, 'must be a string: the field holds text');
        // What no recorded event holds (the schema's free text refuses it): an equality would never be
        // true, a $ne never false, and a bidirectional mark shown back in the editor reverses its line.
        else if (!FREE_TEXT.test(v)) this.add(path, `${FREE_TEXT_MESSAGE}: no recorded event holds one, so this would never match`);
        return;
      case 'number':
        if (typeof v !== 'number') this.add(path, 'must be a number: the field holds numbers, which never equal a string');
        return;
      case 'date-time':
        if (typeof v !== 'string' || normalizeFilterTime(v) === null) this.add(path, DATE_TIME);
        // A day is a range: as an equality it would match only events at its 00:00 UTC exactly.
        else if (isDateAlone(v)) this.add(path, 'is a date alone, a whole day: select it with $gte and $lt (the next day), not an equality');
        return;
    }
  }

  /** The bound of $gt, $gte, $lt, $lte: of the field's own type (sift never orders a number against a string). */
  bound(v: unknown, path: string, spec: FieldSpec): void {
    if (typeof v === 'string') {
      if (!this.scalar(v, path)) return;
    } else if (typeof v === 'number' && !Number.isFinite(v)) {
      // A number too large for a double (1e400) parses as Infinity: it is a number, out of range.
      return this.add(path, 'is out of range: a number must be finite (at most about 1.8e308)');
    } else if (typeof v !== 'number') {
      return this.add(path, 'must be a number or a string (such as an RFC 3339 time for @timestamp)');
    }
    switch (spec.type) {
      case 'object':
        return this.add(path, OBJECT_ONLY);
      case 'number':
        if (typeof v !== 'number') this.add(path, 'must be a number: the field holds numbers, and a string bound never matches one');
        return;
      case 'date-time':
        if (typeof v !== 'string' || normalizeFilterTime(v) === null) this.add(path, DATE_TIME);
        return;
      case 'enum':
      case 'string':
        if (typeof v !== 'string') this.add(path, 'must be a string: the field holds text, and a number bound never matches it');
        return;
    }
  }

  /** A query document: fields (dotted paths) and $and / $or. */
  query(q: unknown, path: string, depth: number): void {
    if (depth > FILTER_LIMITS.maxDepth) return this.add(path, `nests deeper than ${FILTER_LIMITS.maxDepth} levels`);
    if (!isPlainObject(q)) return this.add(path, 'must be an object of field conditions, e.g. {"aegis.decision": "BLOCKED"}');
    for (const [key, value] of Object.entries(q)) {
      if (this.full) return;
      const p = at(path, key);
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(value) || value.length === 0) {
          this.add(p, `must be a non-empty array of conditions`);
          continue;
        }
        if (value.length > FILTER_LIMITS.maxItems) {
          this.add(p, `has ${value.length} conditions; the limit is ${FILTER_LIMITS.maxItems}`);
          continue;
        }
        for (let i = 0; i < value.length && !this.full; i++) this.query(value[i], at(p, i), depth + 2);
      } else if (key === '$not') {
        this.add(p, 'applies to one field: {"aegis.decision": {"$not": {"$eq": "ALLOWED"}}}');
      } else if (key.startsWith('$')) {
        this.add(p, `is not a supported operator; use ${OPERATOR_LIST}`);
      } else {
        const spec = fieldSpec(key);
        if (!spec) this.add(p, 'is not a field of the wire event (docs/filters.md lists them, e.g. aegis.decision)');
        else this.condition(value, p, depth + 1, spec);
      }
    }
  }

  /** What one field must satisfy: a value (equality) or an object of operators. */
  condition(c: unknown, path: string, depth: number, spec: FieldSpec): void {
    if (depth > FILTER_LIMITS.maxDepth) return this.add(path, `nests deeper than ${FILTER_LIMITS.maxDepth} levels`);
    if (Array.isArray(c)) return this.add(path, 'must be a value or an object of operators; to match any of several values use {"$in": [...]}');
    if (!isPlainObject(c)) return this.value(c, path, spec);
    const entries = Object.entries(c);
    if (entries.length === 0) return this.add(path, 'must name at least one operator, e.g. {"$eq": "BLOCKED"}');
    for (const [op, arg] of entries) {
      if (this.full) return;
      const p = at(path, op);
      if (!op.startsWith('$')) {
        this.add(
          p,
          'is not an operator: a field condition holds operators only (use a dotted path such as aegis.finding_counts_by_type.SSN for nested fields)',
        );
        continue;
      }
      if (!fieldOps.has(op)) {
        this.add(p, `is not a supported operator; use ${OPERATOR_LIST}`);
        continue;
      }
      switch (op) {
        case '$eq':
        case '$ne':
          if (isPlainObject(arg) || Array.isArray(arg)) this.add(p, 'must be a string, number, boolean or null');
          else this.value(arg, p, spec);
          break;
        case '$in':
        case '$nin':
          if (!Array.isArray(arg)) this.add(p, 'must be an array of values');
          else if (arg.length > FILTER_LIMITS.maxItems) this.add(p, `has ${arg.length} values; the limit is ${FILTER_LIMITS.maxItems}`);
          else if (depth + 1 > FILTER_LIMITS.maxDepth) this.add(p, `nests deeper than ${FILTER_LIMITS.maxDepth} levels`);
          else for (let i = 0; i < arg.length && !this.full; i++) this.value(arg[i], at(p, i), spec);
          break;
        case '$gt':
        case '$gte':
        case '$lt':
        case '$lte':
          this.bound(arg, p, spec);
          break;
        case '$exists':
          if (typeof arg !== 'boolean') this.add(p, 'must be true or false');
          break;
        case '$not':
          if (!isPlainObject(arg)) this.add(p, 'must be an object of operators, e.g. {"$in": ["ALLOWED"]}');
          else this.condition(arg, p, depth + 1, spec);
          break;
      }
    }
  }
}

/**
 * Every problem with `filter` (null is fine: every event), each at `base` + its pointer. Depth is
 * checked while walking, before the size, so a hostile nesting never reaches JSON.stringify.
 */
export function checkFilter(filter: unknown, base = '/filter'): Violation[] {
  if (filter === null) return [];
  const c = new Checker();
  c.query(filter, base, 1);
  if (c.violations.length === 0) {
    const bytes = new TextEncoder().encode(JSON.stringify(filter)).length;
    if (bytes > FILTER_LIMITS.maxBytes) c.add(base, `is ${bytes} bytes as JSON; the limit is ${FILTER_LIMITS.maxBytes}`);
  }
  return c.violations;
}

/** The checked filter to store: null for none (and for {}, which matches every event just the same). */
export function storableFilter(filter: Record<string, unknown> | null): Record<string, unknown> | null {
  const problems = checkFilter(filter);
  if (problems.length > 0) throw validationFailed(problems);
  if (filter === null || Object.keys(filter).length === 0) return null;
  // Compiled once here too: a filter the ingest path could not compile is never stored (it would
  // refuse every event of the organization).
  try {
    compileFilter(filter);
  } catch {
    throw validationFailed([{ path: '/filter', message: 'cannot be evaluated; see docs/filters.md for the supported forms' }]);
  }
  return filter;
}
