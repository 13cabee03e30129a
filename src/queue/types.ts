/** A claimed job as the worker sees it (the row plus its event's wire payload). */
export interface ClaimedJob {
  id: number;
  orgId: string;
  eventId: string;
  /** Attempts already made before this one. */
  attempts: number;
  createdAt: Date;
  /**
   * A disabled or deleted destination's farewell (queue/farewell.ts). A runner that claimed one asks,
   * when it ends, whether its destination was deleted meanwhile and can now go.
   */
  farewell: boolean;
  /** When the job's spell of sheds for load began, and when it was due again after the latest (migration 0019); null if never shed. */
  shedSince: Date | null;
  shedDueAt: Date | null;
  /** The event's stored JSON text (the wire or trail event), unparsed: siem/storedEvent.ts reads it. */
  payloadJson: string;
  /** The database's clock when the job was claimed: ages are measured by it, as every other age rule is. */
  claimedAt: Date;
}

/** How one job ended in one delivery attempt, as the settle statement applies it. */
export type JobOutcome =
  | { id: number; outcome: 'done' }
  /** Due again `delayMs` after the database's now() (the schedule: delivery/outcome.ts schedule()). */
  | { id: number; outcome: 'retry'; error: string; statusCode: number | null; delayMs: number }
  /** Dead-lettered: refused for good, or `outOfRetries` (its error then says so: outOfRetriesError). */
  | { id: number; outcome: 'failed'; error: string; statusCode: number | null; outOfRetries?: true };

export const JOBS_CHANNEL = 'aegis_jobs';
/**
 * The payload on JOBS_CHANNEL when a destination's settings change (followed by its id): a worker
 * sending a claim under the old settings stops sending the rest of it (delivery/deliverClaim.ts).
 */
export const SETTINGS_CHANGED = 'settings:';
/** The NOTIFY that says so, for the statement that changes the row (`id` names the changed row's id column). */
export const notifySettingsChanged = (id: string): string => `pg_notify('${JOBS_CHANNEL}', '${SETTINGS_CHANGED}' || ${id})`;
