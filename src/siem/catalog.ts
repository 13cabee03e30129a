// Per-SIEM form presets and format hints.
//
// BROWSER-SAFE: the dashboard imports this file directly. No node: imports, no Node-only globals;
// base64 goes through atob/btoa, which Node 20 and every browser provide.
//
// Every URL, header and limit here comes from docs/siem/<preset>.md, which cites the SIEM's own docs.

import { headerNameProblem } from '../destinations/headerRules.js';

export type SiemId = 'splunk_hec' | 'datadog' | 'sumo_logic' | 'elastic' | 'new_relic' | 'microsoft_sentinel' | 'custom';

export const SIEM_IDS: readonly SiemId[] = ['splunk_hec', 'datadog', 'sumo_logic', 'elastic', 'new_relic', 'microsoft_sentinel', 'custom'];

export function isSiemId(value: unknown): value is SiemId {
  return typeof value === 'string' && (SIEM_IDS as readonly string[]).includes(value);
}

/** One entry of a site or region picker: choosing it fills in the URL. */
export interface SiemUrlChoice {
  id: string;
  label: string;
  url: string;
}

export interface SiemPresetInfo {
  id: SiemId;
  label: string;
  /** What that SIEM calls the secret ("HEC Token", "API Key", ...). */
  credentialLabel: string;
  credentialHelp: string;
  /** Header the form fills in; null when the credential lives in the URL (Sumo Logic). */
  defaultHeaderName: string | null;
  /** Other header names the form offers in a select, default first. */
  headerNameChoices?: readonly string[];
  /** Text the form puts in front of the pasted credential ('' when none). */
  prefix: string;
  urlLabel: string;
  urlPlaceholder: string;
  urlHelp: string;
  /** Datadog: the site picker. */
  sites?: readonly SiemUrlChoice[];
  /** New Relic: the region picker. */
  regions?: readonly SiemUrlChoice[];
  /** Path of the paste-and-go page in the repository. */
  docsPath: string;
  /**
   * Microsoft Sentinel: the credential is an OAuth2 client secret (`auth`), not a header value; the
   * token it buys is what goes in the Authorization header.
   */
  oauth2?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Datadog sites and New Relic regions

export const DATADOG_SITES: readonly SiemUrlChoice[] = [
  { id: 'datadoghq.com', label: 'US1 (datadoghq.com)', url: datadogIntakeUrl('datadoghq.com') },
  { id: 'us3.datadoghq.com', label: 'US3 (us3.datadoghq.com)', url: datadogIntakeUrl('us3.datadoghq.com') },
  { id: 'us5.datadoghq.com', label: 'US5 (us5.datadoghq.com)', url: datadogIntakeUrl('us5.datadoghq.com') },
  { id: 'datadoghq.eu', label: 'EU (datadoghq.eu)', url: datadogIntakeUrl('datadoghq.eu') },
  { id: 'ap1.datadoghq.com', label: 'AP1 (ap1.datadoghq.com)', url: datadogIntakeUrl('ap1.datadoghq.com') },
  { id: 'ap2.datadoghq.com', label: 'AP2 (ap2.datadoghq.com)', url: datadogIntakeUrl('ap2.datadoghq.com') },
  { id: 'uk1.datadoghq.com', label: 'UK1 (uk1.datadoghq.com)', url: datadogIntakeUrl('uk1.datadoghq.com') },
  { id: 'ddog-gov.com', label: 'US1-FED (ddog-gov.com)', url: datadogIntakeUrl('ddog-gov.com') },
  { id: 'us2.ddog-gov.com', label: 'US2-FED (us2.ddog-gov.com)', url: datadogIntakeUrl('us2.ddog-gov.com') },
];

export function datadogIntakeUrl(site: string): string {
  return `https://http-intake.logs.${site}/api/v2/logs`;
}

export const NEW_RELIC_REGIONS: readonly SiemUrlChoice[] = [
  { id: 'us', label: 'US', url: 'https://log-api.newrelic.com/log/v1' },
  { id: 'eu', label: 'EU', url: 'https://log-api.eu.newrelic.com/log/v1' },
  { id: 'jp', label: 'Japan', url: 'https://log-api.jp.nr-data.net/log/v1' },
  { id: 'fedramp', label: 'FedRAMP', url: 'https://gov-log-api.newrelic.com/log/v1' },
];

// ---------------------------------------------------------------------------------------------
// Microsoft Sentinel (Azure Monitor Logs Ingestion API)

/** The Logs Ingestion API version Aegis speaks (the one @azure/monitor-ingestion sends). */
export const SENTINEL_API_VERSION = '2023-01-01';
/** The Entra ID scope of the Logs Ingestion API in Azure's public cloud (what the Azure SDK asks for). */
export const SENTINEL_DEFAULT_SCOPE = 'https://monitor.azure.com//.default';
export const SENTINEL_DEFAULT_STREAM = 'Custom-AegisAudit_CL';
/** Data collection rule immutable ids: "dcr-" and 32 hexadecimal digits. */
export const DCR_IMMUTABLE_ID_RE = /^dcr-[0-9a-f]{32}$/i;

/** Microsoft Entra ID's v2.0 token endpoint for a tenant (a GUID or a verified domain). */
export function entraTokenUrl(tenantId: string): string {
  return `https://login.microsoftonline.com/${encodeURIComponent(tenantId.trim())}/oauth2/v2.0/token`;
}

/** The tenant of an Entra ID v2.0 token URL, or undefined when the URL is not one. */
export function tenantOfEntraTokenUrl(tokenUrl: string): string | undefined {
  const u = parseUrl(tokenUrl);
  if (!u || !/^login\.(microsoftonline\.(com|us)|chinacloudapi\.cn)$/i.test(u.hostname)) return undefined;
  const m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(u.pathname);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

/** The Logs Ingestion URL: {DCE}/dataCollectionRules/{DCR immutable id}/streams/{stream}?api-version=... */
export function sentinelIngestionUrl(endpoint: string, dcrImmutableId: string, streamName: string): string {
  const base = endpoint.trim().replace(/\/+$/, '');
  return `${base}/dataCollectionRules/${encodeURIComponent(dcrImmutableId.trim())}/streams/${encodeURIComponent(streamName.trim())}?api-version=${SENTINEL_API_VERSION}`;
}

export interface SentinelUrlParts {
  /** The data collection endpoint (or the DCR's own logs ingestion endpoint): scheme, host, port. */
  endpoint: string;
  dcrImmutableId: string;
  streamName: string;
  apiVersion: string | null;
}

/** The parts of a Logs Ingestion URL, or undefined when its path is not /dataCollectionRules/{id}/streams/{stream}. */
export function parseSentinelUrl(raw: string): SentinelUrlParts | undefined {
  const u = parseUrl(raw);
  if (!u) return undefined;
  const m = /^(.*?)\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)\/?$/.exec(u.pathname);
  if (!m) return undefined;
  let dcr: string;
  let stream: string;
  try {
    dcr = decodeURIComponent(m[2]!);
    stream = decodeURIComponent(m[3]!);
  } catch {
    return undefined;
  }
  return { endpoint: `${u.protocol}//${u.host}${m[1]!}`, dcrImmutableId: dcr, streamName: stream, apiVersion: u.searchParams.get('api-version') };
}

/**
 * The Logs Ingestion URL as stored: the path must name a DCR and a stream; api-version is set to the
 * version Aegis speaks when missing. Returns the problem in words when the URL is not one.
 */
export function normalizeSentinelUrl(raw: string): { ok: true; url: string } | { ok: false; message: string } {
  const parts = parseSentinelUrl(raw);
  if (!parts) {
    return {
      ok: false,
      message: `must be the Logs Ingestion URL: <data collection endpoint>/dataCollectionRules/<DCR immutable id>/streams/<stream name>?api-version=${SENTINEL_API_VERSION}`,
    };
  }
  if (!DCR_IMMUTABLE_ID_RE.test(parts.dcrImmutableId)) {
    return { ok: false, message: 'the DCR immutable id in the path must be dcr- followed by 32 hexadecimal digits (the DCR\'s immutableId, not its name or resource id)' };
  }
  const u = new URL(raw.trim());
  if (parts.apiVersion === null) u.searchParams.set('api-version', SENTINEL_API_VERSION);
  return { ok: true, url: u.toString() };
}

// ---------------------------------------------------------------------------------------------
// Presets

/**
 * What a preset sends when an optional setting is left empty. One value each: the encoders send it
 * and the dashboard shows it as the field's default, so the two cannot disagree.
 */
/**
 * Elastic's default target: the data stream named after the event's own dataset
 * (`logs-<event.dataset>-default`), so the stream's `data_stream.dataset` and the document's
 * `event.dataset` agree, as ECS asks. A data stream name allows only lowercase letters, digits, `.`
 * and `_` in the dataset part; anything else (no dataset the service produces today) becomes `_`.
 */
export function elasticDefaultIndex(dataset: string): string {
  return `logs-${dataset.toLowerCase().replace(/[^a-z0-9._]/g, '_')}-default`;
}

export const PRESET_OPTION_DEFAULTS = {
  splunk_hec: { source: 'aegis', sourcetype: 'aegis:audit' },
  elastic: { index: 'logs-<event.dataset>-default' },
} as const;

export const SIEM_PRESETS: Readonly<Record<SiemId, SiemPresetInfo>> = {
  splunk_hec: {
    id: 'splunk_hec',
    label: 'Splunk HEC',
    credentialLabel: 'HEC Token',
    credentialHelp:
      'Settings → Data inputs → HTTP Event Collector → your token. Paste the token value (a GUID); we add the "Splunk " prefix.',
    defaultHeaderName: 'Authorization',
    prefix: 'Splunk ',
    urlLabel: 'HEC URL',
    urlPlaceholder: 'https://splunk.example.com:8088/services/collector/event',
    urlHelp:
      'Splunk Enterprise: https://<host>:8088/services/collector/event. Splunk Cloud: https://http-inputs-<stack>.splunkcloud.com/services/collector/event.',
    docsPath: 'docs/siem/splunk_hec.md',
  },
  datadog: {
    id: 'datadog',
    label: 'Datadog Logs',
    credentialLabel: 'API Key',
    credentialHelp:
      'Organization Settings → API Keys. Use an API key (32 characters), not an application key, from the same site you picked.',
    defaultHeaderName: 'DD-API-KEY',
    prefix: '',
    urlLabel: 'Logs intake URL',
    urlPlaceholder: datadogIntakeUrl('datadoghq.com'),
    urlHelp: 'Pick your Datadog site (it is in the address bar when you sign in); we fill in its logs intake URL.',
    sites: DATADOG_SITES,
    docsPath: 'docs/siem/datadog.md',
  },
  sumo_logic: {
    id: 'sumo_logic',
    label: 'Sumo Logic',
    credentialLabel: 'Source token (optional)',
    credentialHelp:
      'Usually nothing to paste: the HTTP Source URL already carries its token. Only sources set up for header auth need the x-sumo-token value here.',
    defaultHeaderName: null,
    headerNameChoices: ['x-sumo-token'],
    prefix: '',
    urlLabel: 'HTTP Source address',
    urlPlaceholder: 'https://endpoint1.collection.sumologic.com/receiver/v1/http/<token>',
    urlHelp:
      'Collection → your Hosted Collector → HTTP Logs & Metrics Source → Show URL. Paste the whole URL, token included.',
    docsPath: 'docs/siem/sumo_logic.md',
  },
  elastic: {
    id: 'elastic',
    label: 'Elastic',
    credentialLabel: 'API key (encoded)',
    credentialHelp:
      'Kibana → Stack Management → API keys → Create API key, then copy the "Encoded" value. We add the "ApiKey " prefix.',
    defaultHeaderName: 'Authorization',
    prefix: 'ApiKey ',
    urlLabel: 'Elasticsearch endpoint',
    urlPlaceholder: 'https://my-deployment.es.us-east-1.aws.elastic-cloud.com/_bulk',
    urlHelp:
      `The Elasticsearch endpoint (not Kibana), followed by /_bulk. Events go to the data stream of their dataset (${elasticDefaultIndex('aegis.preflight')} for preflight decisions) unless you set another index.`,
    docsPath: 'docs/siem/elastic.md',
  },
  new_relic: {
    id: 'new_relic',
    label: 'New Relic',
    credentialLabel: 'License key',
    credentialHelp:
      'API keys → your INGEST - LICENSE key (40 characters, ending in NRAL). Use a key of the same region as the endpoint.',
    defaultHeaderName: 'Api-Key',
    headerNameChoices: ['Api-Key', 'X-License-Key'],
    prefix: '',
    urlLabel: 'Log API endpoint',
    urlPlaceholder: NEW_RELIC_REGIONS[0]!.url,
    urlHelp: 'Pick the region of your New Relic account; we fill in its Log API endpoint.',
    regions: NEW_RELIC_REGIONS,
    docsPath: 'docs/siem/new_relic.md',
  },
  microsoft_sentinel: {
    id: 'microsoft_sentinel',
    label: 'Microsoft Sentinel',
    credentialLabel: 'Client secret',
    credentialHelp:
      'Microsoft Entra ID → App registrations → your app → Certificates & secrets. Paste the secret’s Value (shown once when created), not its Secret ID.',
    defaultHeaderName: null,
    prefix: '',
    urlLabel: 'Data collection endpoint (DCE)',
    urlPlaceholder: 'https://my-dce-a1b2.eastus-1.ingest.monitor.azure.com',
    urlHelp:
      'Azure portal → Monitor → Data collection endpoints → your DCE → Logs Ingestion. Or the DCR’s own logs ingestion endpoint (DCR → JSON view → endpoints.logsIngestion).',
    docsPath: 'docs/siem/microsoft_sentinel.md',
    oauth2: true,
  },
  custom: {
    id: 'custom',
    label: 'Custom HTTPS webhook',
    credentialLabel: 'Auth header value',
    credentialHelp: 'The full header value your receiver expects, for example "Bearer <token>".',
    defaultHeaderName: 'Authorization',
    prefix: '',
    urlLabel: 'Webhook URL',
    urlPlaceholder: 'https://your-siem.example/ingest',
    urlHelp: 'Each audit event is POSTed on its own as JSON, with its event.id in the Idempotency-Key header.',
    docsPath: 'docs/siem/custom.md',
  },
};

export function getPresetInfo(siem: SiemId): SiemPresetInfo {
  return SIEM_PRESETS[siem];
}

/** The URL for a site (Datadog) or region (New Relic) picker choice; undefined when the preset has none. */
export function buildUrl(siem: SiemId, choiceId: string): string | undefined {
  const info = SIEM_PRESETS[siem];
  const choices = info.sites ?? info.regions ?? [];
  return choices.find((c) => c.id === choiceId)?.url;
}

// ---------------------------------------------------------------------------------------------
// Prefix

/**
 * The header value the form stores for a pasted credential: trimmed, with the preset's prefix
 * ("Splunk ", "ApiKey ") present exactly once. Idempotent: applyPrefix(s, applyPrefix(s, x)) === applyPrefix(s, x).
 */
export function applyPrefix(siem: SiemId, token: string): string {
  const prefix = SIEM_PRESETS[siem].prefix;
  let value = token.trim();
  if (prefix === '') return value;
  const scheme = prefix.trim().toLowerCase();
  // Strip every leading copy of the prefix (any case, any spacing), then add one.
  for (;;) {
    const m = /^(\S+)\s+(.*)$/s.exec(value);
    if (!m || m[1]!.toLowerCase() !== scheme) break;
    value = m[2]!.trim();
  }
  if (value.toLowerCase() === scheme) value = '';
  return value === '' ? '' : `${prefix}${value}`;
}

// ---------------------------------------------------------------------------------------------
// Format hints

export interface FormatHint {
  field: 'url' | 'auth_header_value' | 'auth_header_name' | SentinelField;
  severity: 'error' | 'warning' | 'info';
  message: string;
  fix?: { label: string; value: string };
}

export interface FormatHintInput {
  url: string;
  authHeaderName?: string | null;
  authHeaderValue?: string | null;
  /** Datadog site id chosen in the picker, when there is one. */
  site?: string | null;
  /** New Relic region id chosen in the picker, when there is one. */
  region?: string | null;
  /**
   * Microsoft Sentinel's form fields (`url` is then the data collection endpoint, or a whole Logs
   * Ingestion URL). A field left undefined is not checked (Edit leaves the secret alone).
   */
  sentinel?: Partial<Record<SentinelField, string | null>>;
}

export type SentinelField = 'dcr_immutable_id' | 'stream_name' | 'tenant_id' | 'client_id' | 'client_secret';

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw.trim());
  } catch {
    return undefined;
  }
}

