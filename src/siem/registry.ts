// One encoder per SIEM preset, behind the SiemEncoder interface.
import type { SiemId } from './catalog.js';
import type { SiemEncoder } from './types.js';
import { splunkHecEncoder } from './splunkHec.js';
import { datadogEncoder } from './datadog.js';
import { sumoLogicEncoder } from './sumoLogic.js';
import { elasticEncoder } from './elastic.js';
import { newRelicEncoder } from './newRelic.js';
import { customEncoder } from './custom.js';
import { microsoftSentinelEncoder } from './microsoftSentinel.js';

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
