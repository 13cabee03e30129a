import type { OrgLimits } from '../config/env.js';
import { AppError } from '../errors.js';

/**
 * Refuses a create (adding one destination, enabled or not) or an enable that would pass a cap, on
 * counts read under the organization's lock (lockOrgDestinationCounts, in the writing transaction), so
 * concurrent requests cannot each see room for one more and together pass the cap.
 */
export function checkCounts(
  counts: { total: number; enabled: number; deleting: number },
  limits: OrgLimits,
  adding: { destination: boolean; enabled: boolean },
): void {
  // Destinations deleted and not yet gone (waiting to send their farewell) count apart, under the same
  // cap: otherwise a loop of create, enable and delete kept hundreds of thousands of them at once past
  // both caps, each a target the worker kept trying (a storage review).
  if (adding.destination && counts.deleting >= limits.destinations) {
    throw new AppError(
      'limit_reached',
      `This organization has ${counts.deleting} deleted destinations still sending their farewell event, the most it may have; a new destination can be made once some of them are gone (a farewell is sent, or given up on within a day).`,
    );
  }
  if (adding.destination && counts.total >= limits.destinations) {
    throw new AppError(
      'limit_reached',
      `This organization has ${counts.total} destinations, the most it may have (AEGIS_MAX_DESTINATIONS_PER_ORG = ${limits.destinations}). Delete one first, or ask the operator to raise the cap.`,
    );
  }
  if (adding.enabled && counts.enabled >= limits.enabledDestinations) {
    throw new AppError(
      'limit_reached',
      `This organization has ${counts.enabled} enabled destinations, the most it may have at once (AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG = ${limits.enabledDestinations}). Disable one first, create this one with "enabled": false, or ask the operator to raise the cap.`,
    );
  }
}
