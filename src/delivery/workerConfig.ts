// The worker's configuration and collaborators, shared by the worker (worker.ts), its destination
// runners (destinationRunner.ts), the claim shell (deliverClaim.ts) and its housekeeping rounds.
import type { Db } from '../db/types.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { AlertHook } from '../alerts/alerter.js';
import type { DeliveryDeps } from './deliverBatch.js';

export interface WorkerOptions {
  intervalMs: number;
  leaseMs: number;
  retryDelaysS: number[];
  retentionDays: number;
  /**
   * AEGIS_MAX_HOLD_HOURS: a destination failing without a break this long is paused and its queue
   * dead-lettered (queue/holdLimit.ts). Checked every AEGIS_WORKER_INTERVAL_MS, at most every minute.
   */
  maxHoldHours?: number;
  /**
   * Destinations served at once by this process. Not what bounds memory or keeps tenants apart (the
   * event budget does): a runner waiting on a silent SIEM is a pending promise, so this is large.
   */
  maxDestinations?: number;
  /** Events held in memory at once across every destination (claimed, encoding or in flight). */
  maxEventsInFlight?: number;
  /** Concurrent claim-send-settle loops per destination. */
  lanesPerDestination?: number;
  /** Concurrent HTTP requests per lane (matters for one-event-per-request presets). */
  requestsPerLane?: number;
  /**
   * Jobs claimed per round for one-event-per-request presets. Larger claims amortise the claim and
   * settle statements further (256 measured in docs/BENCHMARKS.md), but everything claimed is sent
   * before a disable or a breaker pause takes effect: 64 keeps that to 4 rounds of a lane's requests.
   * While a backlog drains fast a lane's claims grow to four times this (claimPlan.ts nextClaimSize):
   * up to 16 rounds then, for a SIEM that took the previous claim within 250 ms.
   */
  singleEventClaim?: number;
  /**
   * Jobs claimed per round for batching presets, at most the preset's maxBatchEvents. Sumo Logic and
   * New Relic allow 10,000 events per request but only 1 MB, so a 10,000-job claim became ~7 requests
   * sent one after another by one lane while holding ~7 MB of events: smaller claims keep every lane
   * busy with one request each and the worker's memory flat.
   */
  batchClaim?: number;
  /** Splunk indexer acknowledgement: how long an accepted request may wait for its ack (AEGIS_SPLUNK_ACK_TIMEOUT_S). */
  splunkAckTimeoutMs?: number;
  /** Splunk indexer acknowledgement: poll interval per destination (AEGIS_SPLUNK_ACK_POLL_MS). */
  splunkAckPollMs?: number;
  /** Events one acknowledging destination may have waiting for acks before it claims no more. */
  splunkAckMaxPendingEvents?: number;
  /**
   * AEGIS_RATE_LIMITED_FAILING_AFTER_S: a SIEM that has answered only 429 this long is failing, so the
   * card, the alerts and the hold limit see it; before that a 429 is pacing.
   */
  rateLimitedFailingAfterMs?: number;
}

export interface WorkerDeps {
  db: Db;
  delivery: DeliveryDeps;
  metrics: Metrics;
  logger: Logger;
  /**
   * Told about every settle that can change a destination's state (alerts/alerter.ts): a failure, a
   * dead letter, or a success (which it ignores unless it had alerted about that destination). It
   * only schedules work of its own: nothing here waits for an alert.
   */
  alerts?: AlertHook;
}

export type WorkerConfig = Required<WorkerOptions>;

/** The options with their defaults (each documented on WorkerOptions). */
export function workerConfig(opts: WorkerOptions): WorkerConfig {
  return {
    maxHoldHours: 168,
    maxDestinations: 1000,
    maxEventsInFlight: 20_000,
    lanesPerDestination: 3,
    requestsPerLane: 16,
    singleEventClaim: 64,
    batchClaim: 1000,
    splunkAckTimeoutMs: 300_000,
    splunkAckPollMs: 2_000,
    splunkAckMaxPendingEvents: 10_000,
    rateLimitedFailingAfterMs: 900_000,
    ...opts,
  };
}
