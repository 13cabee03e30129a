/**
 * AWS secret keys in Terraform's JSON syntax (*.tf.json, and the backend state Terraform writes), where
 * a generic "secret_key" says AWS only through where it stands:
 *   "provider": {"aws": {..., "secret_key": "..."}}, the aws configurations as a list (aliases), the
 *   provider objects as a list ("provider": [{"google": {...}}, {"aws": [...]}]);
 *   "backend": {"s3": {..., "secret_key": "..."}};
 *   "backend": {"type": "s3", "config": {..., "secret_key": "..."}} (.terraform/terraform.tfstate).
 * A regex cannot follow JSON's nesting (a brace inside a string, a tags map three levels deep, an
 * endpoints map of any length), so this walks the value after each "provider" or "backend" key as
 * JSON: strings with their escapes, objects and arrays to any length and up to MAX_DEPTH levels.
 * Every secret_key of every aws object is found, not only the first after each key. The text is
 * the normalizer's (events/normalize.ts: escaped quotes of JSON inside JSON decoded, line breaks
 * read as blanks), so a pretty-printed or escaped document walks as a compact one.
 * Linear: a walk that ends (or finds the text is no JSON) resumes the search for keys after what it
 * read, so no character is walked twice.
 */
import type { Finding } from '../findings.js';

const START_RE = /"(provider|backend)"[ \t]{0,64}:/g;
/** Terraform's JSON needs six levels from "provider" to a configuration's key; beyond this, no walk. */
const MAX_DEPTH = 16;
/** The secret as a whole string value, maybe in a placeholder's angle brackets. */
const SECRET_VALUE_RE = /^(?:<([A-Za-z0-9/+]{40})>|([A-Za-z0-9/+]{40}))$/;

/** Where a walk found the text is no JSON: it stops there. */
class NotJson extends Error {
  at = 0;
}
/**
 * One error, thrown again with its position: texts can hold a start every few characters, and a new
 * Error captures a stack each time (a third of a second per MiB of them).
 */
const NOT_JSON = new NotJson('not JSON');
function notJson(at: number): never {
  NOT_JSON.at = at;
  throw NOT_JSON;
}

/**
 * Walks the value starting at `start`, `depth` levels down, and returns where it ends. A visitor
 * given a member's key (or '' for an array's element) may walk the value itself and return its end,
 * or return undefined to have it walked as plain JSON.
 */
type Visit = (key: string, start: number, depth: number) => number | undefined;

function blanksEnd(text: string, p: number): number {
  let q = p;
  for (let c = text.charCodeAt(q); c === 0x20 || c === 0x09; c = text.charCodeAt(++q));
  return q;
}

/** The end of the string whose quote is at p (after its closing quote). */
function stringEnd(text: string, p: number): number {
  for (let q = p + 1; q < text.length; q++) {
    const c = text.charCodeAt(q);
    if (c === 0x5c) q++;
    else if (c === 0x22) return q + 1;
  }
  notJson(text.length);
}

/** The end of the value at p (p at its first character), `depth` levels down. */
function valueEnd(text: string, p: number, depth: number): number {
  const c = text.charCodeAt(p);
  if (c === 0x22) return stringEnd(text, p);
  if (c === 0x7b) return objectEnd(text, p, depth);
  if (c === 0x5b) return arrayEnd(text, p, depth);
  // A number, true, false or null: up to a blank, a comma or a closing bracket.
  let q = p;
  for (let d = c; q < text.length && d !== 0x20 && d !== 0x09 && d !== 0x2c && d !== 0x5d && d !== 0x7d; d = text.charCodeAt(++q));
  if (q === p) notJson(p);
  return q;
}

function visited(text: string, visit: Visit | undefined, key: string, start: number, depth: number): number {
  return visit?.(key, start, depth) ?? valueEnd(text, start, depth);
}

