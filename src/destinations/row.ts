// The destinations row as the SQL modules read and write it: reads.ts, writes.ts, deletion.ts and
// sealedColumns.ts each hold one concern's statements over it.
import type { OutputFormat } from '../siem/outputFormat.js';
import type { SiemId } from '../siem/catalog.js';
import type { StoredOAuth2 } from './oauth2.js';

/** A destinations row as stored (snake_case). Sealed columns hold AES-GCM boxes, never plaintext. */
export interface DestinationRow {
  org_id: string;
  id: string;
  /** Only ever a value the API's `siem` enum admitted (api/schemas/destinations.ts, from siem/catalog.ts). */
  siem: SiemId;
  /** The event format sent: 'ecs' (default) or 'ocsf' (siem/outputFormat.ts). */
  format: OutputFormat;
  /** Optional human name ("Splunk prod"); null: readers show the SIEM's label. */
  name: string | null;
  url: string;
  auth_header_name: string | null;
  auth_header_sealed: Buffer | null;
  signing_secret_sealed: Buffer | null;
  /** The secret a rotation replaced: deliveries are signed with it too until the time below. */
  previous_signing_secret_sealed: Buffer | null;
  previous_signing_secret_until: Date | null;
  /** OAuth2 client credentials without the secret (destinations/oauth2.ts); null: no OAuth2. */
  auth: StoredOAuth2 | null;
  /** The OAuth2 client secret, sealed (purpose oauth_client_secret). */
  auth_client_secret_sealed: Buffer | null;
  /** Preset strings, and the integer delivery limits (max_events_per_second, max_concurrent_requests). */
  options: Record<string, string | number | boolean>;
  /** The checked filter (filters/validate.ts); null: every event. Config, never event data. */
  filter: Record<string, unknown> | null;
  enabled: boolean;
  created_at: Date;
  /**
   * Moved by every write of a column the worker reads from the row (siem, format, url, headers,
   * sealed credentials, signing overlap, auth, options, enabled, deleted_at): the PATCH
   * (writes.ts updateDestination), the delete's tombstone (deletion.ts) and key rotation's
   * re-encryption (sealedColumns.ts). The worker holds rows by it (delivery/rowCache.ts) and claims
   * under it (claimJobs' configVersion). Delivery state (breaker, last attempt, hold limit) does not
   * move it: runners read that from the scan and the claim, never from the row they hold.
   */
  updated_at: Date;
  last_delivery_at: Date | null;
  last_attempt_at: Date | null;
  last_attempt_ok: boolean | null;
  last_error: string | null;
  last_error_at: Date | null;
  last_dead_letter_at: Date | null;
  /** The order of the recorded outcomes (queue/deliveryState.ts OUTCOME_SEQ_SET, migration 0024). */
  outcome_seq: number;
  last_delivery_seq: number | null;
  last_dead_letter_seq: number | null;
  /** When a test event last reached the SIEM (tests are not live deliveries). */
  last_test_ok_at: Date | null;
  /** Set on a deleted destination whose farewell is still on its way (never shown to readers). */
  deleted_at: Date | null;
  consecutive_failures: number;
  paused_until: Date | null;
  /** Start of the current failing streak (null: the last request got through). See queue/holdLimit.ts. */
  failing_since: Date | null;
  /** When the hold limit (AEGIS_MAX_HOLD_HOURS) paused the destination; null: not paused by it. */
  hold_paused_at: Date | null;
}

/** The row with its version (queue/dueDestinations.ts ROW_VERSION: updated_at to the microsecond). */
export interface VersionedDestinationRow extends DestinationRow {
  row_version: string;
}

/**
 * What a worker keeps of a row between wake-ups (delivery/rowCache.ts): all of it but the filter,
 * which routing applies when events are recorded and a runner never reads. A filter may be 16 KB;
 * thousands of held rows carrying one each would take a large part of the worker's heap.
 */
export type RunnerRow = Omit<VersionedDestinationRow, 'filter'>;

export interface DestinationWithCounts extends DestinationRow {
  pending_events: number;
  oldest_pending_at: Date | null;
  failed_events: number;
}
