import type { DestinationView } from '../api/schemas/destinations.js';
import type { DestinationWithCounts } from './repository.js';
import { destinationStatus } from './status.js';
import { authView } from './oauth2.js';
import { configuredLimits } from '../delivery/limits.js';
import type { SiemId } from '../siem/catalog.js';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** The API (and dashboard) view of a destination. Sealed credentials never leave this function. */
export function toView(row: DestinationWithCounts, now = new Date()): DestinationView {
  return {
    destination_id: row.id,
    name: row.name,
    url: row.url,
    auth_header_name: row.auth_header_name,
    auth_header_configured: row.auth_header_sealed !== null,
    enabled: row.enabled,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    siem: row.siem,
    status: destinationStatus(row, now),
    last_delivery_at: iso(row.last_delivery_at),
    last_error: row.last_error,
    last_error_at: iso(row.last_error_at),
    last_test_delivered_at: iso(row.last_test_ok_at),
    options: row.options,
    delivery_limits: (() => {
      const l = configuredLimits(row.siem as SiemId, row.options);
      return { max_events_per_second: l.eventsPerSecond, max_concurrent_requests: l.concurrentRequests };
    })(),
    filter: row.filter,
    signing_enabled: row.signing_secret_sealed !== null,
    auth: authView(row.auth, row.auth_client_secret_sealed !== null),
    previous_signing_secret_until:
      row.previous_signing_secret_sealed && row.previous_signing_secret_until && new Date(row.previous_signing_secret_until) > now ? iso(row.previous_signing_secret_until) : null,
    pending_events: row.pending_events,
    oldest_pending_at: iso(row.oldest_pending_at),
    failed_events: row.failed_events,
    paused_until: row.paused_until && new Date(row.paused_until) > now ? iso(row.paused_until) : null,
  };
}