function withPath(u: URL, path: string): string {
  const copy = new URL(u.toString());
  copy.pathname = path;
  copy.search = '';
  copy.hash = '';
  return copy.toString();
}

/** Decode standard or URL-safe base64 (padding optional); undefined when it is not base64 text. */
function decodeBase64(value: string): string | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value) || value.length < 4) return undefined;
  let s = value.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (s.length % 4 === 1) return undefined;
  while (s.length % 4 !== 0) s += '=';
  try {
    const binary = atob(s);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    // Printable ASCII only: an API key decodes to plain text.
    return /^[\x20-\x7e]+$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

function encodeBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Split "Scheme rest" when the first word is the given scheme (case-insensitive). */
function stripScheme(value: string, scheme: string): { had: number; rest: string } {
  let had = 0;
  let rest = value.trim();
  for (;;) {
    const m = /^(\S+)\s+(.*)$/s.exec(rest);
    if (!m || m[1]!.toLowerCase() !== scheme.toLowerCase()) break;
    had++;
    rest = m[2]!.trim();
  }
  return { had, rest };
}

function genericHints(siem: SiemId, input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void {
  const info = SIEM_PRESETS[siem];
  if (input.url.trim() === '') {
    hints.push({ field: 'url', severity: 'error', message: `Paste your ${info.urlLabel}, for example ${info.urlPlaceholder}.` });
    return;
  }
  if (!u) {
    hints.push({
      field: 'url',
      severity: 'error',
      message: `This is not a complete URL. Paste the full address, starting with https://, for example ${info.urlPlaceholder}.`,
    });
    return;
  }
  if (u.protocol === 'http:') {
    const fixed = new URL(u.toString());
    fixed.protocol = 'https:';
    hints.push({
      field: 'url',
      severity: 'error',
      message: 'Use https://: audit events and your credential must not travel unencrypted.',
      fix: { label: 'Switch to https://', value: fixed.toString() },
    });
  } else if (u.protocol !== 'https:') {
    hints.push({ field: 'url', severity: 'error', message: 'The URL must start with https://.' });
  }
  if (u.username !== '' || u.password !== '') {
    hints.push({
      field: 'url',
      severity: 'error',
      message: 'Remove the user name and password from the URL; put the credential in the auth header instead.',
    });
  }
  const name = input.authHeaderName?.trim() ?? '';
  const value = input.authHeaderValue ?? '';
  // The same rule (and sentence) as the API's 400, so the form never accepts what the server refuses.
  const nameProblem = name === '' ? null : headerNameProblem(name);
  if (nameProblem !== null) hints.push({ field: 'auth_header_name', severity: 'error', message: nameProblem });
  if (/[\r\n\0]/.test(value)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'The header value contains a line break; paste the credential on a single line.',
      fix: { label: 'Remove line breaks', value: value.replace(/[\r\n\0]+/g, '').trim() },
    });
  } else if (value !== value.trim() && value.trim() !== '') {
    hints.push({
      field: 'auth_header_value',
      severity: 'info',
      message: 'Leading or trailing spaces will be removed.',
      fix: { label: 'Trim', value: value.trim() },
    });
  }
}

