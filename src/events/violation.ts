/** One reason a document does not satisfy the contract. Never contains a submitted value. */
export interface Violation {
  /** JSON-pointer-like location, e.g. "/aegis/summary" or "/events/3/actor_id" ("" = the whole document). */
  path: string;
  message: string;
}

/**
 * What a pattern means, said in words, for the patterns that encode a rule a reader would not decode
 * from the generic "characters or a length" message (a number range written as digits: "1 to 500").
 * By the pattern's source text; the code that builds such a pattern says what it means once, here.
 */
const PATTERN_MEANINGS = new Map<string, string>();

/** Registers what a pattern means, as a violation's message ("must be a whole number from 1 to 500"). */
export function patternMeans(pattern: string, message: string): void {
  PATTERN_MEANINGS.set(pattern, message);
}

/** The message for a value that does not match `pattern`, if its builder said what it means. */
export function patternMeaning(pattern: string): string | undefined {
  return PATTERN_MEANINGS.get(pattern);
}

/**
 * How many problems one refusal lists. A client learns every problem of an ordinary record at once;
 * a document with thousands of faults does not get a thousand-line answer.
 */
export const MAX_REPORTED_VIOLATIONS = 20;

/**
 * Listing every schema error costs one error object per faulty property or item, so a large document
 * made of faults (a 5 MiB body of unknown keys) would cost memory in proportion. Documents with more
 * JSON nodes than this are checked with first-error validation instead. An ordinary record, event or
 * request body has well under a few hundred nodes.
 */
export const ALL_ERRORS_NODE_BUDGET = 2000;

/** Whether `x` has at most `budget` JSON nodes (values, keys included); stops counting once over. */
export function withinNodeBudget(x: unknown, budget = ALL_ERRORS_NODE_BUDGET): boolean {
  let left = budget;
  const stack: unknown[] = [x];
  while (stack.length > 0) {
    const v = stack.pop();
    if (--left < 0) return false;
    if (Array.isArray(v)) stack.push(...(v as unknown[]).slice(0, left + 1));
    else if (typeof v === 'object' && v !== null) {
      const values: unknown[] = Object.values(v);
      if (values.length > left) return false;
      stack.push(...values);
    }
  }
  return true;
}

/** "/events/3/summary" -> "events[3].summary"; "" -> `whole` (the name of the document). */
export function describePath(pointer: string, whole = 'body'): string {
  if (pointer === '') return whole;
  return pointer
    .split('/')
    .slice(1)
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
}
