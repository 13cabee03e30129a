/**
 * Milliseconds on a clock that only moves forward, at the pace of real time: what the service's
 * in-memory waits and intervals are measured on (delivery rate limits and Retry-After, Splunk ack
 * deadlines, polls and lease renewals, idle pools, retries while the database is away, log-line
 * throttles), never Date.now(), which steps whenever NTP or an operator sets the system clock. Measured
 * on Date.now(), a step back of an hour left a rate-limited destination without a token, and its
 * Splunk acks unpolled and their leases unrenewed (so sent twice), for that hour; a step forward
 * ended waits at once. Epoch-like (the process's start on the wall clock plus the time since), so a
 * value reads like a time in a debugger, but it drifts from the wall clock by every step: never
 * compare it with Date.now(), a Date or a database timestamp.
 */
export const monotonicNow = (): number => performance.timeOrigin + performance.now();
