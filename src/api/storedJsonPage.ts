/**
 * Answers that carry stored events: each one's JSON text, read from the database as it is stored
 * (payload::text), is written into the answer as it is, never parsed and serialised again. A page of
 * 1,000 large events (6.5 MB) parsed by the driver and written again by the serializer held the API's
 * one thread for 0.2-0.3 s, for every organization; spliced in, the page costs half that and carries
 * the events as stored. (The API stores JSON.stringify's text, which a webhook destination receives as
 * it is: siem/types.ts's eventJson. A row written otherwise, by hand in SQL, comes as it was written.)
 */

/** A JSON text as stored (valid JSON: the database checked it), to be written into an answer as it is. */
export class StoredJson {
  constructor(readonly text: string) {}
}

// Only these are walked: anything else (a Date, an object with toJSON) is left to JSON.stringify, so
// the text is JSON.stringify's wherever no StoredJson is involved.
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * What a response schema says of a value's shape, as far as writing it needs: an object's declared
 * properties (only those are written, as Fastify's own serializer writes only them: a field a query
 * returns, or a spread adds, is no field of the answer until its schema says so) and an array's items.
 * Unions are read as the union of their branches' properties. No schema, or one that declares no
 * properties (`Type.Unknown`, a map with additionalProperties), leaves the value whole.
 */
interface Shape {
  properties?: Record<string, Shape>;
  additionalProperties?: unknown;
  items?: Shape;
  anyOf?: Shape[];
  oneOf?: Shape[];
  allOf?: Shape[];
}

/** propertiesOf's answers: a page's thousand items share one schema, read once. */
const declaredOf = new WeakMap<Shape, Record<string, Shape> | null>();

/** `shape`'s declared properties, its unions' branches' merged, or null when it declares none (anything goes). */
function propertiesOf(shape: Shape | undefined): Record<string, Shape> | null {
  if (!shape) return null;
  let known = declaredOf.get(shape);
  if (known === undefined) declaredOf.set(shape, (known = readProperties(shape)));
  return known;
}

function readProperties(shape: Shape): Record<string, Shape> | null {
  const branches = [...(shape.anyOf ?? []), ...(shape.oneOf ?? []), ...(shape.allOf ?? [])];
  if (!shape.properties && branches.length === 0) return null;
  if (shape.additionalProperties !== undefined && shape.additionalProperties !== false) return null;
  const merged: Record<string, Shape> = { ...shape.properties };
  for (const b of branches) {
    if (typeof b !== 'object' || b === null || (!b.properties && !b.anyOf && !b.oneOf && !b.allOf)) continue;
    const props = propertiesOf(b);
    if (props === null) return null;
    Object.assign(merged, props);
  }
  return merged;
}

/** `shape`'s array items, its unions' first that has some. */
function itemsOf(shape: Shape | undefined): Shape | undefined {
  if (!shape) return undefined;
  if (shape.items) return shape.items;
  for (const b of [...(shape.anyOf ?? []), ...(shape.oneOf ?? [])]) if (typeof b === 'object' && b !== null && b.items) return b.items;
  return undefined;
}

/** undefined where JSON.stringify leaves a value out (undefined, a function, a symbol). */
function write(value: unknown, shape: Shape | undefined): string | undefined {
  if (value instanceof StoredJson) return value.text;
  if (Array.isArray(value)) {
    const items: string[] = [];
    const itemShape = itemsOf(shape);
    // By index, not map: a hole is written null, as JSON.stringify does.
    for (let i = 0; i < value.length; i++) items.push(write(value[i], itemShape) ?? 'null');
    return `[${items.join(',')}]`;
  }
  if (isPlainObject(value)) {
    const declared = propertiesOf(shape);
    const fields: string[] = [];
    for (const [key, v] of Object.entries(value)) {
      if (declared !== null && !Object.hasOwn(declared, key)) continue;
      const text = write(v, declared?.[key]);
      if (text !== undefined) fields.push(`${JSON.stringify(key)}:${text}`);
    }
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * JSON.stringify's text of `value`, each StoredJson in it written as its stored text; with a response
 * schema, an object's fields the schema does not declare are left out.
 */
export function storedJsonText(value: unknown, schema?: unknown): string {
  return write(value, schema as Shape | undefined) ?? JSON.stringify(value);
}

/**
 * The serializerCompiler of a route whose answers hold StoredJson: every answer of the route (its
 * errors too, which hold none) is written by storedJsonText, by the schema of its status. The
 * schemas still document the answer (the OpenAPI document) and say what is written, as they do for
 * every other route; a schema-driven serializer would instead write each stored event again, field by
 * field, from a parsed copy.
 */
export const storedJsonSerializerCompiler =
  ({ schema }: { schema: unknown }) =>
  (data: unknown): string =>
    storedJsonText(data, schema);
