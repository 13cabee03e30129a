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

/** undefined where JSON.stringify leaves a value out (undefined, a function, a symbol). */
function write(value: unknown): string | undefined {
  if (value instanceof StoredJson) return value.text;
  if (Array.isArray(value)) {
    const items: string[] = [];
    // By index, not map: a hole is written null, as JSON.stringify does.
    for (let i = 0; i < value.length; i++) items.push(write(value[i]) ?? 'null');
    return `[${items.join(',')}]`;
  }
  if (isPlainObject(value)) {
    const fields: string[] = [];
    for (const [key, v] of Object.entries(value)) {
      const text = write(v);
      if (text !== undefined) fields.push(`${JSON.stringify(key)}:${text}`);
    }
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** JSON.stringify's text of `value`, each StoredJson in it written as its stored text. */
export function storedJsonText(value: unknown): string {
  return write(value) ?? JSON.stringify(value);
}

/**
 * The serializerCompiler of a route whose answers hold StoredJson: every answer of the route (its
 * errors too, which hold none) is written by storedJsonText. The route's response schemas still
 * document the answer (the OpenAPI document); a schema-driven serializer would instead write each
 * stored event again, field by field, from a parsed copy.
 */
export const storedJsonSerializerCompiler = () => storedJsonText;