function expectHeaderName(input: FormatHintInput, allowed: readonly string[], hints: FormatHint[]): void {
  const name = input.authHeaderName?.trim() ?? '';
  if (name === '' || allowed.some((a) => a.toLowerCase() === name.toLowerCase())) return;
  hints.push({
    field: 'auth_header_name',
    severity: 'error',
    message: `This SIEM reads the credential from the ${allowed.join(' or ')} header, not ${name}.`,
    fix: { label: `Use ${allowed[0]!}`, value: allowed[0]! },
  });
}

function splunkHints(input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void {
  if (u && (u.protocol === 'https:' || u.protocol === 'http:')) {
    const path = u.pathname.replace(/\/+$/, '');
    const eventPath = '/services/collector/event';
    if (path === '' ) {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'Add the HEC endpoint path /services/collector/event to the URL.',
        fix: { label: 'Append /services/collector/event', value: withPath(u, eventPath) },
      });
    } else if (path === '/services/collector/raw' || path === '/services/collector/health' || path === '/services/collector/ack') {
      hints.push({
        field: 'url',
        severity: 'error',
        message: `${path} does not take JSON events; Aegis sends to /services/collector/event.`,
        fix: { label: 'Use /services/collector/event', value: withPath(u, eventPath) },
      });
    } else if (path === '/services/collector') {
      hints.push({
        field: 'url',
        severity: 'info',
        message: '/services/collector works, but /services/collector/event is the explicit event endpoint.',
        fix: { label: 'Use /services/collector/event', value: withPath(u, eventPath) },
      });
    } else if (path !== eventPath && path !== `${eventPath}/1.0`) {
      hints.push({
        field: 'url',
        severity: 'warning',
        message: `Splunk HEC receives JSON events at /services/collector/event, not ${path}.`,
        fix: { label: 'Use /services/collector/event', value: withPath(u, eventPath) },
      });
    }
    const host = u.hostname.toLowerCase();
    if (host.endsWith('.splunkcloud.com')) {
      const port = u.port === '' ? '443' : u.port;
      if (!host.startsWith('http-inputs-') && port !== '8088') {
        const stack = host.replace(/\.splunkcloud\.com$/, '').replace(/^(es-|si-)/, '');
        const fixed = new URL(withPath(u, eventPath));
        fixed.hostname = `http-inputs-${stack}.splunkcloud.com`;
        fixed.port = '';
        hints.push({
          field: 'url',
          severity: 'error',
          message:
            'Splunk Cloud receives HEC data on a separate host: add the http-inputs- prefix (port 443). Free trial stacks use https://<stack>.splunkcloud.com:8088 instead.',
          fix: { label: `Use ${fixed.hostname}`, value: fixed.toString() },
        });
      } else if (host.startsWith('http-inputs-') && port !== '443') {
        const fixed = new URL(u.toString());
        fixed.port = '';
        hints.push({
          field: 'url',
          severity: 'error',
          message: `Managed Splunk Cloud listens for HEC on port 443 on http-inputs- hosts, not ${port}; remove the port.`,
          fix: { label: 'Remove the port', value: fixed.toString() },
        });
      }
    } else if (u.port === '') {
      hints.push({
        field: 'url',
        severity: 'info',
        message: 'Splunk Enterprise listens for HEC on port 8088 by default; add :8088 unless a load balancer fronts HEC on 443.',
      });
    }
  }

  expectHeaderName(input, ['Authorization'], hints);
  const raw = (input.authHeaderValue ?? '').trim();
  if (raw === '') {
    hints.push({ field: 'auth_header_value', severity: 'error', message: 'Paste your HEC token.' });
    return;
  }
  const { had, rest } = stripScheme(raw, 'Splunk');
  if (/^(Bearer|Basic)\s/i.test(raw)) {
    const token = raw.replace(/^\S+\s+/, '');
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'Splunk HEC expects "Splunk <token>", not Bearer or Basic; otherwise it answers 401 (code 3).',
      fix: { label: 'Use the Splunk prefix', value: `Splunk ${token}` },
    });
    return;
  }
  if (had === 0) {
    hints.push({
      field: 'auth_header_value',
      severity: 'warning',
      message: 'The token must be sent as "Splunk <token>"; without the prefix Splunk answers 401 (code 3).',
      fix: { label: 'Add the Splunk prefix', value: `Splunk ${rest}` },
    });
  } else if (had > 1) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'The Splunk prefix appears twice; send it once ("Splunk <token>").',
      fix: { label: 'Keep one prefix', value: `Splunk ${rest}` },
    });
  }
  if (rest !== '' && !GUID_RE.test(rest)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'warning',
      message:
        'HEC tokens look like 12345678-1234-1234-1234-1234567890ab; check that you copied the token value, not its name.',
    });
  }
}

