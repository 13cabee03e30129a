import { DESTINATION_NAME_MAX } from '../api/schemas/destinations.js';
import { invalid } from '../errors.js';

// C0/C1 controls (line breaks, tabs, escape sequences), Unicode line and paragraph separators, the
// invisible spaces and joiners that hide in a word (U+200B, U+2060-2064, U+FEFF), and the
// bidirectional embedding/override/isolate marks, which could make a name render as another one. The
// same set as the event schema's free-text pattern (schemas/audit-event.schema.json, Summary).
const FORBIDDEN = /[\p{Cc}\u200B\u2028\u2029\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/u;

/**
 * The one rule for a destination's optional name: trimmed, 1 to DESTINATION_NAME_MAX characters
 * (code points, as the database counts them), no control characters. null stays null (no name).
 */
export function checkDestinationName(raw: string | null): string | null {
  if (raw === null) return null;
  if (FORBIDDEN.test(raw)) throw invalid('name', 'must not contain line breaks, tabs, other control characters, invisible spaces or bidirectional marks');
  const name = raw.trim();
  const length = [...name].length;
  if (length === 0) throw invalid('name', 'must not be blank; send null to remove the name');
  if (length > DESTINATION_NAME_MAX) throw invalid('name', `must be at most ${DESTINATION_NAME_MAX} characters`);
  return name;
}
