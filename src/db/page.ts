/**
 * One page of a keyset-paginated list, read with `LIMIT limit + 1`: the extra row is never shown; it
 * only says that another page follows. Returns the rows to show, and `after`, the last of them when
 * another page follows (the next page's cursor starts after it), else null.
 */
export function keysetPage<T>(rows: readonly T[], limit: number): { rows: T[]; after: T | null } {
  const kept = rows.slice(0, limit);
  return { rows: kept, after: rows.length > limit ? (kept.at(-1) ?? null) : null };
}