function elasticHints(input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void {
  if (u && (u.protocol === 'https:' || u.protocol === 'http:')) {
    const host = u.hostname.toLowerCase();
    const path = u.pathname.replace(/\/+$/, '');
    if (host.includes('.kb.') || u.port === '5601' || path.startsWith('/app/')) {
      hints.push({
        field: 'url',
        severity: 'error',
        message:
          'This looks like the Kibana address. Use the Elasticsearch endpoint (Deployment → Copy endpoint for Elasticsearch) followed by /_bulk.',
      });
    } else if (!/(^|\/)_bulk$/.test(path)) {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'Add /_bulk to the Elasticsearch endpoint: Aegis writes events in batches through the bulk API.',
        fix: { label: 'Append /_bulk', value: withPath(u, `${path}/_bulk`) },
      });
    }
  }

  expectHeaderName(input, ['Authorization'], hints);
  const raw = (input.authHeaderValue ?? '').trim();
  if (raw === '') {
    hints.push({ field: 'auth_header_value', severity: 'error', message: 'Paste the encoded API key.' });
    return;
  }
  if (/^(Bearer|Basic)\s/i.test(raw)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'warning',
      message: 'Aegis expects an Elasticsearch API key sent as "ApiKey <encoded>"; create one in Kibana → Stack Management → API keys.',
    });
    return;
  }
  const { had, rest } = stripScheme(raw, 'ApiKey');
  const decoded = decodeBase64(rest);

  if (rest.includes(':') && decoded === undefined) {
    // Raw "id:api_key" pasted.
    const fixValue = `ApiKey ${encodeBase64(rest)}`;
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'This is the raw id:api_key pair; Elasticsearch expects it base64-encoded (the "Encoded" value Kibana shows).',
      fix: { label: 'Encode it', value: fixValue },
    });
    return;
  }
  if (decoded === undefined) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'This is not an encoded API key. Copy the "Encoded" value shown when you create the key (base64 of id:api_key).',
    });
    return;
  }
  const inner = stripScheme(decoded, 'ApiKey');
  if (inner.had > 0) {
    // base64 of "ApiKey <something>": the prefix was encoded too.
    const innerDecoded = decodeBase64(inner.rest);
    const encoded = innerDecoded !== undefined && innerDecoded.includes(':') ? inner.rest : encodeBase64(inner.rest);
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'The word ApiKey was base64-encoded together with the key; only id:api_key should be encoded.',
      fix: { label: 'Re-encode without the prefix', value: `ApiKey ${encoded}` },
    });
    return;
  }
  if (!/^[^:\s]+:[^:\s]+$/.test(decoded)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message:
        'This value does not decode to id:api_key; it may be the api_key alone. Copy the "Encoded" value instead, or paste id:api_key and let us encode it.',
    });
    return;
  }
  if (had === 0) {
    hints.push({
      field: 'auth_header_value',
      severity: 'warning',
      message: 'Elasticsearch expects "ApiKey <encoded>"; without the prefix it answers 401.',
      fix: { label: 'Add the ApiKey prefix', value: `ApiKey ${rest}` },
    });
  } else if (had > 1) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'The ApiKey prefix appears twice; send it once ("ApiKey <encoded>").',
      fix: { label: 'Keep one prefix', value: `ApiKey ${rest}` },
    });
  }
}

