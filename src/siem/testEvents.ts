// Sample wire events for the SIEM tests (not imported by production code).
import type { SiemEvent } from './types.js';

export interface SampleEvent extends SiemEvent {
  '@timestamp': string;
  event: { id: string; kind: string; category: string[]; type: string[]; action: string; outcome: string; dataset: string };
  aegis: {
    preflight_id: string;
    decision: string;
    destination: string;
    summary: string;
    policy_version: string;
    policy_id: string;
    source_type: string;
    input_type: string;
    input_size_bytes: number;
    finding_counts_by_type: Record<string, number>;
    actor_id: string;
  };
  organization: { id: string };
}

export function sampleEvent(i: number, overrides: { summary?: string; timestamp?: string; dataset?: string } = {}): SampleEvent {
  const id = `pflt_${String(i).padStart(6, '0')}`;
  return {
    '@timestamp': overrides.timestamp ?? `2026-05-15T10:33:${String(i % 60).padStart(2, '0')}.456789+00:00`,
    event: {
      id,
      kind: 'event',
      category: ['aegis', 'preflight'],
      type: ['allowed_with_masking'],
      action: 'preflight_check',
      outcome: 'success',
      dataset: overrides.dataset ?? 'aegis.preflight',
    },
    aegis: {
      preflight_id: id,
      decision: 'ALLOWED_WITH_MASKING',
      destination: 'AI_TOOL',
      summary: overrides.summary ?? 'Detected SSN; masked. "quoted" \\ back\nslash é 😀',
      policy_version: 'v1.0',
      policy_id: 'pol_xyz',
      source_type: 'api',
      input_type: 'text',
      input_size_bytes: 200,
      finding_counts_by_type: { SSN: 1, EMAIL: 2 },
      actor_id: 'user@example.com',
    },
    organization: { id: 'org_abc' },
  };
}
