/**
 * Every enumeration of the audit-event contract, in one place. The published JSON Schemas
 * (schemas/audit-event.schema.json, $defs) list the same values; enums.test.ts fails if they drift.
 */

/** What the preflight check decided. */
export const DECISIONS = ['ALLOWED', 'ALLOWED_WITH_MASKING', 'BLOCKED'] as const;
export type Decision = (typeof DECISIONS)[number];

/** Where the checked input was going. */
export const DESTINATIONS = [
  'AI_TOOL',
  'AI_AGENT',
  'LLM_API',
  'CODE_ASSISTANT',
  'MCP_SERVER',
  'CHAT',
  'EMAIL',
  'FILE_UPLOAD',
  'WEB_FORM',
  'CLIPBOARD',
  'OTHER',
] as const;
export type Destination = (typeof DESTINATIONS)[number];

/** Which Aegis component produced the decision. */
export const SOURCE_TYPES = ['api', 'sdk', 'browser_extension', 'desktop_agent'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

/** What kind of input was checked. */
export const INPUT_TYPES = ['text', 'file', 'tool_call', 'tool_result', 'clipboard'] as const;
export type InputType = (typeof INPUT_TYPES)[number];

/** event.dataset values: real preflight decisions, and the synthetic destination test event. */
export const DATASET_PREFLIGHT = 'aegis.preflight';
export const DATASET_TEST = 'aegis.audit_stream.test';
export const ACTION_PREFLIGHT = 'preflight_check';
export const ACTION_TEST = 'audit_stream_test';

export type EventOutcome = 'success' | 'failure';

/**
 * decision -> event.outcome. ECS event.outcome says whether the action the event records succeeded
 * from the producer's point of view; the action here is "send this input to its destination".
 * ALLOWED and ALLOWED_WITH_MASKING: the input went through (masked or not) -> success. BLOCKED: the
 * input did not reach its destination -> failure, which is what SIEM rules for denied attempts key on
 * (the same convention ECS uses for a refused login or a firewall drop). The preflight check itself
 * ran fine either way; a check that could not run produces no audit event.
 */
export const OUTCOME_BY_DECISION: Readonly<Record<Decision, EventOutcome>> = {
  ALLOWED: 'success',
  ALLOWED_WITH_MASKING: 'success',
  BLOCKED: 'failure',
};

/** Defaults the preflight API applies to optional request fields. */
export const PREFLIGHT_DEFAULTS = {
  destination: 'AI_TOOL',
  source_type: 'api',
  input_type: 'text',
} as const satisfies { destination: Destination; source_type: SourceType; input_type: InputType };