function siteOfDatadogHost(host: string): string | undefined {
  // Longest match wins: us5.datadoghq.com must not be taken for datadoghq.com.
  let best: string | undefined;
  for (const s of DATADOG_SITES) {
    if ((host === s.id || host.endsWith(`.${s.id}`)) && (!best || s.id.length > best.length)) best = s.id;
  }
  return best;
}

function datadogHints(input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void {
  const chosen = input.site ? DATADOG_SITES.find((s) => s.id === input.site) : undefined;
  if (u && (u.protocol === 'https:' || u.protocol === 'http:')) {
    const host = u.hostname.toLowerCase();
    const urlSite = siteOfDatadogHost(host);
    const exact = DATADOG_SITES.find((s) => s.url === `https://${host}${u.pathname}` && u.port === '');
    if (!urlSite) {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'This is not a Datadog logs intake URL. Pick your Datadog site and we fill it in.',
        fix: { label: `Use ${(chosen ?? DATADOG_SITES[0]!).label}`, value: (chosen ?? DATADOG_SITES[0]!).url },
      });
    } else if (!exact) {
      const intake = datadogIntakeUrl(urlSite);
      hints.push({
        field: 'url',
        severity: 'error',
        message: `Datadog receives logs at ${intake}; the app or API address of your site will not accept them.`,
        fix: { label: 'Use the logs intake URL', value: intake },
      });
    }
    if (chosen && urlSite && chosen.id !== urlSite) {
      hints.push({
        field: 'url',
        severity: 'error',
        message: `The URL is for site ${urlSite} but you picked ${chosen.label}; a key from one site is refused by another (403).`,
        fix: { label: `Use ${chosen.label}`, value: chosen.url },
      });
    }
  }

  expectHeaderName(input, ['DD-API-KEY'], hints);
  const raw = (input.authHeaderValue ?? '').trim();
  if (raw === '') {
    hints.push({ field: 'auth_header_value', severity: 'error', message: 'Paste your Datadog API key.' });
    return;
  }
  const stripped = raw.replace(/^(DD-API-KEY\s*:|Bearer\s+|ApiKey\s+)/i, '').trim();
  if (stripped !== raw) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'Datadog takes the API key alone in the DD-API-KEY header, with no prefix.',
      fix: { label: 'Remove the prefix', value: stripped },
    });
  }
  if (/^[0-9a-f]{40}$/i.test(stripped)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message:
        'This looks like an application key (40 characters). Logs intake needs an API key (32 characters): Organization Settings → API Keys.',
    });
  } else if (!/^[0-9a-f]{32}$/i.test(stripped)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'warning',
      message: 'Datadog API keys are 32 hexadecimal characters; check that you copied the whole key.',
    });
  }
}

