/**
 * AWS secret keys in Terraform's JSON syntax (*.tf.json, and the backend state Terraform writes), where
 * a generic "secret_key" says AWS only through where it stands:
 *   "provider": {"aws": {..., "secret_key": "..."}}, the aws configurations as a list (aliases), the
 *   provider objects as a list ("provider": [{"google": {...}}, {"aws": [...]}]);
 *   "backend": {"s3": {..., "secret_key": "..."}};
 *   "backend": {"type": "s3", "config": {..., "secret_key": "..."}} (.terraform/terraform.tfstate);
 *   "provider_config": {"aws": {"expressions": {"secret_key": {"constant_value": "..."}}}} (a plan
 *   as terraform show -json writes it, which policy checks read and log).
 * A regex cannot follow JSON's nesting (a brace inside a string, a tags map three levels deep, an
 * endpoints map of any length), so this walks the value after each "provider" or "backend" key as
 * JSON: strings, objects and arrays to any length and up to MAX_DEPTH levels, a "provider" or
 * "backend" key met on the way walked as one (a Terraform document inside another JSON document).
 * Every secret_key of every aws object is found, not only the first.
 *
 * The text is the normalizer's (events/normalize.ts): a document escaped inside a JSON string reads
 * as plain JSON, but so does an escaped quote inside one of its strings ("Team \"Blue\"" reads as
 * "Team "Blue""). So a quote ends a string only where JSON could go on after it (a comma, a colon, a
 * closing bracket, the text's end); a string that holds JSON of its own still breaks the walk, and
 * cloudKeys.ts's bounded regex for the same blocks covers what stands after that.
 *
 * Linear: a walk reports failure by its return value (no stack unwound by a throw per start), and the
 * search for the next key resumes after what a walk read, so no character is walked twice.
 */
import type { Finding } from '../findings.js';

const START_KEYS = ['provider', 'provider_config', 'backend'];
/** Blanks a start key may have before its colon. */
const MAX_KEY_BLANKS = 64;
const START_RE = new RegExp(`"(${START_KEYS.join('|')})"[ \\t]{0,${MAX_KEY_BLANKS}}:`, 'g');
/**
 * The longest start key with its quotes and blanks: how far before where a walk ended (or failed,
 * at the colon after it) a key the walk read as the end of a string may start.
 */
const START_KEY_SPAN = Math.max(...START_KEYS.map((k) => k.length)) + 2 + MAX_KEY_BLANKS;
function isStartKey(key: string): boolean {
  return START_KEYS.includes(key);
}
/**
 * The start key a member's key is, or ends in: text before a document that opened a string the
 * walk took for a key ('"provider": {" then {"provider": ...' reads as the key ' then {"provider').
 */
function startKeyOf(key: string): string | null {
  if (isStartKey(key)) return key;
  const quote = key.lastIndexOf('"');
  return quote !== -1 && isStartKey(key.slice(quote + 1)) ? key.slice(quote + 1) : null;
}
/** A plan names an aliased or a module's provider "aws.west", "module.net:aws". */
const PLAN_AWS_RE = /^(?:module\.[^:]{1,200}:)?aws(?:\.[A-Za-z0-9_-]{1,64})?$/;
/** Deeper than any Terraform document needs, even inside another document; bounds the recursion. */
const MAX_DEPTH = 64;
/**
 * The secret as a whole string value at its opening quote: maybe in a placeholder's angle brackets,
 * or with the line break a file gave it.
 */
const SECRET_RE = /"(?:<([A-Za-z0-9/+]{40})>|([A-Za-z0-9/+]{40}))[ \t]{0,4}"/y;
/** What a walk returns when the text is no JSON where it looked (Walker.failedAt says where). */
const FAILED = -1;

/**
 * Walks the value starting at `start`, `depth` levels down, and returns where it ends (or FAILED). A
 * visitor given a member's key (or '' for an array's element) may walk the value itself and return
 * its end, or return undefined to have it walked as any value.
 */
type Visit = (key: string, start: number, depth: number) => number | undefined;

class Walker {
  /** Where the last failed walk found the text is no JSON, or the quote of the key to search again from. */
  failedAt = 0;
  /** Whether failedAt is a key's quote. */
  private failedAtKey = false;

  constructor(
    private readonly text: string,
    private readonly out: Finding[],
  ) {}

  private fail(at: number): number {
    this.failedAt = at;
    this.failedAtKey = false;
    return FAILED;
  }

