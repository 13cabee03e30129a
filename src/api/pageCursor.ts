import { invalid } from '../errors.js';

/**
 * Opaque page cursors of the REST lists (delivery log, destinations): base64url of a versioned
 * prefix and the position fields. Opaque to clients (they pass next_cursor back as is), so the form
 * can change without breaking them. Not authenticated: every list query is bounded by the caller's
 * organization, so an edited cursor can only start another page of the caller's own data. (The pull
 * API's cursor is encrypted instead, src/events/pullCursor.ts: its positions are server-wide
 * transaction ids, which must not be readable.)
 */
export function encodePageCursor(prefix: string, fields: readonly string[]): string {
  return Buffer.from(`${prefix}${fields.join('|')}`).toString('base64url');
}

/** The fields a cursor holds, or a 400 naming `cursor` when the text is not one this API gave out for this list. */
export function decodePageCursor(prefix: string, cursor: string, count: number): string[] {
  const refuse = () => invalid('cursor', 'is not a cursor this API gave out; pass next_cursor from the previous page as is');
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) throw refuse();
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(prefix)) throw refuse();
  const fields = text.slice(prefix.length).split('|');
  if (fields.length !== count) throw refuse();
  return fields;
}