function sumoHints(input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void {
  const name = input.authHeaderName?.trim().toLowerCase() ?? '';
  const value = (input.authHeaderValue ?? '').trim();
  if (u && (u.protocol === 'https:' || u.protocol === 'http:')) {
    const host = u.hostname.toLowerCase();
    if (!host.endsWith('.sumologic.com') && !host.endsWith('.sumologic.net')) {
      hints.push({
        field: 'url',
        severity: 'warning',
        message: 'Sumo Logic HTTP Source URLs are on sumologic.com (endpoint<N>.collection.<deployment>.sumologic.com); check you copied the source URL.',
      });
    }
    const m = /^\/receiver\/v1\/http(?:\/([^/]+))?\/?$/.exec(u.pathname);
    if (!m) {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'Paste the HTTP Source URL exactly as Sumo Logic shows it: it ends in /receiver/v1/http/<token>.',
      });
    } else if (!m[1]) {
      if (name !== 'x-sumo-token' || value === '') {
        hints.push({
          field: 'url',
          severity: 'error',
          message:
            'The URL has no token after /receiver/v1/http/. Paste the full source URL, or set the x-sumo-token header if your source uses header auth.',
        });
      }
    }
  }
  if (name !== '' && name !== 'x-sumo-token' && value !== '') {
    hints.push({
      field: 'auth_header_name',
      severity: 'info',
      message: 'Sumo Logic reads the token from the URL (or the x-sumo-token header); this header is not needed.',
    });
  }
}

function regionOfNewRelicUrl(u: URL): SiemUrlChoice | undefined {
  return NEW_RELIC_REGIONS.find((r) => {
    const ru = new URL(r.url);
    return ru.hostname === u.hostname.toLowerCase();
  });
}

