/**
 * The default policy: personal data is masked and the input may go through; any secret or credential
 * blocks the input; nothing detected allows it. A policy maps each finding type to an action; the
 * strictest action over all detected types decides.
 */
import type { Decision } from './enums.js';
import { FINDING_TYPES, type FindingType, isSecretType } from './findings.js';

export type { Decision } from './enums.js';
export { DECISIONS } from './enums.js';

export type PolicyAction = 'MASK' | 'BLOCK';

export interface Policy {
  id: string;
  version: string;
  actions: Readonly<Record<FindingType, PolicyAction>>;
}

export interface PolicyResult {
  decision: Decision;
  summary: string;
  policy_id: string;
  policy_version: string;
}

export const DEFAULT_POLICY: Policy = {
  id: 'pol_default',
  version: 'v1.0',
  actions: Object.fromEntries(FINDING_TYPES.map((t) => [t, isSecretType(t) ? 'BLOCK' : 'MASK'])) as Record<FindingType, PolicyAction>,
};

const SUFFIX: Readonly<Record<Exclude<Decision, 'ALLOWED'>, string>> = {
  ALLOWED_WITH_MASKING: 'masked',
  BLOCKED: 'blocked',
};

/**
 * The one-line summary of a decision, as on the product page: "Detected SSN, EMAIL; masked.",
 * "Detected AWS_ACCESS_KEY; blocked.", "No sensitive data detected." Types are listed in the stable
 * FINDING_TYPES order. It names types only, never values.
 */
export function summarize(decision: Decision, types: readonly FindingType[]): string {
  if (types.length === 0 || decision === 'ALLOWED') return 'No sensitive data detected.';
  return `Detected ${types.join(', ')}; ${SUFFIX[decision]}.`;
}

/** Decides from finding counts (types with a count of 0 or less count as not detected). */
export function evaluatePolicy(counts: Partial<Record<FindingType, number>>, policy: Policy = DEFAULT_POLICY): PolicyResult {
  const types = FINDING_TYPES.filter((t) => (counts[t] ?? 0) > 0);
  let decision: Decision = 'ALLOWED';
  for (const t of types) {
    const action = policy.actions[t];
    if (action === 'BLOCK') decision = 'BLOCKED';
    else if (decision === 'ALLOWED') decision = 'ALLOWED_WITH_MASKING';
  }
  return { decision, summary: summarize(decision, types), policy_id: policy.id, policy_version: policy.version };
}
