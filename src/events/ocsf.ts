/**
 * The OCSF form of the wire event: an OCSF 1.8.0 Data Security Finding (class_uid 2006) with the
 * security_control profile, built from the ECS-shaped wire event (contract.ts) and nothing else, so it
 * carries exactly the same metadata: counts by type, never a detected value or the scanned text.
 *
 * Destinations with `format: "ocsf"` receive this object where others receive the ECS one; each SIEM
 * preset wraps it in the same envelope. docs/events.md maps every field both ways. The numbers below
 * come from the OCSF schema files; src/events/ocsf.test.ts checks each one (and every caption) against
 * the vendored schema in schemas/ocsf-1.8.0.
 */
import type { Decision, WireEvent } from './contract.js';
import { DATASET_TEST } from './enums.js';
import { isFindingType, isSecretType } from './findings.js';
import { OCSF_VERSION, ocsfProduct, ocsfTime, type OcsfEnumValue, type OcsfProduct } from './ocsfCommon.js';
import { DATASET_TRAIL, type TrailEvent } from '../trail/contract.js';
import { toOcsfTrailEvent, type OcsfTrailEvent } from '../trail/ocsf.js';

export { OCSF_VERSION, type OcsfEnumValue };

/** Findings category (categories.json "findings"). */
export const OCSF_CATEGORY = { uid: 2, name: 'Findings' } as const;
/** Data Security Finding: category 2 * 1000 + class 6. */
export const OCSF_CLASS = { uid: 2006, name: 'Data Security Finding' } as const;
/** activity_id 1 "Create": every audit event is a new finding; Aegis never updates or closes one. */
export const OCSF_ACTIVITY = { id: 1, name: 'Create' } as const;
/** Finding status_id 1 "New": nobody has reviewed it yet (the consumer moves it on). */
export const OCSF_STATUS = { id: 1, name: 'New' } as const;
/** data_security.detection_system_id 10: a DLP capability built into a platform (Aegis's preflight check). */
export const OCSF_DETECTION_SYSTEM = { id: 10, name: 'Application-Level DLP' } as const;
/** The profiles applied (metadata.profiles): action_id, disposition_id, policy and is_alert come from it. */
export const OCSF_PROFILES = ['security_control'] as const;

/**
 * decision -> security_control action_id / disposition_id, is_alert and severity_id.
 *
 * - action_id is what the control did to the activity (sending the input to its destination):
 *   ALLOWED let it through (1 Allowed); ALLOWED_WITH_MASKING let it through after replacing the
 *   detected values (4 Modified: "the activity was modified, adjusted, or corrected"); BLOCKED stopped
 *   it (2 Denied).
 * - disposition_id is the outcome: the input reached its destination (1 Allowed, also after masking:
 *   none of the modification dispositions, such as Corrected or Restored, describes masking) or did not
 *   (2 Blocked). The exact decision stays readable in unmapped.aegis.decision.
 * - is_alert: only a block is an alertable signal (a secret was about to leave); masking personal
 *   data is the control working routinely, and the profile says Allowed dispositions are not alerts.
 * - severity_id: ALLOWED 1 Informational (nothing to do), ALLOWED_WITH_MASKING 2 Low (the user decides
 *   whether action is needed), BLOCKED 3 Medium (a credential was in an outgoing input: it did not
 *   leave, but it may need rotating).
 */
export const OCSF_BY_DECISION: Readonly<Record<Decision, { action: OcsfEnumValue; disposition: OcsfEnumValue; severity: OcsfEnumValue; isAlert: boolean }>> = {
  ALLOWED: {
    action: { id: 1, name: 'Allowed' },
    disposition: { id: 1, name: 'Allowed' },
    severity: { id: 1, name: 'Informational' },
    isAlert: false,
  },
  ALLOWED_WITH_MASKING: {
    action: { id: 4, name: 'Modified' },
    disposition: { id: 1, name: 'Allowed' },
    severity: { id: 2, name: 'Low' },
    isAlert: false,
  },
  BLOCKED: {
    action: { id: 2, name: 'Denied' },
    disposition: { id: 2, name: 'Blocked' },
    severity: { id: 3, name: 'Medium' },
    isAlert: true,
  },
};

