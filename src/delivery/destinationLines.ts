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
