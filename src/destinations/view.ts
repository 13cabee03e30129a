import type { DestinationView } from '../api/schemas/destinations.js';
import type { DestinationWithCounts } from './row.js';
import { destinationStatus } from './status.js';
import { authView } from './oauth2.js';
import { configuredLimits } from '../delivery/configuredLimits.js';
import { shownUrl } from '../delivery/urlSecrets.js';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** AEGIS_MAX_HOLD_HOURS's default, for views built without the configuration. */
export const DEFAULT_MAX_HOLD_HOURS = 168;

/** Why the worker leaves the destination alone now; the hold limit wins (it needs the user). */
function pausedReason(row: DestinationWithCounts, now: Date): DestinationView['paused_reason'] {
  if (!row.enabled) return null;
  if (row.hold_paused_at) return 'hold_limit';
  return row.paused_until && new Date(row.paused_until) > now ? 'circuit_breaker' : null;
}

/** The API (and dashboard) view of a destination. Sealed credentials never leave this function, nor a credential in the URL (shownUrl). */
export function toView(row: DestinationWithCounts, now = new Date(), maxHoldHours = DEFAULT_MAX_HOLD_HOURS): DestinationView {
  return {
    destination_id: row.id,
    name: row.name,
    // Not Sentinel's: it holds no credential (Entra ID's token is), and its stream and rule ids, which
    // its errors name, look random enough to be masked, breaking the dashboard's form that edits them.
    url: row.siem === 'microsoft_sentinel' ? row.url : shownUrl(row.url),
    auth_header_name: row.auth_header_name,
    auth_header_configured: row.auth_header_sealed !== null,
    enabled: row.enabled,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    siem: row.siem,
    format: row.format,
    status: destinationStatus(row, now),
    last_delivery_at: iso(row.last_delivery_at),
    last_error: row.last_error,
    last_error_at: iso(row.last_error_at),
    last_test_delivered_at: iso(row.last_test_ok_at),
    options: row.options,
    delivery_limits: (() => {
      const l = configuredLimits(row.siem, row.options);
      return { max_events_per_second: l.eventsPerSecond, max_concurrent_requests: l.concurrentRequests };
    })(),
    filter: row.filter,
    signing_enabled: row.signing_secret_sealed !== null,
    auth: authView(row.auth, row.auth_client_secret_sealed !== null),
    previous_signing_secret_until:
      row.previous_signing_secret_sealed && row.previous_signing_secret_until && new Date(row.previous_signing_secret_until) > now
        ? iso(row.previous_signing_secret_until)
        : null,
    pending_events: row.pending_events,
    oldest_pending_at: iso(row.oldest_pending_at),
    failed_events: row.failed_events,
    paused_until: row.paused_until && new Date(row.paused_until) > now ? iso(row.paused_until) : null,
    paused_reason: pausedReason(row, now),
    failing_since: iso(row.failing_since),
    hold_limit_at:
      row.enabled && row.failing_since && !row.hold_paused_at ? new Date(new Date(row.failing_since).getTime() + maxHoldHours * 3_600_000).toISOString() : null,
  };
}
