/** A claimed job as the worker sees it (the row plus its event's wire payload). */
export interface ClaimedJob {
  id: number;
  orgId: string;
  eventId: string;
  /** Attempts already made before this one. */
  attempts: number;
  createdAt: Date;
  payload: unknown;
}

/** How one job ended in one delivery attempt. */
export type JobOutcome =
  | { id: number; outcome: 'done' }
  | { id: number; outcome: 'retry'; error: string; statusCode: number | null; retryAfterMs?: number }
  | { id: number; outcome: 'failed'; error: string; statusCode: number | null };

export const JOBS_CHANNEL = 'aegis_jobs';