  blanksEnd(p: number): number {
    const { text } = this;
    let q = p;
    for (let c = text.charCodeAt(q); c === 0x20 || c === 0x09; c = text.charCodeAt(++q));
    return q;
  }

  /** The end of the string whose quote is at p (after its closing quote). */
  private stringEnd(p: number): number {
    const { text } = this;
    for (let q = p + 1; q < text.length; q++) {
      const c = text.charCodeAt(q);
      if (c === 0x5c) q++;
      else if (c === 0x22 && this.endsString(q + 1)) return q + 1;
    }
    return this.fail(text.length);
  }

  /** Whether JSON could go on at q after a string: a decoded inner quote is followed by its text. */
  private endsString(q: number): boolean {
    const r = this.blanksEnd(q);
    const c = this.text.charCodeAt(r);
    return r >= this.text.length || c === 0x2c || c === 0x3a || c === 0x7d || c === 0x5d;
  }

  /** The end of the value at p (p at its first character), `depth` levels down. */
  private valueEnd(p: number, depth: number): number {
    const { text } = this;
    const c = text.charCodeAt(p);
    if (c === 0x22) return this.stringEnd(p);
    if (c === 0x7b) return this.objectEnd(p, depth);
    if (c === 0x5b) return this.arrayEnd(p, depth);
    // A number, true, false or null: up to a blank, a comma or a closing bracket.
    let q = p;
    for (let d = c; q < text.length && d !== 0x20 && d !== 0x09 && d !== 0x2c && d !== 0x5d && d !== 0x7d; d = text.charCodeAt(++q));
    return q === p ? this.fail(p) : q;
  }

  /** A member's value: walked by `visit` if it takes it, as a Terraform key's if it is one, or as any value. */
  private member(visit: Visit | undefined, key: string, start: number, depth: number): number {
    const end = visit?.(key, start, depth);
    if (end !== undefined) return end;
    const startKey = startKeyOf(key);
    if (startKey !== null) return this.walk(startKey, start, depth);
    return this.valueEnd(start, depth);
  }

  /**
   * The end of the object or array whose opening bracket is at p and whose closing one is `close`:
   * `item` reads each member from its first character and returns its end (or FAILED).
   */
  private listEnd(p: number, depth: number, close: number, item: (q: number) => number): number {
    const { text } = this;
    if (depth >= MAX_DEPTH) return this.fail(p);
    let q = this.blanksEnd(p + 1);
    if (text.charCodeAt(q) === close) return q + 1;
    for (;;) {
      const end = item(q);
      if (end === FAILED) return FAILED;
      q = this.blanksEnd(end);
      if (text.charCodeAt(q) === close) return q + 1;
      if (text.charCodeAt(q) !== 0x2c) return this.fail(q);
      q = this.blanksEnd(q + 1);
    }
  }

  /** The end of the object whose brace is at p, each member's value walked by `visit` if it takes it. */
  private objectEnd(p: number, depth: number, visit?: Visit): number {
    const { text } = this;
    return this.listEnd(p, depth, 0x7d, (keyQuote) => {
      if (text.charCodeAt(keyQuote) !== 0x22) return this.fail(keyQuote);
      const keyEnd = this.stringEnd(keyQuote);
      if (keyEnd === FAILED) return FAILED;
      const key = text.slice(keyQuote + 1, keyEnd - 1);
      const colon = this.blanksEnd(keyEnd);
      if (text.charCodeAt(colon) !== 0x3a) return this.fail(colon);
      const end = this.member(visit, key, this.blanksEnd(colon + 1), depth + 1);
      // A Terraform key whose walk failed here (past the depth limit, say, under text that only
      // read as JSON) is searched for again from its quote, and walked from the top: the innermost
      // such key, so that nested keys failing together are walked again once each, not once per
      // key around them.
      if (end === FAILED && startKeyOf(key) !== null && !this.failedAtKey) {
        this.failedAt = keyQuote;
        this.failedAtKey = true;
      }
      return end;
    });
  }

  /** The end of the array whose bracket is at p, each element walked by `visit` if it takes it. */
  private arrayEnd(p: number, depth: number, visit?: Visit): number {
    return this.listEnd(p, depth, 0x5d, (q) => this.member(visit, '', q, depth + 1));
  }

