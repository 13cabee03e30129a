/**
 * Masking: each finding's span is replaced by its type in brackets ("[SSN]", "[EMAIL]"), so the shape
 * of the text survives and no detected value does. Findings must be non-overlapping (as detect()
 * returns them); they are applied in position order regardless of the order given.
 */
import type { Finding } from './findings.js';
import { detect } from './detect.js';

export function mask(text: string, findings: readonly Finding[]): string {
  const sorted = [...findings].sort((a, b) => a.start - b.start);
  let out = '';
  let pos = 0;
  for (const f of sorted) {
    if (f.start < pos || f.end > text.length || f.end < f.start) {
      throw new RangeError('mask: findings must be non-overlapping spans inside the text');
    }
    out += text.slice(pos, f.start) + `[${f.type}]`;
    pos = f.end;
  }
  return out + text.slice(pos);
}

/** Convenience: detect and mask in one call. */
export function detectAndMask(text: string): { masked: string; findings: ReturnType<typeof detect> } {
  const findings = detect(text);
  return { masked: mask(text, findings), findings };
}