function newRelicHints(input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void {
  const chosen = input.region ? NEW_RELIC_REGIONS.find((r) => r.id === input.region) : undefined;
  let urlRegion: SiemUrlChoice | undefined;
  if (u && (u.protocol === 'https:' || u.protocol === 'http:')) {
    urlRegion = regionOfNewRelicUrl(u);
    const fallback = chosen ?? NEW_RELIC_REGIONS[0]!;
    if (!urlRegion) {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'This is not a New Relic Log API endpoint. Pick your region and we fill in its /log/v1 URL.',
        fix: { label: `Use the ${fallback.label} endpoint`, value: fallback.url },
      });
    } else if (u.pathname.replace(/\/+$/, '') !== '/log/v1') {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'The Log API path is /log/v1.',
        fix: { label: 'Use /log/v1', value: urlRegion.url },
      });
    }
    if (chosen && urlRegion && chosen.id !== urlRegion.id) {
      hints.push({
        field: 'url',
        severity: 'error',
        message: `The URL is the ${urlRegion.label} endpoint but you picked ${chosen.label}; a key is refused outside its own region (403).`,
        fix: { label: `Use the ${chosen.label} endpoint`, value: chosen.url },
      });
    }
  }

  expectHeaderName(input, ['Api-Key', 'X-License-Key'], hints);
  const raw = (input.authHeaderValue ?? '').trim();
  if (raw === '') {
    hints.push({ field: 'auth_header_value', severity: 'error', message: 'Paste your New Relic license key.' });
    return;
  }
  const key = raw.replace(/^(Bearer|ApiKey)\s+/i, '');
  if (key !== raw) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'New Relic takes the key alone, with no prefix.',
      fix: { label: 'Remove the prefix', value: key },
    });
  }
  if (/^NRAK-/i.test(key)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'This is a User key (NRAK-...), which cannot send logs. Use your INGEST - LICENSE key (ends in NRAL).',
    });
  } else if (/^NRJS-/i.test(key)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'This is a Browser key (NRJS-...), which cannot send logs. Use your INGEST - LICENSE key (ends in NRAL).',
    });
  } else if (/^NRII-/i.test(key)) {
    const headerName = input.authHeaderName?.trim().toLowerCase() ?? '';
    if (headerName === 'x-license-key') {
      hints.push({
        field: 'auth_header_name',
        severity: 'error',
        message: 'An Insert key (NRII-...) goes in the Api-Key header, not X-License-Key.',
        fix: { label: 'Use Api-Key', value: 'Api-Key' },
      });
    }
  } else if (!/^[0-9A-Za-z]{36}NRAL$/.test(key) && !/^[0-9a-f]{40}$/i.test(key)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'warning',
      message: 'New Relic license keys are 40 characters and end in NRAL; check that you copied the whole INGEST - LICENSE key.',
    });
  }
  if (u && urlRegion && /^eu\d\d/i.test(key) && urlRegion.id !== 'eu') {
    const eu = NEW_RELIC_REGIONS.find((r) => r.id === 'eu')!;
    hints.push({
      field: 'url',
      severity: 'error',
      message: 'This is an EU account key (it starts with "eu"); send it to the EU endpoint, or New Relic answers 403.',
      fix: { label: 'Use the EU endpoint', value: eu.url },
    });
  }
}

function customHints(input: FormatHintInput, _u: URL | undefined, hints: FormatHint[]): void {
  const name = input.authHeaderName?.trim() ?? '';
  const value = (input.authHeaderValue ?? '').trim();
  if (name !== '' && value === '') {
    hints.push({
      field: 'auth_header_value',
      severity: 'info',
      message: `No ${name} value set: anyone who learns the URL can post to it. Add the credential your receiver expects.`,
    });
  }
  if (name.toLowerCase() === 'authorization' && value !== '' && !/^\S+\s+\S/.test(value)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'warning',
      message: 'Authorization values usually start with a scheme, for example "Bearer <token>"; check what your receiver expects.',
      fix: { label: 'Add Bearer', value: `Bearer ${value}` },
    });
  }
}

const TENANT_RE = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(?:\.[a-z0-9-]+)+)$/i;
const DCE_HOST_RE = /\.ingest\.monitor\.azure\.(com|us|cn)$/i;

