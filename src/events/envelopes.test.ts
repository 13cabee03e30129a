import { describe, expect, it } from 'vitest';
import { SIEM_IDS } from '../siem/catalog.js';
import { getEncoder } from '../siem/registry.js';
import type { EncodeContext, SiemEvent } from '../siem/types.js';
import { buildWireEvent } from './contract.js';
import { validateEventsText } from './validateText.js';

// Round trip through the real encoders: whatever envelope a preset sends, validate-event run on the
// captured body finds every event inside it (so the unwrapping cannot drift from the encoders).
const ctx: EncodeContext = { hostname: 'aegis-test', options: { index: 'main' }, userAgent: 'aegis-audit-stream/test' };
const event = (n: number) =>
  buildWireEvent({
    orgId: 'org_envelope_test',
    occurredAt: new Date('2026-05-15T10:33:21.456Z'),
    fields: {
      preflight_id: `pflt_envelope_${n}`,
      decision: 'ALLOWED_WITH_MASKING',
      destination: 'AI_TOOL',
      summary: 'Detected EMAIL; masked.',
      policy_version: 'v1.0',
      policy_id: 'pol_default',
      source_type: 'api',
      input_type: 'text',
      input_size_bytes: 40,
      finding_counts_by_type: { EMAIL: 1 },
    },
  }) as unknown as SiemEvent;

const EXPECTED: Record<string, string | undefined> = {
  splunk_hec: 'Splunk HEC',
  datadog: 'Datadog log item',
  elastic: 'Elastic _bulk',
  new_relic: 'New Relic Logs',
  microsoft_sentinel: 'Microsoft Sentinel record',
  sumo_logic: undefined,
  custom: undefined,
};

describe('validate-event unwraps the envelopes this service sends', () => {
  it.each(SIEM_IDS)('%s: every event of a captured request body is found and valid', (id) => {
    // The custom webhook sends one event per request: three captured requests, one per line.
    const body =
      id === 'custom'
        ? [1, 2, 3].map((n) => getEncoder(id).encode([event(n)], ctx).body).join('\n')
        : getEncoder(id).encode([event(1), event(2), event(3)], ctx).body;
    const reports = validateEventsText(body);
    expect(reports.map((r) => r.violations)).toEqual([[], [], []]);
    expect(reports.map((r) => r.envelope)).toEqual([EXPECTED[id], EXPECTED[id], EXPECTED[id]]);
  });

  it('a fault inside a Splunk envelope is reported at its path within the event', () => {
    const bad = { ...event(1), aegis: { ...(event(1) as unknown as { aegis: object }).aegis, raw_input: 'x' } } as unknown as SiemEvent;
    const body = getEncoder('splunk_hec').encode([bad], ctx).body;
    const [report] = validateEventsText(body);
    expect(report!.envelope).toBe('Splunk HEC');
    expect(report!.violations.map((v) => v.path)).toEqual(['/aegis/raw_input']);
  });

  it('an event that merely has an event field is not mistaken for an envelope', () => {
    const [report] = validateEventsText(JSON.stringify(event(1)));
    expect(report!.envelope).toBeUndefined();
    expect(report!.violations).toEqual([]);
  });
});
