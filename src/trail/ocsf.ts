/**
 * The OCSF form of a configuration trail event (contract.ts): an OCSF 1.8.0 Entity Management event
 * (class_uid 3004, category Identity & Access Management). A trail event records an administrator
 * (an API key or a dashboard session) creating, changing, enabling, disabling or deleting a managed
 * object, the forwarding destination, at a management API: that is what Entity Management describes
 * ("activity by ... a user at a management console ... a create, read, update, and delete operation
 * on a managed entity"), with activities for each action (Create, Update, Enable, Disable, Delete).
 * It is not a finding (nothing was detected), and API Activity (6003) would require an `api` object
 * and a source endpoint that the event does not carry. docs/trail.md maps every field both ways.
 *
 * Built from the trail event and nothing else, so it carries the same names and ids and never a
 * value: the changed fields are named in `unmapped.aegis.changed_fields` (OCSF has no attribute for
 * the names of changed settings; `entity.data` would be the entity's content, i.e. values).
 * src/trail/ocsf.test.ts checks every number and caption here against the vendored schema.
 */
import { getPresetInfo, type SiemId } from '../siem/catalog.js';
import { OCSF_VERSION, ocsfProduct, ocsfTime, type OcsfEnumValue, type OcsfProduct } from '../events/ocsfCommon.js';
import type { TrailAction, TrailEvent } from './contract.js';

/** Identity & Access Management (categories.json "iam"). */
export const OCSF_TRAIL_CATEGORY = { uid: 3, name: 'Identity & Access Management' } as const;
/** Entity Management: category 3 * 1000 + class 4. */
export const OCSF_TRAIL_CLASS = { uid: 3004, name: 'Entity Management' } as const;
/** metadata.product.feature.name of every trail event. */
export const OCSF_TRAIL_FEATURE = 'Configuration trail';

/** The managed entity's type: not one of managed_entity.type_id's (Device, User, Policy, ...), so 99 Other with `type`. */
export const OCSF_ENTITY_OTHER: OcsfEnumValue = { id: 99, name: 'Other' };
export const OCSF_ENTITY_TYPE = {
  destination: 'Forwarding Destination',
  notificationSettings: 'Notification Settings',
  storedSecrets: 'Stored Secrets',
} as const;

/**
 * activity_id of each action. Credential and signing secret changes are updates of the destination
 * (they are settings of it, not entities of their own); enabling and disabling are Enable / Disable
 * ("a semi-permanent, editor visible, syncable change", unlike the transient Activate / Deactivate).
 * A replay and a test change nothing: no Entity Management activity describes them, so they are 99
 * Other with the activity named in activity_name (OCSF's rule for 99).
 */
export const OCSF_ACTIVITY_BY_TRAIL_ACTION: Readonly<Record<TrailAction, OcsfEnumValue>> = {
  destination_created: { id: 1, name: 'Create' },
  destination_updated: { id: 3, name: 'Update' },
  credential_rotated: { id: 3, name: 'Update' },
  credential_removed: { id: 3, name: 'Update' },
  signing_secret_rotated: { id: 3, name: 'Update' },
  destination_enabled: { id: 8, name: 'Enable' },
  destination_disabled: { id: 9, name: 'Disable' },
  destination_deleted: { id: 4, name: 'Delete' },
  replay_requested: { id: 99, name: 'Replay' },
  test_sent: { id: 99, name: 'Test' },
  notification_settings_changed: { id: 3, name: 'Update' },
  encryption_key_rotated: { id: 3, name: 'Update' },
};

/**
 * severity_id: every change is 1 Informational ("no action required"), except disabling or deleting
 * a destination, 2 Low ("the user decides if action is needed"): a SIEM stops receiving the audit
 * stream, which its owners may want to confirm was meant (turning off audit logging is a classic way
 * to hide what follows).
 */
export const OCSF_TRAIL_SEVERITY = {
  informational: { id: 1, name: 'Informational' },
  low: { id: 2, name: 'Low' },
} as const satisfies Record<string, OcsfEnumValue>;

/** status_id from event.outcome. */
export const OCSF_TRAIL_STATUS = {
  success: { id: 1, name: 'Success' },
  failure: { id: 2, name: 'Failure' },
} as const satisfies Record<string, OcsfEnumValue>;

/** programmatic_credential.type of an API key actor. */
export const OCSF_API_KEY_CREDENTIAL = 'API Key';

export interface OcsfManagedEntity {
  uid?: string;
  name: string;
  type: string;
  type_id: number;
}

