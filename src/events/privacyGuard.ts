/**
 * The privacy guard for agents' decision records: schema validation keeps unknown fields out, this
 * keeps raw values out of the fields that are allowed. Every string field of the record is scanned
 * with the same detectors as preflight input, and any finding is refused, naming the field and the
 * finding type but never echoing the value.
 *
 * One exception, as on the product page: `actor_id` may be exactly one email address (the acting
 * user's own). An actor_id holding an email plus anything else, or any other finding, is refused.
 * The summary additionally may not carry a run of nine or more digits (an SSN or account number
 * written without separators would slip past the detectors otherwise).
 */
import { detect } from './detect.js';
import { detectCloudKeys } from './detectors/cloudKeys.js';
import { detectTokens } from './detectors/tokens.js';
import type { FindingType } from './findings.js';
import type { Violation } from './violation.js';

export type { Violation } from './violation.js';

/** Fields of an agent record (and of the wire event's aegis object) that hold strings. */
export const STRING_FIELDS = [
  'preflight_id',
  'decision',
  'destination',
  'summary',
  'policy_version',
  'policy_id',
  'source_type',
  'input_type',
  'actor_id',
  'occurred_at',
] as const;

const SAFE_SEGMENT = /^[A-Za-z0-9_.@-]{1,64}$/;

/**
 * A path segment taken from a submitted document (a property name) is echoed only when it is short,
 * plain, and has nothing detectable in it; otherwise it is replaced, so an error message can never
 * leak a value smuggled in as a key.
 */
export function safeSegment(name: string): string {
  if (!SAFE_SEGMENT.test(name) || detect(name).length > 0) return '<redacted-property-name>';
  return name;
}

/**
 * Where a secret could start inside a longer identifier. The detectors refuse to match a token glued
 * to a preceding word character ("pol_ghp_..." is not a GitHub token to them, which keeps preflight
 * findings precise), but a decision record must not carry one that way either: "pol_" + a token, or
 * "pflt_" + a Stripe key, would otherwise be forwarded as-is. So the guard also runs the secret
 * detectors over a copy with a space inserted before every such prefix: one more linear pass, however
 * many prefixes a value holds.
 */
const EMBEDDED_SECRET_START = /AKIA|ASIA|gh[pousr]_|github_pat_|xox[abpors]-|xapp-|[sr]k_(?:live|test)_|whsec_|AIza|eyJ/g;

function embeddedSecretTypes(value: string): FindingType[] {
  let glued = false;
  const spaced = value.replace(EMBEDDED_SECRET_START, (m: string, offset: number) => {
    if (offset === 0) return m;
    glued = true;
    return ` ${m}`;
  });
  if (!glued) return [];
  return [...detectTokens(spaced), ...detectCloudKeys(spaced)].map((f) => f.type);
}

function findingTypes(value: string): FindingType[] {
  return [...new Set([...detect(value).map((f) => f.type), ...embeddedSecretTypes(value)])];
}

/** True when the whole value is exactly one email address. */
function isOneEmail(value: string): boolean {
  const found = detect(value);
  return found.length === 1 && found[0]?.type === 'EMAIL' && found[0].start === 0 && found[0].end === value.length;
}

function message(type: FindingType): string {
  return `contains a value detected as ${type}; audit records are metadata only and must not carry detected values`;
}

/** actor_id alone: refused unless it is free of findings or exactly one email address. */
export function guardActorId(value: string, path = '/actor_id'): Violation[] {
  // An email beats what is inside it when overlaps are resolved, so "ghp_...@example.com" is one
  // EMAIL finding: the local part is scanned on its own and must hold nothing.
  const scanned = isOneEmail(value) ? value.slice(0, value.lastIndexOf('@')) : value;
  return findingTypes(scanned).map((type) => ({ path, message: message(type) }));
}

/**
 * Scans every string field (known or not) and every finding_counts_by_type key of a record. `basePath`
 * prefixes the paths, e.g. "/events/3". Non-object input yields no violations (schema validation
 * reports that).
 */
export function guardAgentRecord(record: unknown, basePath = ''): Violation[] {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return [];
  const out: Violation[] = [];
  for (const [key, value] of Object.entries(record as Record<string, unknown>)) {
    const path = `${basePath}/${safeSegment(key)}`;
    if (key === 'finding_counts_by_type' && typeof value === 'object' && value !== null) {
      for (const type of new Set(Object.keys(value).flatMap(findingTypes))) {
        out.push({ path, message: `a finding type name ${message(type)}` });
      }
      // A type name is an identifier such as "SSN": a long digit run in one is a value (a compact SSN
      // or account number the detectors would not flag without separators).
      if (Object.keys(value).some((k) => /\d{9}/.test(k))) {
        out.push({ path, message: 'a finding type name contains a run of nine or more digits; type names are identifiers, never values' });
      }
      continue;
    }
    if (typeof value !== 'string') continue;
    if (key === 'actor_id') {
      out.push(...guardActorId(value, path));
      continue;
    }
    const types = findingTypes(value);
    for (const type of types) out.push({ path, message: message(type) });
    // The digit-run rule catches what no detector reports (a 10-digit account number); a run already
    // reported as a finding needs no second message.
    if (key === 'summary' && types.length === 0 && /\d{9}/.test(value)) {
      out.push({ path, message: 'contains a run of nine or more digits; the summary must name finding types only, never values' });
    }
  }
  return out;
}
