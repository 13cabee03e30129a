// The output formats a destination can receive (issue #13). Browser-safe: the dashboard imports it.

/**
 * `ecs`: the product page's ECS-shaped wire event (src/events/contract.ts), the default.
 * `ocsf`: the same event as an OCSF 1.8.0 Data Security Finding (src/events/ocsf.ts).
 * Every preset wraps whichever object the destination's format names in its own envelope.
 */
export const OUTPUT_FORMATS = ['ecs', 'ocsf'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const DEFAULT_OUTPUT_FORMAT: OutputFormat = 'ecs';

export const OUTPUT_FORMAT_INFO: Readonly<Record<OutputFormat, { label: string; hint: string }>> = {
  ecs: { label: 'ECS', hint: 'Elastic Common Schema: the Aegis audit event as documented (default).' },
  ocsf: { label: 'OCSF', hint: 'OCSF 1.8.0 Data Security Finding (class 2006), for OCSF-native pipelines and data lakes.' },
};

export function isOutputFormat(v: unknown): v is OutputFormat {
  return typeof v === 'string' && (OUTPUT_FORMATS as readonly string[]).includes(v);
}
