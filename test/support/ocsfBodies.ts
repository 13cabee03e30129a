// The OCSF events inside a request body, for each SIEM preset's envelope (the inverse of the encoders
// in src/siem/ for `format: "ocsf"`), so tests can validate every event a receiver got. The unwrapping
// of each document is the product's own (src/events/envelopes.ts, what `validate-event` runs); this
// splits a body into its documents and insists on the envelope each preset must send.
import type { SiemId } from '../../src/siem/catalog.js';
import { unwrapEnvelope, type EnvelopeName } from '../../src/events/envelopes.js';
import { looksLikeOcsf } from '../../src/events/ocsfSchema.js';

type Json = Record<string, unknown>;

/** The OCSF events of one parsed document, which must come in `want` (null: the event itself). */
function inside(doc: unknown, want: EnvelopeName | null): Json[] {
  const u = unwrapEnvelope(doc);
  if (u.envelope !== want) throw new Error(`expected ${want ?? 'a bare OCSF event'}, read ${u.envelope ?? 'a bare document'}`);
  for (const e of u.events) if (!looksLikeOcsf(e)) throw new Error(`not an OCSF event inside ${want ?? 'the body'}`);
  return u.events as Json[];
}

const lines = (body: string) => body.split('\n').filter((l) => l !== '');

export function ocsfEventsOf(siem: SiemId, body: string): Json[] {
  switch (siem) {
    case 'custom':
      return inside(JSON.parse(body), null);
    case 'sumo_logic':
      return lines(body).flatMap((l) => inside(JSON.parse(l), null));
    case 'splunk_hec':
      // Concatenated envelopes: each starts with {"time".
      return lines(body.replace(/}\s*{"time"/g, '}\n{"time"')).flatMap((l) => inside(JSON.parse(l), 'Splunk HEC'));
    case 'elastic':
      // Action line, then the document: @timestamp first (Elastic's time field), then the OCSF object.
      return lines(body).flatMap((l, i) => inside(JSON.parse(l), i % 2 === 0 ? 'Elastic _bulk' : 'Elastic document'));
    case 'new_relic':
      return (JSON.parse(body) as unknown[]).flatMap((b) => inside(b, 'New Relic Logs'));
    case 'datadog':
      return (JSON.parse(body) as unknown[]).flatMap((item) => inside(item, 'Datadog log item'));
    case 'microsoft_sentinel':
      // A JSON array of records: TimeGenerated and the OCSF object in the `ocsf` column, nothing else.
      return (JSON.parse(body) as Json[]).flatMap((r) => {
        if (Object.keys(r).join(',') !== 'TimeGenerated,ocsf') throw new Error(`unexpected Sentinel record keys: ${Object.keys(r).join(',')}`);
        return inside(r, 'Microsoft Sentinel record');
      });
    default:
      throw new Error(`no OCSF unwrapping for ${String(siem)}`);
  }
}