/** The test event is informational whatever its (ALLOWED) decision says. */
export const OCSF_TEST_SEVERITY: OcsfEnumValue = { id: 1, name: 'Informational' };

/**
 * data_classification category_id of each finding type, as OCSF's own descriptions place them: SSN is
 * a government identification number (2 Governmental); card numbers and IBANs are financial (3
 * Financial); email addresses and phone numbers are personal (1 Personal); IP addresses, keys, tokens
 * and private keys are security data (6 Security: OCSF lists "IP addresses, API keys, credentials").
 */
export const OCSF_DATA_CATEGORY = {
  unknown: { id: 0, name: 'Unknown' },
  personal: { id: 1, name: 'Personal' },
  governmental: { id: 2, name: 'Governmental' },
  financial: { id: 3, name: 'Financial' },
  security: { id: 6, name: 'Security' },
  other: { id: 99, name: 'Other' },
} as const satisfies Record<string, OcsfEnumValue>;

function categoryOfType(type: string): OcsfEnumValue {
  if (!isFindingType(type)) return OCSF_DATA_CATEGORY.other; // an agent's own type name
  if (isSecretType(type)) return OCSF_DATA_CATEGORY.security;
  switch (type) {
    case 'SSN':
      return OCSF_DATA_CATEGORY.governmental;
    case 'CREDIT_CARD':
    case 'IBAN':
      return OCSF_DATA_CATEGORY.financial;
    case 'IP_ADDRESS':
      return OCSF_DATA_CATEGORY.security;
    default:
      return OCSF_DATA_CATEGORY.personal;
  }
}

/**
 * One category for the event: none found -> 0 Unknown; all types in one category -> that one; types
 * of several categories -> 99 Other ("a multi-variate classification made up of several categories").
 */
export function dataCategory(types: readonly string[]): OcsfEnumValue {
  if (types.length === 0) return OCSF_DATA_CATEGORY.unknown;
  const ids = new Set(types.map((t) => categoryOfType(t).id));
  return ids.size === 1 ? categoryOfType(types[0]!) : OCSF_DATA_CATEGORY.other;
}

/**
 * The types found, with their counts, in the wire event's order: the one reading of
 * finding_counts_by_type every OCSF field is built from. The schema allows a count of 0 (an agent may
 * list a type it looked for), but a type counted 0 was not found: it is no discovery, no finding type
 * and no data category.
 */
export function foundCounts(counts: Readonly<Record<string, number>>): Array<[type: string, count: number]> {
  return Object.entries(counts).filter(([, n]) => n > 0);
}

