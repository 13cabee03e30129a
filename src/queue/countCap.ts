/**
 * Where every count of a destination's queue stops: the API's pending_events, failed_events and the
 * dead-letter list's total, the /metrics queue gauges, the dashboard's "10,000+". A count reads at most
 * this many index entries, so a request or a scrape costs the same whatever the backlog, and a count
 * that answers it means "at least this many". Browser-safe, so the dashboard reads the same number.
 */
export const QUEUE_COUNT_CAP = 10_000;
