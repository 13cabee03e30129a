/**
 * What every OCSF event Aegis sends shares, whatever its class: the schema version, the product, and
 * the OCSF time of the wire event's @timestamp. The Data Security Finding (events/ocsf.ts) and the
 * configuration trail's Entity Management event (trail/ocsf.ts) both build on it.
 */
import { VERSION } from '../version.js';

/** The OCSF schema version the events follow (metadata.version). */
export const OCSF_VERSION = '1.8.0';

export interface OcsfEnumValue {
  id: number;
  name: string;
}

export interface OcsfProduct {
  name: string;
  vendor_name: string;
  version: string;
  feature: { name: string };
}

/** metadata.product: this service, and the Aegis component (feature) the event comes from. */
export function ocsfProduct(feature: string): OcsfProduct {
  return { name: 'Aegis Audit Stream', vendor_name: 'Aegis', version: VERSION, feature: { name: feature } };
}

/**
 * Epoch milliseconds of the wire event's @timestamp ("2026-05-15T10:33:21.456789+00:00"): the
 * sub-millisecond digits are dropped (OCSF timestamp_t is milliseconds).
 */
export function ocsfTime(timestamp: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/i.exec(timestamp.trim());
  const t = m ? Date.parse(`${m[1]!}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}${m[3] ?? 'Z'}`) : Date.parse(timestamp);
  if (Number.isNaN(t)) throw new Error(`invalid @timestamp: ${timestamp}`);
  return t;
}
