// Microsoft Sentinel through the Azure Monitor Logs Ingestion API:
//   POST {DCE}/dataCollectionRules/{DCR immutable id}/streams/{stream}?api-version=2023-01-01
//   Authorization: Bearer <Entra ID token for https://monitor.azure.com//.default>
//   Content-Encoding: gzip, body: a JSON array of records matching the stream's declared columns.
// The token is the delivery layer's job (delivery/oauth2/); this module knows the body and the answers.
//
// Each record is the wire event with its `@timestamp` moved to `TimeGenerated` (the column every Log
// Analytics table has, and which a column name may not spell with "@") and every other top-level
// field kept as it is, to land in a `dynamic` column of the same name: `event`, `aegis`,
// `organization`. KQL then reads the product's dotted paths unchanged (`aegis.decision`).
// docs/siem/microsoft_sentinel.md has the table, the DCR and its transformKql.
import { randomUUID } from 'node:crypto';
import { eventIdOf, wireOf } from '../storedEvent.js';
import type { DeliveryVerdict, EncodeContext, SiemEncoder, SiemEvent, SiemResponse } from '../types.js';
import { bodyJson, epochMillis, isRecord, parseJson, wholeVerdict } from '../types.js';

/**
 * One record of the stream: TimeGenerated, then the event's own top-level fields but @timestamp.
 * TimeGenerated keeps the event's RFC 3339 text as it is (offset and microseconds included), which
 * Azure Monitor's datetime columns parse.
 */
export function sentinelRecord(e: SiemEvent): Record<string, unknown> {
  // The plain event: a claimed StoredEvent's fields are getters, which a rest pattern does not copy.
  const { '@timestamp': timestamp, ...rest } = wireOf(e);
  epochMillis(timestamp); // throws on a timestamp no datetime column would take: that event is dead-lettered alone
  return { TimeGenerated: timestamp, ...rest };
}

/**
 * The JSON of one record for the destination's format. ECS: sentinelRecord. OCSF: TimeGenerated
 * (the event's @timestamp, the same instant as the OCSF `time`) and the OCSF object whole in `ocsf`,
 * spliced from its cached JSON.
 */
export function sentinelRecordJson(e: SiemEvent, ctx: EncodeContext): string {
  if (ctx.format !== 'ocsf') return JSON.stringify(sentinelRecord(e));
  const timestamp = e['@timestamp'];
  epochMillis(timestamp);
  return `{"TimeGenerated":${JSON.stringify(timestamp)},"ocsf":${bodyJson(e, ctx)}}`;
}

/** The columns a record carries, for the table and DCR the user creates (docs and tests). */
export const SENTINEL_COLUMNS = [
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'event', type: 'dynamic' },
  { name: 'aegis', type: 'dynamic' },
  { name: 'organization', type: 'dynamic' },
] as const;

/** The columns of a record with the destination's format "ocsf". */
export const SENTINEL_OCSF_COLUMNS = [
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'ocsf', type: 'dynamic' },
] as const;

/** Azure Monitor error bodies: {"error": {"code", "message"}}. */
function errorDetail(body: string): { code?: string; message?: string } {
  const parsed = parseJson(body);
  if (!isRecord(parsed) || !isRecord(parsed.error)) return {};
  const { code, message } = parsed.error;
  return { ...(typeof code === 'string' ? { code } : {}), ...(typeof message === 'string' ? { message } : {}) };
}

export function describeSentinelError(status: number, body: string): string | undefined {
  const { code, message } = errorDetail(body);
  const said = code || message ? ` (Azure Monitor: ${[code, message].filter(Boolean).join(': ')})` : '';
  switch (status) {
    case 401:
      return `Azure Monitor refused the access token (Aegis fetches a fresh one after a 401, three in a row, then one every 30 s): check the tenant id is the tenant of the data collection rule, and the scope is https://monitor.azure.com//.default${said}.`;
    case 403:
      return `The app is not allowed to send to this data collection rule: give its service principal the "Monitoring Metrics Publisher" role on the DCR (Access control (IAM)); a new role assignment can take up to 30 minutes to apply${said}.`;
    case 404:
      return `Azure Monitor found no such data collection rule or stream: check the DCR immutable id (dcr-…), the stream name (Custom-…, as declared in the DCR) and that the endpoint is in the DCR's region${said}.`;
    case 413:
      return `Azure Monitor refused the request as over its 1 MB limit; Aegis keeps batches smaller, so report this${said}.`;
    case 429:
      return `Azure Monitor is throttling this data collection rule${said}; Aegis will retry later, honouring Retry-After.`;
    case 400:
      return said ? `Azure Monitor refused the records${said}: check the stream's columns match docs/siem/microsoft_sentinel.md.` : undefined;
    default:
      return said ? `Azure Monitor answered ${status}${said}.` : undefined;
  }
}

export const microsoftSentinelEncoder: SiemEncoder = {
  id: 'microsoft_sentinel',
  // The Logs Ingestion API refuses calls over 1 MB; @azure/monitor-ingestion cuts its chunks below
  // 1,000,000 bytes of uncompressed JSON and gzips each one. batchEvents counts the array's brackets
  // and commas too, so a body here is never larger than the SDK's.
  maxBatchEvents: 10_000,
  maxBatchBytes: 1_000_000,
  gzip: true,
  encode(events, ctx) {
    return {
      body: `[${events.map((e) => sentinelRecordJson(e, ctx)).join(',')}]`,
      contentType: 'application/json',
      // A GUID per request, as the Azure SDK sends: Azure Monitor keeps it with the call, handy for a support case.
      headers: { 'x-ms-client-request-id': randomUUID() },
      eventIds: events.map(eventIdOf),
    };
  },
  interpret(response: SiemResponse, _events: SiemEvent[]): DeliveryVerdict {
    return wholeVerdict('Azure Monitor', response, describeSentinelError);
  },
  describeError: describeSentinelError,
};
