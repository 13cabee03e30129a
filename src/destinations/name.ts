import { DESTINATION_NAME_MAX } from '../api/schemas/destinations.js';
import { invalid } from '../errors.js';
import { FREE_TEXT, FREE_TEXT_MESSAGE } from '../events/validate.js';

/**
 * The one rule for a destination's optional name: trimmed, 1 to DESTINATION_NAME_MAX characters
 * (code points, as the database counts them), no control characters. null stays null (no name).
 */
export function checkDestinationName(raw: string | null): string | null {
  if (raw === null) return null;
  // The characters an event's free text refuses (C0/C1 controls, line and paragraph separators,
  // invisible spaces, bidirectional marks), which could make a name render as another one.
  if (!FREE_TEXT.test(raw)) throw invalid('name', FREE_TEXT_MESSAGE);
  const name = raw.trim();
  const length = [...name].length;
  if (length === 0) throw invalid('name', 'must not be blank; send null to remove the name');
  if (length > DESTINATION_NAME_MAX) throw invalid('name', `must be at most ${DESTINATION_NAME_MAX} characters`);
  return name;
}
