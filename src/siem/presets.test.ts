// What every SIEM encoder declares alike; each encoder's own tests are in its folder (<siem>/encoder.test.ts).
import { describe, expect, it } from 'vitest';
import { splunkHecEncoder } from './splunk-hec/encoder.js';
import { datadogEncoder } from './datadog/encoder.js';
import { newRelicEncoder } from './new-relic/encoder.js';
import { customEncoder } from './custom-webhook/encoder.js';
import { getEncoder } from './registry.js';

describe('event age windows', () => {
  // Replay leaves dead letters older than these windows in place (src/queue/deadLetters.ts).
  it('declares Datadog 18 h and New Relic 48 h, and no window for the others', () => {
    expect(datadogEncoder.maxEventAgeMs).toBe(18 * 3_600_000);
    expect(newRelicEncoder.maxEventAgeMs).toBe(48 * 3_600_000);
    expect(splunkHecEncoder.maxEventAgeMs).toBeUndefined();
  });
});

describe('registry', () => {
  it('returns each preset encoder', () => {
    expect(getEncoder('splunk_hec')).toBe(splunkHecEncoder);
    expect(getEncoder('custom')).toBe(customEncoder);
    expect(() => getEncoder('nope' as never)).toThrow(/unknown SIEM preset/);
  });
});
