// What the detector tests read findings with (and what a password test asserts of a text: found,
// masked and refused, or none of the three), and the 1 MiB adversarial texts they feed the
// detectors (src/events/detect.test.ts, src/events/detectors/*.test.ts, src/events/privacyGuard.test.ts).
import { expect } from 'vitest';
import { detect } from '../../src/events/detect.js';
import type { FindingType } from '../../src/events/findings.js';
import { detectAndMask } from '../../src/events/mask.js';
import { guardAgentRecord } from '../../src/events/privacyGuard.js';

/** The detected values as [type, text] pairs, for readable assertions. */
export function found(text: string): [FindingType, string][] {
  return detect(text).map((f) => [f.type, text.slice(f.start, f.end)]);
}

/** The types detected, in order. */
export function typesIn(text: string): FindingType[] {
  return detect(text).map((f) => f.type);
}

export const MiB = 1 << 20;

/** `unit` repeated to exactly 1 MiB. */
export function fill(unit: string): string {
  return unit.repeat(Math.ceil(MiB / unit.length)).slice(0, MiB);
}

/** The values detected as passwords, in order. */
export function passwordsIn(text: string): string[] {
  return detect(text)
    .filter((f) => f.type === 'PASSWORD')
    .map((f) => text.slice(f.start, f.end));
}

/** The text as preflight masks it. */
export function maskedText(text: string): string {
  return detectAndMask(text).masked;
}

/** Whether the privacy guard refuses an agent record whose summary is `summary` for a password in it. */
export function refusedAsPassword(summary: string): boolean {
  return guardAgentRecord({ preflight_id: 'pf_1', decision: 'BLOCKED', policy_id: 'pol_default', policy_version: 'v1.0', summary }).some((v) =>
    /as PASSWORD/.test(v.message),
  );
}

/** No password found, nothing masked, no refusal: ordinary text stays as written. */
export function noPasswordIn(text: string): void {
  expect(passwordsIn(text), text).toEqual([]);
  expect(maskedText(text), text).toBe(text);
  expect(refusedAsPassword(text), text).toBe(false);
}
