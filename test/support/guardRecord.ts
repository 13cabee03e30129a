/**
 * A clean agent record as the privacy guard's tests start from: each sets one field to the value under
 * test ({ ...guardRecord, summary: '...' }) and reads what the guard says of that field alone.
 */
export const guardRecord = {
  preflight_id: 'pflt_abcdefgh123',
  decision: 'ALLOWED_WITH_MASKING',
  destination: 'AI_TOOL',
  summary: 'Detected SSN, EMAIL; masked.',
  policy_version: 'v1.0',
  policy_id: 'pol_default',
  source_type: 'sdk',
  input_type: 'text',
  input_size_bytes: 200,
  finding_counts_by_type: { SSN: 1, EMAIL: 2 },
  actor_id: 'alice@example.com',
  occurred_at: '2026-05-15T10:33:21.456789+00:00',
};
