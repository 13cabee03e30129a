import { FREE_TEXT, FREE_TEXT_MESSAGE } from '../events/validate.js';

/** The longest organization name, in code points. */
export const ORG_NAME_MAX = 200;

/**
 * The one rule for an organization's name (set by the operator's `orgs create`): trimmed, 1 to
 * ORG_NAME_MAX characters, and none of the characters an event's free text refuses (controls,
 * invisible spaces, bidirectional marks). The name is shown on the sign-in page, in /api/session and
 * by the command line: an escape sequence in it would repaint an operator's terminal, a bidi mark
 * make it read as another organization's. The name as stored, or the problem with it.
 */
export function checkOrgName(raw: string): { name: string } | { problem: string } {
  if (!FREE_TEXT.test(raw)) return { problem: FREE_TEXT_MESSAGE };
  const name = raw.trim();
  const length = [...name].length;
  if (length === 0 || length > ORG_NAME_MAX) return { problem: `must be 1 to ${ORG_NAME_MAX} characters` };
  return { name };
}
