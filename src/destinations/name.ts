import { DESTINATION_NAME_MAX } from '../api/schemas/destinations.js';
import { invalid } from '../errors.js';

// C0/C1 controls (line breaks, tabs, escape sequences), Unicode line and paragraph separators, and the
// bidirectional embedding/override/isolate marks, which could make a name render as another one.
const FORBIDDEN = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

/**
 * The one rule for a destination's optional name: trimmed, 1 to DESTINATION_NAME_MAX characters
 * (code points, as the database counts them), no control characters. null stays null (no name).
 */
export function checkDestinationName(raw: string | null): string | null {
  if (raw === null) return null;
  if (FORBIDDEN.test(raw)) throw invalid('name', 'must not contain line breaks, tabs or other control characters');
  const name = raw.trim();
  const length = [...name].length;
  if (length === 0) throw invalid('name', 'must not be blank; send null to remove the name');
  if (length > DESTINATION_NAME_MAX) throw invalid('name', `must be at most ${DESTINATION_NAME_MAX} characters`);
  return name;
}
