// The OCSF events inside a request body, for each SIEM preset's envelope (the inverse of the encoders
// in src/siem/ for `format: "ocsf"`), so tests can validate every event a receiver got.
import type { SiemId } from '../../src/siem/catalog.js';
import { DATADOG_OCSF_ITEM_ATTRIBUTES } from '../../src/siem/datadog/encoder.js';

type Json = Record<string, unknown>;

/**
 * Attributes Datadog's log item adds beside the event's own, as the encoder lists them, but message:
 * the OCSF event's own too (the same summary). status is Datadog's log level, in place of OCSF's
 * optional caption, which status_id keeps.
 */
const DATADOG_ADDED = DATADOG_OCSF_ITEM_ATTRIBUTES.filter((k) => k !== 'message');

/** An Elastic OCSF document: @timestamp first (Elastic's time field), then the OCSF object. */
function elasticDocument(line: string): Json {
  const { '@timestamp': at, ...event } = JSON.parse(line) as Json;
  if (typeof at !== 'string' || !line.startsWith('{"@timestamp":'))
    throw new Error(`an Elastic OCSF document must start with @timestamp: ${line.slice(0, 80)}`);
  return event;
}

export function ocsfEventsOf(siem: SiemId, body: string): Json[] {
  switch (siem) {
    case 'custom':
      return [JSON.parse(body) as Json];
    case 'sumo_logic':
      return body
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Json);
    case 'splunk_hec':
      // Concatenated envelopes: each starts with {"time".
      return body
        .replace(/}\s*{"time"/g, '}\n{"time"')
        .split('\n')
        .map((l) => (JSON.parse(l) as { event: Json }).event);
    case 'elastic':
      return body
        .split('\n')
        .filter((l) => l !== '')
        .filter((_, i) => i % 2 === 1)
        .map(elasticDocument);
    case 'new_relic':
      return (JSON.parse(body) as Array<{ logs: Array<{ attributes: Json }> }>).flatMap((b) => b.logs.map((l) => l.attributes));
    case 'datadog':
      return (JSON.parse(body) as Json[]).map((item) => {
        const e = { ...item };
        for (const k of DATADOG_ADDED) delete e[k];
        return e;
      });
    case 'microsoft_sentinel':
      // A JSON array of records: TimeGenerated and the OCSF object in the `ocsf` column.
      return (JSON.parse(body) as Array<{ TimeGenerated: string; ocsf: Json }>).map((r) => {
        if (Object.keys(r).join(',') !== 'TimeGenerated,ocsf') throw new Error(`unexpected Sentinel record keys: ${Object.keys(r).join(',')}`);
        return r.ocsf;
      });
    default:
      throw new Error(`no OCSF unwrapping for ${String(siem)}`);
  }
}