/** The end of the object whose brace is at p, each member's value walked by `member` if given. */
function objectEnd(text: string, p: number, depth: number, member?: Visit): number {
  if (depth >= MAX_DEPTH) notJson(p);
  let q = blanksEnd(text, p + 1);
  if (text.charCodeAt(q) === 0x7d) return q + 1;
  for (;;) {
    if (text.charCodeAt(q) !== 0x22) notJson(q);
    const keyEnd = stringEnd(text, q);
    const key = text.slice(q + 1, keyEnd - 1);
    q = blanksEnd(text, keyEnd);
    if (text.charCodeAt(q) !== 0x3a) notJson(q);
    const start = blanksEnd(text, q + 1);
    q = blanksEnd(text, visited(text, member, key, start, depth + 1));
    if (text.charCodeAt(q) === 0x7d) return q + 1;
    if (text.charCodeAt(q) !== 0x2c) notJson(q);
    q = blanksEnd(text, q + 1);
  }
}

/** The end of the array whose bracket is at p, each element walked by `element` if given. */
function arrayEnd(text: string, p: number, depth: number, element?: Visit): number {
  if (depth >= MAX_DEPTH) notJson(p);
  let q = blanksEnd(text, p + 1);
  if (text.charCodeAt(q) === 0x5d) return q + 1;
  for (;;) {
    q = blanksEnd(text, visited(text, element, '', q, depth + 1));
    if (text.charCodeAt(q) === 0x5d) return q + 1;
    if (text.charCodeAt(q) !== 0x2c) notJson(q);
    q = blanksEnd(text, q + 1);
  }
}

/** The end of the value at p, `object` walking it if it is an object, or each object of it if it is an array. */
function eachObject(text: string, p: number, depth: number, object: (start: number, depth: number) => number): number {
  const c = text.charCodeAt(p);
  if (c === 0x7b) return object(p, depth);
  if (c === 0x5b) return arrayEnd(text, p, depth, (_key, start, d) => (text.charCodeAt(start) === 0x7b ? object(start, d) : undefined));
  return valueEnd(text, p, depth);
}

/** The end of a configuration object; every secret_key of it is found. */
function secretsOf(text: string, p: number, depth: number, out: Finding[]): number {
  return objectEnd(text, p, depth, (key, start) => {
    if (key !== 'secret_key' || text.charCodeAt(start) !== 0x22) return undefined;
    const end = stringEnd(text, start);
    const m = SECRET_VALUE_RE.exec(text.slice(start + 1, end - 1));
    if (m) {
      const at = start + (m[1] === undefined ? 1 : 2);
      out.push({ type: 'AWS_SECRET_KEY', start: at, end: at + 40 });
    }
    return end;
  });
}

/** The end of the value of a "provider" key (its aws objects) or a "backend" key (its s3 ones). */
function walk(text: string, kind: string, p: number, out: Finding[]): number {
  const named = kind === 'provider' ? 'aws' : 's3';
  // The key's value, or each object of its list: providers or backends by name.
  return eachObject(text, p, 0, (holder, depth) => {
    let typed = false;
    let config = -1;
    const end = objectEnd(text, holder, depth, (key, start, d) => {
      // The aws (or s3) value: one configuration, or a list of them (aliases).
      if (key === named) return eachObject(text, start, d, (c, cd) => secretsOf(text, c, cd, out));
      if (kind !== 'backend') return undefined;
      // The state's form: {"type": "s3", "config": {...}}, in either order.
      if (key === 'type') {
        const typeEnd = valueEnd(text, start, d);
        typed = text.slice(start, typeEnd) === '"s3"';
        return typeEnd;
      }
      if (key === 'config' && text.charCodeAt(start) === 0x7b) config = start;
      return undefined;
    });
    if (typed && config !== -1) secretsOf(text, config, depth + 1, out);
    return end;
  });
}

export function terraformJsonSecrets(text: string): Finding[] {
  const out: Finding[] = [];
  START_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = START_RE.exec(text)) !== null) {
    const start = blanksEnd(text, m.index + m[0].length);
    let end: number;
    try {
      end = walk(text, m[1]!, start, out);
    } catch (err) {
      if (err !== NOT_JSON) throw err;
      end = NOT_JSON.at;
    }
    START_RE.lastIndex = Math.max(START_RE.lastIndex, end);
  }
  return out;
}
