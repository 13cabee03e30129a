// Microsoft Sentinel's form preset and format hints (docs/siem/microsoft_sentinel.md).
// BROWSER-SAFE: the dashboard bundles this file (no node: imports, no Node-only globals).

import { defineForm, type FormatHint, type FormatHintInput } from '../form.js';
import { GUID_RE } from '../hintKit.js';
import { DCR_IMMUTABLE_ID_RE, ENTRA_TENANT_RE, parseSentinelUrl, SENTINEL_API_VERSION, SENTINEL_DEFAULT_STREAM } from './urls.js';

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
        message:
          'Logs ingestion endpoints look like https://<name>-<id>.<region>-1.ingest.monitor.azure.com; check you copied the Logs ingestion endpoint of your DCE.',
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
      hints.push({
        field: 'dcr_immutable_id',
        severity: 'error',
        message: 'Paste the data collection rule’s Immutable Id (DCR → Overview → JSON view → immutableId).',
      });
    } else if (/^\/subscriptions\//i.test(dcr)) {
      hints.push({
        field: 'dcr_immutable_id',
        severity: 'error',
        message: 'This is the DCR’s resource id. The Logs Ingestion API takes its Immutable Id, dcr-<32 hex digits> (Overview → JSON view → immutableId).',
      });
    } else if (!DCR_IMMUTABLE_ID_RE.test(dcr)) {
      hints.push({
        field: 'dcr_immutable_id',
        severity: 'error',
        message: 'DCR immutable ids look like dcr-000a00a000a00000a000000aa000a0aa (dcr- and 32 hexadecimal digits).',
      });
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
    } else if (!ENTRA_TENANT_RE.test(tenant)) {
      hints.push({
        field: 'tenant_id',
        severity: 'error',
        message: 'A tenant id is a GUID (Directory (tenant) ID) or a domain such as contoso.onmicrosoft.com.',
      });
    }
  }
  const client = f.client_id?.trim();
  if (client !== undefined) {
    if (client === '') {
      hints.push({ field: 'client_id', severity: 'error', message: 'Paste the Application (client) ID from the app registration’s Overview.' });
    } else if (!GUID_RE.test(client)) {
      hints.push({ field: 'client_id', severity: 'warning', message: 'The Application (client) ID is a GUID: 32 hexadecimal digits in groups of 8-4-4-4-12.' });
    } else if (tenant && client.toLowerCase() === tenant.toLowerCase()) {
      hints.push({
        field: 'client_id',
        severity: 'error',
        message: 'The client id equals the tenant id; copy the Application (client) ID, not the Directory (tenant) ID.',
      });
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

export const microsoftSentinelForm = defineForm({
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
  blurb: 'Logs Ingestion API, Entra ID app',
  hints: sentinelHints,
});
