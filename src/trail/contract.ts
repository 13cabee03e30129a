/**
 * The configuration trail's wire event: an audit event recording one change to forwarding
 * configuration, shaped like the preflight event (ECS `@timestamp`, `event`, `organization`, Aegis
 * fields under `aegis`) so every SIEM preset sends it unchanged. Published as
 * schemas/config-change-event.schema.json. Names, never values: the changed fields are listed by
 * name, and nothing in the event comes from a credential, a URL or a filter.
 */
import { newEventId } from '../ids.js';
import { formatTimestamp } from '../events/contract.js';
import { getPresetInfo, type SiemId } from '../siem/catalog.js';
import { ACTOR_LABEL, type TrailActorType } from './actors.js';
import { DATASET_TRAIL, type TrailAction, type TrailEventType } from './actions.js';

export { DATASET_TRAIL, TRAIL_ACTIONS, TRAIL_EVENT_TYPES, type TrailAction } from './actions.js';

/**
 * The actions about the organization as a whole, not one destination: they carry no destination_id
 * or siem. encryption_key_rotated: `aegis-stream rotate-encryption-key` re-encrypted the stored
 * secrets of the organization's destinations and notification settings under the first key of the ring.
 */
export const ORGANIZATION_ACTIONS: ReadonlySet<TrailAction> = new Set(['notification_settings_changed', 'encryption_key_rotated']);

/** ECS event.type (configuration category: creation, change, deletion, access). */
const ECS_TYPE: Record<TrailAction, TrailEventType> = {
  destination_created: 'creation',
  destination_updated: 'change',
  credential_rotated: 'change',
  credential_removed: 'deletion',
  signing_secret_rotated: 'change',
  destination_enabled: 'change',
  destination_disabled: 'change',
  destination_deleted: 'deletion',
  replay_requested: 'access',
  test_sent: 'access',
  notification_settings_changed: 'change',
  encryption_key_rotated: 'change',
};

/** Who made the change (actors.ts): an API key, a dashboard session or the command line, never a secret. */
export interface TrailActor {
  type: TrailActorType;
  id: string;
}

export interface TrailChange {
  action: TrailAction;
  /** Names of the fields changed (`url`, `options.index`, `filter`, ...), never their values. */
  changedFields: string[];
  /** The destination changed; absent for the organization-wide actions (ORGANIZATION_ACTIONS). */
  destination?: { id: string; siem: SiemId };
  /** failure only for a test whose event did not get through. */
  outcome?: 'success' | 'failure';
}

export interface TrailEvent {
  '@timestamp': string;
  event: {
    id: string;
    kind: 'event';
    category: ['aegis', 'configuration'];
    type: ['creation' | 'change' | 'deletion' | 'access'];
    action: TrailAction;
    outcome: 'success' | 'failure';
    dataset: typeof DATASET_TRAIL;
  };
  aegis: {
    summary: string;
    actor_type: TrailActor['type'];
    actor_id: string;
    destination_id?: string;
    siem?: SiemId;
    changed_fields: string[];
  };
  organization: { id: string };
}

/** "cfg_" + 24 lower-case letters (src/ids.ts): the prefix is how the Activity index finds trail events. */
export function newTrailId(): string {
  return newEventId('cfg_');
}

const VERB: Record<TrailAction, string> = {
  destination_created: 'created',
  destination_updated: 'updated',
  credential_rotated: 'rotated the credential of',
  credential_removed: 'removed the credential of',
  signing_secret_rotated: 'rotated the signing secret of',
  destination_enabled: 'enabled',
  destination_disabled: 'disabled',
  destination_deleted: 'deleted',
  replay_requested: 'requested a replay to',
  test_sent: 'sent a test event to',
  notification_settings_changed: 'changed',
  encryption_key_rotated: 're-encrypted',
};

/** What an organization-wide action is about (ORGANIZATION_ACTIONS). */
const ORGANIZATION_OBJECT: Partial<Record<TrailAction, string>> = {
  notification_settings_changed: 'the notification settings',
  encryption_key_rotated: "the organization's stored secrets with the first key of the ring",
};

/** One line naming ids, the SIEM's label and field names only (the SIEMs show it as the message). */
export function trailSummary(actor: TrailActor, change: TrailChange): string {
  const who = `${ACTOR_LABEL[actor.type]} ${actor.id}`;
  const what = change.destination
    ? `destination ${change.destination.id} (${getPresetInfo(change.destination.siem).label})`
    : (ORGANIZATION_OBJECT[change.action] ?? 'the organization');
  const fields = change.changedFields.length > 0 ? `: ${change.changedFields.join(', ')}` : '';
  const failed = change.outcome === 'failure' ? ' (it did not get through)' : '';
  return `${who} ${VERB[change.action]} ${what}${fields}${failed}.`;
}

export function buildTrailEvent(args: { orgId: string; actor: TrailActor; change: TrailChange; occurredAt: Date; id?: string }): TrailEvent {
  const { orgId, actor, change } = args;
  const aegis: TrailEvent['aegis'] = {
    summary: trailSummary(actor, change),
    actor_type: actor.type,
    actor_id: actor.id,
    changed_fields: [...change.changedFields],
  };
  if (change.destination) {
    aegis.destination_id = change.destination.id;
    aegis.siem = change.destination.siem;
  }
  return {
    '@timestamp': formatTimestamp(args.occurredAt),
    event: {
      id: args.id ?? newTrailId(),
      kind: 'event',
      category: ['aegis', 'configuration'],
      type: [ECS_TYPE[change.action]],
      action: change.action,
      outcome: change.outcome ?? 'success',
      dataset: DATASET_TRAIL,
    },
    aegis,
    organization: { id: orgId },
  };
}