function sentinelHints(input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void {
  const full = parseSentinelUrl(input.url);
  if (u && (u.protocol === 'https:' || u.protocol === 'http:')) {
    const host = u.hostname.toLowerCase();
    if (host.endsWith('.ods.opinsights.azure.com')) {
      hints.push({
        field: 'url',
        severity: 'error',
        message:
          'This is the retired HTTP Data Collector API (workspace id + shared key). Aegis uses the Logs Ingestion API: paste a data collection endpoint and the DCR immutable id instead.',
      });
    } else if (host.endsWith('.handler.control.monitor.azure.com')) {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'This is the DCE’s configuration access endpoint; use its Logs ingestion endpoint (…ingest.monitor.azure.com).',
        fix: { label: 'Use the ingestion endpoint', value: `https://${host.replace('.handler.control.', '.ingest.')}` },
      });
    } else if (!DCE_HOST_RE.test(host)) {
      hints.push({
        field: 'url',
        severity: 'warning',
        message: 'Logs ingestion endpoints look like https://<name>-<id>.<region>-1.ingest.monitor.azure.com; check you copied the Logs ingestion endpoint of your DCE.',
      });
    }
    if (full) {
      if (full.apiVersion !== null && full.apiVersion !== SENTINEL_API_VERSION) {
        hints.push({
          field: 'url',
          severity: 'warning',
          message: `Aegis sends api-version=${SENTINEL_API_VERSION}, the Logs Ingestion API version it is written for.`,
        });
      }
    } else if (input.sentinel === undefined && u.pathname.replace(/\/+$/, '') !== '') {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'Use the whole Logs Ingestion URL: <DCE>/dataCollectionRules/<DCR immutable id>/streams/<stream name>.',
      });
    } else if (input.sentinel !== undefined && u.pathname.replace(/\/+$/, '') !== '') {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'Paste the endpoint alone (https://…ingest.monitor.azure.com); the DCR and stream go in their own fields.',
        fix: { label: 'Keep the endpoint only', value: `${u.protocol}//${u.host}` },
      });
    }
  }
  const f = input.sentinel;
  if (!f) return;
  const dcr = f.dcr_immutable_id?.trim();
  if (dcr !== undefined && !full) {
    if (dcr === '') {
      hints.push({ field: 'dcr_immutable_id', severity: 'error', message: 'Paste the data collection rule’s Immutable Id (DCR → Overview → JSON view → immutableId).' });
    } else if (/^\/subscriptions\//i.test(dcr)) {
      hints.push({
        field: 'dcr_immutable_id',
        severity: 'error',
        message: 'This is the DCR’s resource id. The Logs Ingestion API takes its Immutable Id, dcr-<32 hex digits> (Overview → JSON view → immutableId).',
      });
    } else if (!DCR_IMMUTABLE_ID_RE.test(dcr)) {
      hints.push({ field: 'dcr_immutable_id', severity: 'error', message: 'DCR immutable ids look like dcr-000a00a000a00000a000000aa000a0aa (dcr- and 32 hexadecimal digits).' });
    }
  }
  const stream = f.stream_name?.trim();
  if (stream !== undefined && !full) {
    if (stream === '') {
      hints.push({
        field: 'stream_name',
        severity: 'error',
        message: `Name the DCR stream that takes the events, for example ${SENTINEL_DEFAULT_STREAM}.`,
        fix: { label: `Use ${SENTINEL_DEFAULT_STREAM}`, value: SENTINEL_DEFAULT_STREAM },
      });
    } else if (!/^(Custom|Microsoft)-/.test(stream)) {
      hints.push({
        field: 'stream_name',
        severity: 'error',
        message: 'Stream names start with Custom- (a stream declared in the DCR, e.g. Custom-AegisAudit_CL); the table name alone is refused (404).',
        fix: { label: `Use Custom-${stream}`, value: `Custom-${stream}` },
      });
    }
  }
  const tenant = f.tenant_id?.trim();
  if (tenant !== undefined) {
    if (tenant === '') {
      hints.push({ field: 'tenant_id', severity: 'error', message: 'Paste the Directory (tenant) ID from the app registration’s Overview.' });
    } else if (!TENANT_RE.test(tenant)) {
      hints.push({ field: 'tenant_id', severity: 'error', message: 'A tenant id is a GUID (Directory (tenant) ID) or a domain such as contoso.onmicrosoft.com.' });
    }
  }
  const client = f.client_id?.trim();
  if (client !== undefined) {
    if (client === '') {
      hints.push({ field: 'client_id', severity: 'error', message: 'Paste the Application (client) ID from the app registration’s Overview.' });
    } else if (!GUID_RE.test(client)) {
      hints.push({ field: 'client_id', severity: 'warning', message: 'The Application (client) ID is a GUID: 32 hexadecimal digits in groups of 8-4-4-4-12.' });
    } else if (tenant && client.toLowerCase() === tenant.toLowerCase()) {
      hints.push({ field: 'client_id', severity: 'error', message: 'The client id equals the tenant id; copy the Application (client) ID, not the Directory (tenant) ID.' });
    }
  }
  const secret = f.client_secret;
  if (secret !== undefined && secret !== null) {
    const t = secret.trim();
    if (t === '') {
      hints.push({ field: 'client_secret', severity: 'error', message: 'Paste the client secret’s Value.' });
    } else if (GUID_RE.test(t)) {
      hints.push({
        field: 'client_secret',
        severity: 'error',
        message: 'This looks like the secret’s Secret ID (a GUID). Paste its Value instead; Entra ID shows it only once, right after you create the secret.',
      });
    } else if (t !== secret) {
      hints.push({ field: 'client_secret', severity: 'info', message: 'Leading or trailing spaces will be removed.', fix: { label: 'Trim', value: t } });
    }
  }
}

/**
 * Hints for the destination form. Returns [] for a correct configuration.
 * `authHeaderValue` may be the pasted credential or the value after applyPrefix.
 */
export function formatHints(siem: SiemId, input: FormatHintInput): FormatHint[] {
  const hints: FormatHint[] = [];
  const u = parseUrl(input.url);
  genericHints(siem, input, u, hints);
  switch (siem) {
    case 'splunk_hec':
      splunkHints(input, u, hints);
      break;
    case 'elastic':
      elasticHints(input, u, hints);
      break;
    case 'datadog':
      datadogHints(input, u, hints);
      break;
    case 'sumo_logic':
      sumoHints(input, u, hints);
      break;
    case 'new_relic':
      newRelicHints(input, u, hints);
      break;
    case 'microsoft_sentinel':
      sentinelHints(input, u, hints);
      break;
    case 'custom':
      customHints(input, u, hints);
      break;
  }
  return hints;
}
