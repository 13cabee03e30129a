// A destination's configured delivery limits: its options (max_events_per_second,
// max_concurrent_requests) where set and in bounds, else its SIEM's default. What the limiter
// (limits.ts) starts from and adapts; also read by the API's schema and the destination view.
import type { SiemId } from '../siem/catalog.js';

export interface DeliveryLimits {
  eventsPerSecond: number;
  concurrentRequests: number;
}

/** Bounds of the two options (the API schema uses them; a value outside answers 400 naming the path). */
export const LIMIT_BOUNDS = {
  eventsPerSecond: { min: 1, max: 100_000 },
  concurrentRequests: { min: 1, max: 64 },
} as const;

/**
 * Defaults per SIEM, from each SIEM's documented quotas (sources cited in docs/siem/<preset>.md).
 * None of the batching SIEMs documents a per-request quota that binds below what one worker sends
 * (about 30,000 events/s when draining a backlog, docs/BENCHMARKS.md), so their event rate defaults
 * to 50,000/s and the adaptive part handles an account-level quota when the SIEM signals it. Batching
 * presets default to 3 requests in flight (the worker's lanes); a custom webhook, one event per
 * request, to 48 (3 lanes of 16), which is what the worker did before limits existed.
 */
export const DEFAULT_LIMITS: Readonly<Record<SiemId, DeliveryLimits>> = {
  splunk_hec: { eventsPerSecond: 50_000, concurrentRequests: 3 },
  datadog: { eventsPerSecond: 50_000, concurrentRequests: 3 },
  sumo_logic: { eventsPerSecond: 50_000, concurrentRequests: 3 },
  elastic: { eventsPerSecond: 50_000, concurrentRequests: 3 },
  new_relic: { eventsPerSecond: 50_000, concurrentRequests: 3 },
  // Logs Ingestion API: 12,000 requests and 2 GB per minute per DCR; 429 with Retry-After beyond.
  microsoft_sentinel: { eventsPerSecond: 50_000, concurrentRequests: 3 },
  custom: { eventsPerSecond: 10_000, concurrentRequests: 48 },
};

function positiveInt(v: unknown, bounds: { min: number; max: number }): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= bounds.min && n <= bounds.max ? n : null;
}

/** The configured limits of a destination: its options where set (and in bounds), else the SIEM's defaults. */
export function configuredLimits(siem: SiemId, options: Record<string, unknown>): DeliveryLimits {
  const d = DEFAULT_LIMITS[siem] ?? DEFAULT_LIMITS.custom;
  return {
    eventsPerSecond: positiveInt(options['max_events_per_second'], LIMIT_BOUNDS.eventsPerSecond) ?? d.eventsPerSecond,
    concurrentRequests: positiveInt(options['max_concurrent_requests'], LIMIT_BOUNDS.concurrentRequests) ?? d.concurrentRequests,
  };
}