/** The OCSF event a trail event becomes. */
export interface OcsfTrailEvent {
  activity_id: number;
  activity_name: string;
  category_uid: number;
  category_name: string;
  class_uid: number;
  class_name: string;
  type_uid: number;
  type_name: string;
  severity_id: number;
  severity: string;
  status_id: number;
  status: string;
  time: number;
  timezone_offset: number;
  message: string;
  actor: {
    user: { uid: string; name: string; org: { uid: string }; programmatic_credentials?: Array<{ uid: string; type: string }> };
    session?: { uid: string };
  };
  entity: OcsfManagedEntity;
  metadata: {
    version: string;
    product: OcsfProduct;
    uid: string;
    tenant_uid: string;
    source: string;
    event_code: string;
  };
  unmapped: { aegis: { action: TrailAction; actor_type: TrailEvent['aegis']['actor_type']; changed_fields: string[]; siem?: SiemId } };
}

function managedEntity(action: TrailAction, a: TrailEvent['aegis']): OcsfManagedEntity {
  if (action === 'encryption_key_rotated') {
    // The organization's sealed credentials and secrets, re-encrypted together by the command line.
    return { name: 'Stored secrets', type: OCSF_ENTITY_TYPE.storedSecrets, type_id: OCSF_ENTITY_OTHER.id };
  }
  if (a.destination_id === undefined) {
    // notification_settings_changed: the organization's notification settings, one per organization.
    return { name: 'Notification settings', type: OCSF_ENTITY_TYPE.notificationSettings, type_id: OCSF_ENTITY_OTHER.id };
  }
  // The trail names a destination by id and preset, never by its own (configured) name: the
  // preset's label is what the dashboard shows for it too when it has none.
  return {
    uid: a.destination_id,
    name: a.siem ? getPresetInfo(a.siem).label : a.destination_id,
    type: OCSF_ENTITY_TYPE.destination,
    type_id: OCSF_ENTITY_OTHER.id,
  };
}

/** The OCSF Entity Management event for one configuration trail event. */
export function toOcsfTrailEvent(trail: TrailEvent): OcsfTrailEvent {
  const a = trail.aegis;
  const action = trail.event.action;
  const activity = OCSF_ACTIVITY_BY_TRAIL_ACTION[action];
  if (!activity) throw new Error(`unknown trail action: ${String(action)}`);
  const severity = action === 'destination_disabled' || action === 'destination_deleted' ? OCSF_TRAIL_SEVERITY.low : OCSF_TRAIL_SEVERITY.informational;
  const status = trail.event.outcome === 'failure' ? OCSF_TRAIL_STATUS.failure : OCSF_TRAIL_STATUS.success;
  const orgId = trail.organization.id;
  // The actor's id is a digest prefix (key_ / ses_ / cli_ + 16 hex), never the key or the session token.
  const user: OcsfTrailEvent['actor']['user'] = { uid: a.actor_id, name: a.actor_id, org: { uid: orgId } };
  const actor: OcsfTrailEvent['actor'] = { user };
  if (a.actor_type === 'api_key') user.programmatic_credentials = [{ uid: a.actor_id, type: OCSF_API_KEY_CREDENTIAL }];
  else if (a.actor_type === 'dashboard_session') actor.session = { uid: a.actor_id };
  // cli: an operator's shell on a host; neither a credential nor a session, so the user alone.
  const unmapped: OcsfTrailEvent['unmapped']['aegis'] = { action, actor_type: a.actor_type, changed_fields: [...a.changed_fields] };
  if (a.siem !== undefined) unmapped.siem = a.siem;
  return {
    activity_id: activity.id,
    activity_name: activity.name,
    category_uid: OCSF_TRAIL_CATEGORY.uid,
    category_name: OCSF_TRAIL_CATEGORY.name,
    class_uid: OCSF_TRAIL_CLASS.uid,
    class_name: OCSF_TRAIL_CLASS.name,
    type_uid: OCSF_TRAIL_CLASS.uid * 100 + activity.id,
    // 99: the class's "Other" type (OCSF names type_uid NNNN99 "<class>: Other"); activity_name says which.
    type_name: `${OCSF_TRAIL_CLASS.name}: ${activity.id === 99 ? 'Other' : activity.name}`,
    severity_id: severity.id,
    severity: severity.name,
    status_id: status.id,
    status: status.name,
    time: ocsfTime(trail['@timestamp']),
    // @timestamp is always written in UTC (+00:00).
    timezone_offset: 0,
    message: a.summary,
    actor,
    entity: managedEntity(action, a),
    metadata: {
      version: OCSF_VERSION,
      product: ocsfProduct(OCSF_TRAIL_FEATURE),
      uid: trail.event.id,
      tenant_uid: orgId,
      source: trail.event.dataset,
      event_code: action,
    },
    unmapped: { aegis: unmapped },
  };
}
