/**
 * Where every count of a destination's queue stops: the API's pending_events, failed_events and the
 * dead-letter list's total, the /metrics queue gauges, the dashboard's "10,000+". A count reads at most
 * this many index entries, so a request or a scrape costs the same whatever the backlog, and a count
 * that answers it means "at least this many". Browser-safe, so the dashboard reads the same number.
 */
export const QUEUE_COUNT_CAP = 10_000;

/** How the API's descriptions say it: `counted up to 10,000: 10000 means "at least 10,000"`. */
export const CAPPED_COUNT = `counted up to ${QUEUE_COUNT_CAP.toLocaleString('en-US')}: ${QUEUE_COUNT_CAP} means "at least ${QUEUE_COUNT_CAP.toLocaleString('en-US')}"`;