/** OCSF email_t (dictionary.json types): actor_id goes to user.email_addr only when it is one. */
const OCSF_EMAIL = /^[a-zA-Z0-9!#$%&'*+\-/=?^_`{|}~.]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$/;

const TITLE_BY_DECISION: Readonly<Record<Decision, string>> = {
  ALLOWED: 'Preflight check allowed the input',
  ALLOWED_WITH_MASKING: 'Preflight check masked sensitive data in the input',
  BLOCKED: 'Preflight check blocked the input',
};

export interface OcsfPolicy {
  uid: string;
  version: string;
  is_applied: true;
}

/** The OCSF event Aegis sends. */
export interface OcsfEvent {
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
  action_id: number;
  action: string;
  disposition_id: number;
  disposition: string;
  is_alert: boolean;
  policy: OcsfPolicy;
  actor?: { user: { uid: string; email_addr?: string; org: { uid: string } } };
  metadata: {
    version: string;
    product: OcsfProduct;
    profiles: string[];
    uid: string;
    tenant_uid: string;
    source: string;
    event_code: string;
    labels?: string[];
  };
  finding_info: { uid: string; title: string; desc: string; types: string[]; created_time: number };
  data_security: {
    detection_system_id: number;
    detection_system: string;
    category_id: number;
    category: string;
    policy: OcsfPolicy;
    discovery_details: Array<{ type: string; count: number }>;
    total: number;
    size: number;
  };
  unmapped: { aegis: { decision: Decision; destination: string; input_type: string } };
}

/** The OCSF Data Security Finding for one preflight wire event (the test event included). */
export function toOcsfEvent(wire: WireEvent): OcsfEvent {
  const a = wire.aegis;
  const isTest = wire.event.dataset === DATASET_TEST;
  const mapped = OCSF_BY_DECISION[a.decision];
  if (!mapped) {
    throw new Error(
      (wire.event.dataset as string) === DATASET_TRAIL
        ? 'a configuration trail event is not a Data Security Finding: use toOcsf'
        : `unknown decision: ${String(a.decision)}`,
    );
  }
  const severity = isTest ? OCSF_TEST_SEVERITY : mapped.severity;
  const time = ocsfTime(wire['@timestamp']);
  const counts = foundCounts(a.finding_counts_by_type);
  const types = counts.map(([type]) => type);
  const category = dataCategory(types);
  const policy: OcsfPolicy = { uid: a.policy_id, version: a.policy_version, is_applied: true };
  const out: OcsfEvent = {
    activity_id: OCSF_ACTIVITY.id,
    activity_name: OCSF_ACTIVITY.name,
    category_uid: OCSF_CATEGORY.uid,
    category_name: OCSF_CATEGORY.name,
    class_uid: OCSF_CLASS.uid,
    class_name: OCSF_CLASS.name,
    type_uid: OCSF_CLASS.uid * 100 + OCSF_ACTIVITY.id,
    type_name: `${OCSF_CLASS.name}: ${OCSF_ACTIVITY.name}`,
    severity_id: severity.id,
    severity: severity.name,
    status_id: OCSF_STATUS.id,
    status: OCSF_STATUS.name,
    time,
    // @timestamp is always written in UTC (+00:00).
    timezone_offset: 0,
    message: a.summary,
    action_id: mapped.action.id,
    action: mapped.action.name,
    disposition_id: mapped.disposition.id,
    disposition: mapped.disposition.name,
    is_alert: !isTest && mapped.isAlert,
    policy,
    metadata: {
      version: OCSF_VERSION,
      product: ocsfProduct(a.source_type),
      profiles: [...OCSF_PROFILES],
      uid: wire.event.id,
      tenant_uid: wire.organization.id,
      source: wire.event.dataset,
      event_code: wire.event.action,
    },
    finding_info: {
      uid: wire.event.id,
      title: isTest ? 'Aegis Audit Stream test event (safe to ignore)' : `${TITLE_BY_DECISION[a.decision]} (${a.destination})`,
      desc: a.summary,
      types,
      created_time: time,
    },
    data_security: {
      detection_system_id: OCSF_DETECTION_SYSTEM.id,
      detection_system: OCSF_DETECTION_SYSTEM.name,
      category_id: category.id,
      category: category.name,
      policy: { ...policy },
      // Counts by type only: discovery_details.value (the detected value) is never set.
      discovery_details: counts.map(([type, count]) => ({ type, count })),
      total: counts.reduce((sum, [, n]) => sum + n, 0),
      size: a.input_size_bytes,
    },
    unmapped: { aegis: { decision: a.decision, destination: a.destination, input_type: a.input_type } },
  };
  if (isTest) out.metadata.labels = ['test'];
  if (a.actor_id !== undefined) {
    const user: NonNullable<OcsfEvent['actor']>['user'] = { uid: a.actor_id, org: { uid: wire.organization.id } };
    if (OCSF_EMAIL.test(a.actor_id)) user.email_addr = a.actor_id;
    out.actor = { user };
  }
  return out;
}

/** Any OCSF event Aegis sends. */
export type OcsfOutput = OcsfEvent | OcsfTrailEvent;

/**
 * The OCSF form of any event a destination receives, by its dataset: a configuration trail event
 * (aegis.audit_stream: an administrator changed the forwarding configuration) is an Entity
 * Management event (trail/ocsf.ts, docs/trail.md); every other event, the preflight decisions and
 * the test event, is a Data Security Finding.
 */
export function toOcsf(event: WireEvent | TrailEvent): OcsfOutput {
  return event.event.dataset === DATASET_TRAIL ? toOcsfTrailEvent(event as TrailEvent) : toOcsfEvent(event as WireEvent);
}
