import { Type, type Static, type TLiteral } from 'typebox';
import { LIMIT_BOUNDS } from '../../delivery/configuredLimits.js';
import { SIEM_IDS, type SiemId } from '../../siem/catalog.js';
import { CAPPED_COUNT, QUEUE_COUNT_CAP } from '../../queue/countCap.js';

// From the registry of SIEMs (siem/catalog.ts): adding a SIEM folder there adds it here. The cast
// gives TypeBox the tuple type it needs to infer SiemId (an array type would infer never).
const SIEM_LITERALS = SIEM_IDS.map((id) => Type.Literal(id)) as [TLiteral<SiemId>];
const SIEM = Type.Union(SIEM_LITERALS, { description: 'The SIEM preset: decides the body encoding, batching and error hints. Default custom.' });

const Format = Type.Union([Type.Literal('ecs'), Type.Literal('ocsf')], {
  description:
    'The event format this destination receives: "ecs" (default, the documented Aegis audit event) or "ocsf" (an OCSF 1.8.0 Data Security Finding, class_uid 2006, security_control profile). Every SIEM preset wraps the chosen object in its own envelope. See docs/events.md.',
});

const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'The HTTPS ingest URL of your SIEM.' });
const HeaderName = Type.String({ minLength: 1, maxLength: 128, description: 'Header that carries the credential, e.g. Authorization.' });
const HeaderValue = Type.String({
  maxLength: 8192,
  description: 'The credential, sent as the header value. Encrypted at rest with AES-256-GCM; never returned after creation. "" clears it.',
});
/** Bounds the raw input; the service trims it and refuses control characters (destinations/name.ts). */
export const DESTINATION_NAME_MAX = 100;
const Name = Type.Union([
  Type.String({
    minLength: 1,
    maxLength: DESTINATION_NAME_MAX,
    description: `Optional name shown on the dashboard cards, e.g. "Splunk prod". Trimmed; 1 to ${DESTINATION_NAME_MAX} characters, no control characters.`,
  }),
  Type.Null({ description: 'No name (PATCH: clears it); readers then show the SIEM preset label.' }),
]);
const PresetString = Type.String({ minLength: 1, maxLength: 256 });

/**
 * OAuth2 client credentials (RFC 6749 section 4.4). The shape only; destinations/oauth2.ts checks the
 * values and answers 400 naming auth.<field>.
 */
export const AuthBody = Type.Object(
  {
    type: Type.Literal('oauth2_client_credentials'),
    token_url: Type.Optional(
      Type.String({
        maxLength: 2048,
        description:
          'The token endpoint. Microsoft Sentinel: built from tenant_id (https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token) unless given (sovereign clouds). Same address rules as url.',
      }),
    ),
    tenant_id: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'Microsoft Sentinel: the Directory (tenant) ID of the Entra ID app.' })),
    client_id: Type.String({ minLength: 1, maxLength: 256, description: 'The client (Entra ID: Application (client) ID).' }),
    client_secret: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description:
          'The client secret. Encrypted at rest with AES-256-GCM; never returned. Required on create; on PATCH, omit it to keep the stored one (only while the token URL keeps its host).',
      }),
    ),
    scope: Type.Optional(
      Type.String({
        maxLength: 1024,
        description: 'Space-separated scopes. Microsoft Sentinel default: https://monitor.azure.com//.default. Custom default: none sent.',
      }),
    ),
    token_endpoint_auth_method: Type.Optional(
      Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post')], {
        description:
          'How the client authenticates to the token endpoint. Default: client_secret_post for Microsoft Sentinel (as the Azure SDK does), client_secret_basic for custom webhooks (RFC 6749).',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'OAuth2 client credentials: Aegis fetches an access token, caches it until shortly before it expires, and sends it as Authorization: Bearer. Required for microsoft_sentinel; optional for custom. See docs/siem/microsoft_sentinel.md and docs/siem/custom.md.',
  },
);
export type AuthBody = Static<typeof AuthBody>;

export const AuthView = Type.Object({
  type: Type.Literal('oauth2_client_credentials'),
  token_url: Type.String({
    description: "A credential in it (a token proxy's ?code=) shown as [redacted], as in url; sent back as shown, the stored one is kept.",
  }),
  client_id: Type.String(),
  scope: Type.Union([Type.String(), Type.Null()]),
  token_endpoint_auth_method: Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post')]),
  tenant_id: Type.Optional(Type.String()),
  client_secret_configured: Type.Boolean({ description: 'Whether a client secret is stored. The secret itself is never returned.' }),
});
export type AuthView = Static<typeof AuthView>;

/**
 * The shape only; the service checks operators, paths, depth and size (filters/validate.ts) and
 * answers 400 naming the path inside the filter.
 */