  /** The end of the value at p, `object` walking it if it is an object, or each object of it if it is an array. */
  private eachObject(p: number, depth: number, object: (start: number, depth: number) => number): number {
    const c = this.text.charCodeAt(p);
    if (c === 0x7b) return object(p, depth);
    if (c === 0x5b) return this.arrayEnd(p, depth, (_key, start, d) => (this.text.charCodeAt(start) === 0x7b ? object(start, d) : undefined));
    return this.valueEnd(p, depth);
  }

  /**
   * The end of a configuration object; every secret_key of it is found. A plan's configuration
   * (terraform show -json, provider_config) holds it as {"expressions": {"secret_key":
   * {"constant_value": "..."}}}.
   */
  private secretsOf(p: number, depth: number, out: Finding[]): number {
    return this.objectEnd(p, depth, (key, start, d) => {
      const c = this.text.charCodeAt(start);
      if (key === 'expressions' && c === 0x7b) return this.secretsOf(start, d, out);
      if (key !== 'secret_key') return undefined;
      if (c === 0x22) return this.secretValue(start, out);
      if (c === 0x7b)
        return this.objectEnd(start, d, (k, s) => (k === 'constant_value' && this.text.charCodeAt(s) === 0x22 ? this.secretValue(s, out) : undefined));
      return undefined;
    });
  }

  /**
   * The end of the string at p, found as a secret when it is one: the value and its closing quote,
   * whatever follows (a document cut short, or inside code). Read as a string of decoded inner quotes,
   * a value of 40 characters would end at that same quote, so this reading is the only one.
   */
  private secretValue(p: number, out: Finding[]): number {
    SECRET_RE.lastIndex = p;
    const m = SECRET_RE.exec(this.text);
    if (!m) return this.stringEnd(p);
    const at = p + (m[1] === undefined ? 1 : 2);
    out.push({ type: 'AWS_SECRET_KEY', start: at, end: at + 40 });
    // Where JSON goes on, the string ended there; else the quote was a decoded inner one, and the
    // string, found already, is read on to its end.
    return this.endsString(p + m[0].length) ? p + m[0].length : this.stringEnd(p);
  }

  /**
   * The end of the value of a "provider" key (its aws objects; a plan's "provider_config" the same)
   * or a "backend" key (its s3 ones).
   */
  walk(kind: string, p: number, depth: number): number {
    const named = (key: string) => (kind === 'backend' ? key === 's3' : key === 'aws' || (kind === 'provider_config' && PLAN_AWS_RE.test(key)));
    // The key's value, or each object of its list: providers or backends by name.
    return this.eachObject(p, depth, (holder, d) => {
      let typed = false;
      // The state's config, read once (a second read per level of nested backends would double
      // the work at each): its secrets are kept if the type turns out to be s3.
      const configSecrets: Finding[] = [];
      const end = this.objectEnd(holder, d, (key, start, md) => {
        // The aws (or s3) value: one configuration, or a list of them (aliases).
        if (named(key)) return this.eachObject(start, md, (c, cd) => this.secretsOf(c, cd, this.out));
        if (kind !== 'backend') return undefined;
        // The state's form: {"type": "s3", "config": {...}}, in either order.
        if (key === 'type') {
          const typeEnd = this.valueEnd(start, md);
          typed = typeEnd !== FAILED && this.text.slice(start, typeEnd) === '"s3"';
          return typeEnd;
        }
        // Once the type is known s3 (Terraform writes it first), straight to the findings: a state
        // cut short keeps them.
        if (key === 'config' && this.text.charCodeAt(start) === 0x7b) return this.secretsOf(start, md, typed ? this.out : configSecrets);
        return undefined;
      });
      if (end !== FAILED && typed) this.out.push(...configSecrets);
      return end;
    });
  }
}

export function terraformJsonSecrets(text: string): Finding[] {
  const out: Finding[] = [];
  const walker = new Walker(text, out);
  START_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = START_RE.exec(text)) !== null) {
    const end = walker.walk(m[1]!, walker.blanksEnd(m.index + m[0].length), 0);
    // From the end of what the walk read, or where it failed, less a start key's length: a key that
    // the walk read as the end of a string ('"provider": [", "provider": {...}', or an open string
    // before a document: '"provider": " then {"provider": ...') is then seen whole. Still past this
    // start, so the search moves on.
    const resume = (end === FAILED ? walker.failedAt : end) - START_KEY_SPAN;
    START_RE.lastIndex = Math.max(START_RE.lastIndex, resume);
  }
  return out;
}
