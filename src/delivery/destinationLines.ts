import type { Logger } from 'pino';
import { LineThrottle } from '../lineThrottle.js';

/**
 * At most one warn line a minute per destination and kind, for the lines a SIEM's answers can
 * repeat as often as a tenant sends events: "events dead-lettered" from a SIEM failing every other
 * request (it never trips the breaker), a Splunk whose ackId count keeps starting again, ack polls
 * failing with a different text each time, acks timing out. One per claim made the operator's log
 * (and bill) grow with events times destinations (an observability review). Metrics keep the counts;
 * each line says how many it stands for. Destination ids are unique, so one throttle serves every
 * worker of the process.
 */
const lines = new LineThrottle(60_000);

/** Whether the line was written (else held back, counted in the next one). */
export function warnForDestination(logger: Logger, kind: string, destinationId: string, fields: Record<string, unknown>, message: string): boolean {
  const heldBack = lines.take(`${kind}\u0000${destinationId}`);
  if (heldBack === null) return false;
  logger.warn(
    { destination_id: destinationId, ...fields, ...(heldBack > 0 ? { lines_held_back: heldBack } : {}) },
    `${message} (at most one such line a minute per destination)`,
  );
  return true;
}

/**
 * A request whose send threw (a bug: sendRequest reports every SIEM and network failure as an
 * outcome): the tenant reads a fixed sentence (interpretAnswer.ts INTERNAL_SEND_ERROR), the operator
 * this line, at most once a minute per destination. The error's class and where it was thrown, not
 * its message: a library's message may quote what the request carried (undici's invalid header value
 * quotes the header), and a credential must never reach the log.
 */
export function reportInternalSendError(logger: Logger, target: { id: string; orgId: string }, err: unknown): void {
  const heldBack = lines.take(`internal-send\u0000${target.id}`);
  if (heldBack === null) return;
  const e = err instanceof Error ? err : null;
  const at = (e?.stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 6)
    .map((l) => l.trim());
  logger.error(
    { org_id: target.orgId, destination_id: target.id, error_class: e?.name ?? typeof err, at, ...(heldBack > 0 ? { lines_held_back: heldBack } : {}) },
    'a delivery request failed inside the service before reaching the SIEM (a bug; its events are retried on the schedule; at most one such line a minute per destination)',
  );
}

/**
 * A destination's run that failed on an error that is no outage (a column renamed by hand, a revoked
 * grant, a statement a DBA's timeout cancelled): once a minute per destination and error, with how many
 * it stands for (a busy loop wrote 150 a second before: worker.ts now also holds the destination).
 */
export function reportFailedRun(logger: Logger, destinationId: string, err: unknown): void {
  const message = (err as Error).message;
  const heldBack = lines.take(`failed-run\u0000${destinationId}\u0000${message}`);
  if (heldBack === null) return;
  logger.error({ err: message, destination_id: destinationId, failed_since_last_line: heldBack }, 'destination runner failed (logged once a minute)');
}
