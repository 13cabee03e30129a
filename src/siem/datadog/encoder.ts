// Datadog Logs: JSON array of log items to https://http-intake.logs.<site>/api/v2/logs.
import { eventIdOf } from '../storedEvent.js';
import type { DeliveryVerdict, EncodeContext, SiemEncoder, SiemEvent, SiemResponse } from '../types.js';
import { epochMillis, isRecord, ocsfObject, optionString, parseJson, prefixBody, wholeVerdict } from '../types.js';
import { DATADOG_DEFAULT_SERVICE, DATADOG_DEFAULT_SOURCE } from './form.js';

function tagValue(v: string): string {
  // Datadog tags: no commas (the separator) and no spaces.
  return v.replace(/[,\s]+/g, '_');
}

export function datadogTags(event: SiemEvent, ctx: EncodeContext): string {
  const tags = [`org_id:${tagValue(event.organization.id)}`, `dataset:${tagValue(event.event.dataset)}`];
  // Pipelines can route on it: the attributes of an OCSF item are OCSF's, not the ECS event's.
  if (ctx.format === 'ocsf') tags.push('format:ocsf');
  const extra = optionString(ctx.options, 'tags') ?? optionString(ctx.options, 'ddtags');
  if (extra)
    tags.push(
      ...extra
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== ''),
    );
  return tags.join(',');
}

/**
 * The attributes a Datadog log item adds to the event (validate-event strips them to unwrap an item).
 * `timestamp` (epoch ms of @timestamp): Datadog dates a log only from its default date attributes
 * (timestamp, date, _timestamp, ...), and neither ECS's `@timestamp` nor OCSF's `time` is one, so
 * without it an item would be dated when it arrived: a retry, a backlog or a replay would be filed
 * hours after the event, where a search of the incident's hour does not look.
 */
export const DATADOG_ITEM_ATTRIBUTES = ['ddsource', 'service', 'ddtags', 'hostname', 'message', 'timestamp'] as const;

/**
 * An OCSF item's attributes: those, plus `status`, the log level, which Datadog would otherwise read
 * from OCSF's status caption ("New", "Failure").
 */
export const DATADOG_OCSF_ITEM_ATTRIBUTES = [...DATADOG_ITEM_ATTRIBUTES, 'status'] as const;

/**
 * Datadog's log level for an OCSF severity_id: 1 Informational and 99 Other (and 0 Unknown) are info,
 * then Low notice, Medium warning, High error, Critical critical, Fatal emergency.
 */
export function datadogStatus(severityId: number): string {
  switch (severityId) {
    case 2:
      return 'notice';
    case 3:
      return 'warning';
    case 4:
      return 'error';
    case 5:
      return 'critical';
    case 6:
      return 'emergency';
    default:
      return 'info';
  }
}

/**
 * One log item: Datadog's reserved attributes, then the event's own fields, as JSON. The order is
 * the one @datadog/datadog-api-client writes (HTTPLogItem's attributes ddsource, ddtags, hostname,
 * message and service, then its additionalProperties: OCSF's status, timestamp, then the event), so
 * an item is byte for byte what Datadog's own client sends (src/siem/vendorClients.test.ts). An
 * attribute replaces the event's key of the same name (prefixBody), so an item never has a key twice:
 * the OCSF object's message (the same summary) and status caption (status_id still says it).
 */
function item(event: SiemEvent, ctx: EncodeContext): string {
  const reserved = {
    ddsource: optionString(ctx.options, 'source') ?? DATADOG_DEFAULT_SOURCE,
    ddtags: datadogTags(event, ctx),
    hostname: ctx.hostname,
    message: event.aegis.summary,
    service: optionString(ctx.options, 'service') ?? DATADOG_DEFAULT_SERVICE,
  };
  const timestamp = epochMillis(event['@timestamp']);
  if (ctx.format !== 'ocsf') {
    return prefixBody(event, ctx, { ...reserved, timestamp } satisfies Record<(typeof DATADOG_ITEM_ATTRIBUTES)[number], unknown>);
  }
  return prefixBody(event, ctx, {
    ...reserved,
    status: datadogStatus(ocsfObject(event).severity_id),
    timestamp,
  } satisfies Record<(typeof DATADOG_OCSF_ITEM_ATTRIBUTES)[number], unknown>);
}

/** Datadog error bodies: {"errors":[{"status","title","detail"}]} (older answers: {"errors":["..."]}). */
function errorDetail(body: string): string | undefined {
  const parsed = parseJson(body);
  if (!isRecord(parsed) || !Array.isArray(parsed.errors)) return undefined;
  const parts = parsed.errors
    .map((e: unknown) => {
      if (typeof e === 'string') return e;
      if (isRecord(e)) return [e.title, e.detail].filter((x) => typeof x === 'string' && x !== '').join(': ');
      return '';
    })
    .filter((s) => s !== '');
  return parts.length > 0 ? parts.join('; ') : undefined;
}

export function describeDatadogError(status: number, body: string): string | undefined {
  const detail = errorDetail(body);
  const suffix = detail ? ` (Datadog: ${detail})` : '';
  switch (status) {
    case 401:
      return `Datadog received no API key: keep the DD-API-KEY header and paste an API key${suffix}.`;
    case 403:
      return `Datadog refused the API key: check it hasn't been revoked, that it is an API key (32 characters) and not an application key, and that it belongs to the site in the URL${suffix}.`;
    case 413:
      return `Datadog refused the request as too large (over 5 MB); Aegis keeps batches smaller, so report this${suffix}.`;
    case 400:
      return detail ? `Datadog refused the payload: ${detail}.` : undefined;
    case 429:
      return `Datadog is rate limiting this API key${suffix}; Aegis will retry.`;
    default:
      return detail ? `Datadog answered ${status}: ${detail}.` : undefined;
  }
}

export const datadogEncoder: SiemEncoder = {
  id: 'datadog',
  maxBatchEvents: 1000,
  maxBatchBytes: 5_000_000,
  // Datadog's limit per log: a bigger one is truncated (still 2xx), which would corrupt the event.
  maxEventBytes: 1_000_000,
  gzip: true,
  maxEventAgeMs: 18 * 60 * 60 * 1000,
  maxEventFutureMs: 2 * 60 * 60 * 1000,
  encode(events, ctx) {
    return {
      body: `[${events.map((e) => item(e, ctx)).join(',')}]`,
      contentType: 'application/json',
      headers: {},
      eventIds: events.map(eventIdOf),
    };
  },
  interpret(response: SiemResponse, _events: SiemEvent[]): DeliveryVerdict {
    return wholeVerdict('Datadog', response, describeDatadogError);
  },
  describeError: describeDatadogError,
};