const Filter = Type.Union([
  Type.Record(Type.String(), Type.Unknown(), {
    description:
      'Only events this MongoDB-style query matches are forwarded: dotted paths of the wire event (aegis.decision, aegis.finding_counts_by_type.SSN, event.dataset, ...) with $eq $ne $in $nin $gt $gte $lt $lte $exists $not $and $or. At most 4096 bytes, 8 levels. {} is the same as null. See docs/filters.md.',
    examples: [{ 'aegis.decision': { $in: ['BLOCKED', 'ALLOWED_WITH_MASKING'] }, 'aegis.finding_counts_by_type.SSN': { $gte: 1 } }],
  }),
  Type.Null({ description: 'Every event (PATCH: removes the filter).' }),
]);

export const PresetOptions = Type.Object(
  {
    index: Type.Optional(PresetString),
    source: Type.Optional(PresetString),
    sourcetype: Type.Optional(PresetString),
    host: Type.Optional(PresetString),
    category: Type.Optional(PresetString),
    sourceName: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: 'Sumo Logic: sent as X-Sumo-Name (the source name its searches show).' }),
    ),
    sourceHost: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Sumo Logic: sent as X-Sumo-Host.' })),
    fields: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: 'Sumo Logic: sent as X-Sumo-Fields, comma-separated key=value pairs, e.g. env=prod,team=sec.' }),
    ),
    tags: Type.Optional(PresetString),
    service: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: 'Datadog: the service attribute of each log item. Default aegis-audit-stream.' }),
    ),
    indexer_ack: Type.Optional(
      Type.Boolean({
        description:
          'Splunk HEC only: use indexer acknowledgement. Each request carries this destination\'s X-Splunk-Request-Channel, and its events count as delivered only once Splunk confirms they were indexed (POST /services/collector/ack); unconfirmed after AEGIS_SPLUNK_ACK_TIMEOUT_S they are sent again. The HEC token must have "Enable indexer acknowledgement" on. Default false.',
      }),
    ),
    max_events_per_second: Type.Optional(
      Type.Integer({
        minimum: LIMIT_BOUNDS.eventsPerSecond.min,
        maximum: LIMIT_BOUNDS.eventsPerSecond.max,
        description: `Most events per second sent to this destination (per worker process), ${LIMIT_BOUNDS.eventsPerSecond.min} to ${LIMIT_BOUNDS.eventsPerSecond.max}. Default: the SIEM's (see delivery_limits). Lowered for a while when the SIEM answers 429.`,
      }),
    ),
    max_concurrent_requests: Type.Optional(
      Type.Integer({
        minimum: LIMIT_BOUNDS.concurrentRequests.min,
        maximum: LIMIT_BOUNDS.concurrentRequests.max,
        description: `Most requests in flight to this destination at once (per worker process), ${LIMIT_BOUNDS.concurrentRequests.min} to ${LIMIT_BOUNDS.concurrentRequests.max}. Default: the SIEM's (see delivery_limits).`,
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Preset settings (Splunk index/source/sourcetype/host/indexer_ack, Elastic index (data stream), Sumo Logic category/sourceName/sourceHost/fields, Datadog tags/service/source, New Relic service) and delivery limits (max_events_per_second, max_concurrent_requests), which every preset takes. An option of another preset is refused (400), not ignored. PATCH replaces the whole object.',
  },
);
export type PresetOptions = Static<typeof PresetOptions>;

export const CreateDestinationBody = Type.Object(
  {
    url: Url,
    name: Type.Optional(Name),
    auth_header_name: Type.Optional(HeaderName),
    auth_header_value: Type.Optional(HeaderValue),
    siem: Type.Optional(SIEM),
    format: Type.Optional(Format),
    enabled: Type.Optional(Type.Boolean({ description: 'Default true. The dashboard saves disabled, tests, then asks.' })),
    options: Type.Optional(PresetOptions),
    filter: Type.Optional(Filter),
    signing: Type.Optional(Type.Boolean({ description: 'Custom webhooks only: sign every request with Standard Webhooks. The secret is returned once.' })),
    auth: Type.Optional(AuthBody),
  },
  { additionalProperties: false },
);
export type CreateDestinationBody = Static<typeof CreateDestinationBody>;

export const PatchDestinationBody = Type.Object(
  {
    name: Type.Optional(Name),
    url: Type.Optional(Url),
    auth_header_name: Type.Optional(HeaderName),
    auth_header_value: Type.Optional(HeaderValue),
    enabled: Type.Optional(Type.Boolean()),
    siem: Type.Optional(
      Type.Union(SIEM_LITERALS, {
        description: "The destination's SIEM, which cannot change: its own value is accepted (a destination sent back as read), another is refused.",
      }),
    ),
    format: Type.Optional(Format),
    options: Type.Optional(PresetOptions),
    filter: Type.Optional(Filter),
    rotate_signing_secret: Type.Optional(Type.Boolean({ description: 'Custom webhooks: issue a new signing secret (returned once).' })),
    signing: Type.Optional(Type.Boolean({ description: 'Custom webhooks: turn Standard Webhooks signing on or off.' })),
    auth: Type.Optional(Type.Union([AuthBody, Type.Null({ description: 'Custom webhooks: remove OAuth2 (and its stored secret).' })])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchDestinationBody = Static<typeof PatchDestinationBody>;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const DestinationView = Type.Object(
  {
    destination_id: Type.String(),
    name: Nullable(Type.String({ description: 'The optional name; null when unnamed (show the SIEM label instead).' })),
    url: Type.String({
      description:
        "The URL, any credential it carries shown as [redacted] (Sumo Logic's token segment, ?token=, ?code=, a hook's path secret; Microsoft Sentinel's, which holds none, whole). Sent back as shown in a PATCH, it keeps the stored URL.",
    }),
    auth_header_name: Nullable(Type.String()),
    auth_header_configured: Type.Boolean(),
    enabled: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    siem: Type.Union(SIEM_LITERALS),
    format: Format,
    status: Type.Union([Type.Literal('active'), Type.Literal('idle'), Type.Literal('failing'), Type.Literal('disabled')]),
    last_delivery_at: Nullable(Type.String({ format: 'date-time' })),
    last_error: Nullable(Type.String()),
    last_error_at: Nullable(Type.String({ format: 'date-time' })),
    last_test_delivered_at: Nullable(
      Type.String({
        format: 'date-time',
        description: 'When a test event last reached the SIEM. Tests are not live deliveries: they leave last_delivery_at and status alone.',
      }),
    ),
    options: Type.Record(Type.String(), Type.Union([Type.String(), Type.Integer(), Type.Boolean()]), {
      description: 'The options as set: preset strings, the integer delivery limits and Splunk indexer_ack when set.',
    }),
    delivery_limits: Type.Object(
      {
        max_events_per_second: Type.Integer(),
        max_concurrent_requests: Type.Integer(),
      },
      {
        description:
          "The limits the worker applies: options.max_events_per_second / max_concurrent_requests where set, else the SIEM's defaults. On a 429 (or 503 with Retry-After) the worker goes below them for a while and climbs back on successes.",
      },
    ),
    filter: Nullable(Type.Record(Type.String(), Type.Unknown(), { description: 'The filter: only matching events are forwarded. null: every event.' })),
    signing_enabled: Type.Boolean(),
    auth: Nullable(AuthView),
    previous_signing_secret_until: Nullable(
      Type.String({
        format: 'date-time',
        description:
          "After rotate_signing_secret: until when deliveries also carry the previous secret's signature (AEGIS_SIGNING_OVERLAP_HOURS), so receivers can switch without rejecting one. Null: only the current secret signs.",
      }),
    ),
    pending_events: Type.Integer({
      description: `Events queued for this destination and not delivered yet, ${CAPPED_COUNT} (the count stops there, so reading a destination costs the same whatever its backlog).`,
    }),
    oldest_pending_at: Nullable(
      Type.String({
        format: 'date-time',
        description: `When the oldest event still queued for this destination was recorded (null: nothing queued). A destination that is behind shows it here. Taken from the first ${QUEUE_COUNT_CAP.toLocaleString('en-US')} queued events in the order they are due: a fresh event is due when it is recorded, so these are the oldest, except an event waiting for a retry due later than all of them.`,
      }),
    ),
    failed_events: Type.Integer({
      description: `Dead-lettered events (out of retries; listed by GET .../failed-events, queued again by POST .../replay), ${CAPPED_COUNT}.`,
    }),
    paused_until: Nullable(Type.String({ format: 'date-time', description: 'While the circuit breaker holds the destination: when it probes again.' })),
    paused_reason: Nullable(
      Type.Union([Type.Literal('circuit_breaker'), Type.Literal('hold_limit')], {
        description:
          'Why deliveries are paused: circuit_breaker (requests failed in a row; probed again at paused_until, by itself, or at once when a test event gets through) or hold_limit (failing without a break for AEGIS_MAX_HOLD_HOURS: its queued events were dead-lettered; replay them, or PATCH enabled true, once it is fixed). null: not paused.',
      }),
    ),
    failing_since: Nullable(
      Type.String({
        format: 'date-time',
        description:
          'Start of the current failing streak: the first failed request since the last success (a delivery or a test event that got through). null: not failing.',
      }),
    ),
    hold_limit_at: Nullable(
      Type.String({
        format: 'date-time',
        description:
          'When the hold limit (failing_since + AEGIS_MAX_HOLD_HOURS) will pause this destination unless a request gets through. null: not failing, or already paused.',
      }),
    ),
    signing_secret: Type.Optional(Type.String({ description: 'Only in the response that created or rotated it.' })),
  },
  { $id: 'Destination' },
);
export type DestinationView = Static<typeof DestinationView>;

export const TestResult = Type.Object({
  ok: Type.Boolean(),
  status_code: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
});
export type TestResult = Static<typeof TestResult>;

export const FilterPreviewBody = Type.Object({ filter: Filter }, { additionalProperties: false });
export type FilterPreviewBody = Static<typeof FilterPreviewBody>;

export const FilterPreview = Type.Object({
  matched: Type.Integer({ description: 'How many of the events examined the filter matches.' }),
  of: Type.Integer({ description: "How many events were examined: the organization's most recent recorded events, at most 1,000." }),
});
export type FilterPreview = Static<typeof FilterPreview>;
