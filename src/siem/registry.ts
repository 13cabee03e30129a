// One encoder per SIEM (its folder's encoder.ts), behind the SiemEncoder interface. Node only: the
// browser-safe list of SIEMs is catalog.ts, and the Record type makes the compiler refuse a SIEM
// listed there without an encoder here.
import type { SiemId } from './catalog.js';
import type { SiemEncoder } from './types.js';
import { splunkHecEncoder } from './splunk-hec/encoder.js';
import { datadogEncoder } from './datadog/encoder.js';
import { sumoLogicEncoder } from './sumo-logic/encoder.js';
import { elasticEncoder } from './elastic/encoder.js';
import { newRelicEncoder } from './new-relic/encoder.js';
import { customEncoder } from './custom-webhook/encoder.js';
import { microsoftSentinelEncoder } from './microsoft-sentinel/encoder.js';

const ENCODERS: Readonly<Record<SiemId, SiemEncoder>> = {
  splunk_hec: splunkHecEncoder,
  datadog: datadogEncoder,
  sumo_logic: sumoLogicEncoder,
  elastic: elasticEncoder,
  new_relic: newRelicEncoder,
  microsoft_sentinel: microsoftSentinelEncoder,
  custom: customEncoder,
};

export function getEncoder(id: SiemId): SiemEncoder {
  const encoder = ENCODERS[id];
  if (!encoder) throw new Error(`unknown SIEM preset: ${String(id)}`);
  return encoder;
}
