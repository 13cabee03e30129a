import type { BacklogLane } from './backlogLane.js';
import type { Db } from '../db/types.js';
import type { OrgLimits } from '../config/env.js';
import type { KeyRing } from '../crypto/keyring.js';
import type { FilterRouter } from '../filters/router.js';
import type { Logger } from '../logger.js';

/** What the destination operations (service.ts) and the body checks they run need from the process. */
export interface DestinationDeps {
  db: Db;
  keyRing: KeyRing;
  allowPrivate: boolean;
  /** Per-organization caps (AEGIS_MAX_DESTINATIONS_PER_ORG, AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG). */
  limits: OrgLimits;
  /** AEGIS_SIGNING_OVERLAP_HOURS: how long a rotated signing secret still signs deliveries. */
  signingOverlapHours: number;
  /** AEGIS_MAX_HOLD_HOURS: the views' hold_limit_at. */
  maxHoldHours?: number;
  /** The service's compiled filters, for the trail events recorded under the change's locks. */
  router?: FilterRouter;
  /** For what a change cannot answer once committed (a delete's backlog left to the worker). */
  logger?: Pick<Logger, 'warn'>;
  /**
   * Where a delete's backlog is cleared once the request has cleared it for DELETE_ANSWER_WITHIN_MS
   * (the API's). Without one (the command line, tests of the service alone) a delete clears it whole.
   */
  backlog?: BacklogLane;
  /** DELETE_ANSWER_WITHIN_MS, changed by tests only (0: the whole backlog goes to the lane). */
  deleteAnswerWithinMs?: number;
}
