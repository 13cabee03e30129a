/** One reason a document does not satisfy the contract. Never contains a submitted value. */
export interface Violation {
  /** JSON-pointer-like location, e.g. "/aegis/summary" or "/events/3/actor_id" ("" = the whole document). */
  path: string;
  message: string;
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
