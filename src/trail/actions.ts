/**
 * The configuration trail's names, browser-safe (no Node imports), so the dashboard's filter builder
 * and the filters' value checks (filters/fields.ts) read the very lists the trail writes
 * (trail/contract.ts) instead of copies.
 */
export const DATASET_TRAIL = 'aegis.audit_stream';

/** The changes the trail records, in the order a single request's changes are recorded. */
export const TRAIL_ACTIONS = [
  'destination_created',
  'destination_updated',
  'credential_rotated',
  'credential_removed',
  'signing_secret_rotated',
  'destination_enabled',
  'destination_disabled',
  'destination_deleted',
  'replay_requested',
  'test_sent',
  'notification_settings_changed',
  'encryption_key_rotated',
] as const;
export type TrailAction = (typeof TRAIL_ACTIONS)[number];

/** ECS event.type of trail events (the configuration category). */
export const TRAIL_EVENT_TYPES = ['creation', 'change', 'deletion', 'access'] as const;
export type TrailEventType = (typeof TRAIL_EVENT_TYPES)[number];
