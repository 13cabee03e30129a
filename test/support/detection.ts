// What the detector tests read findings with, and the 1 MiB adversarial texts they feed the
// detectors (src/events/detect.test.ts, src/events/detectors/*.test.ts, src/events/privacyGuard.test.ts).
import { detect } from '../../src/events/detect.js';
import type { FindingType } from '../../src/events/findings.js';

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
