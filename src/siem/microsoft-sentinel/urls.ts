// Microsoft Sentinel (Azure Monitor Logs Ingestion API): its constants and URLs, shared by the form,
// the API's checks (destinations/service.ts, destinations/oauth2.ts) and the dashboard.
// BROWSER-SAFE: the dashboard bundles this file (no node: imports, no Node-only globals).

import { parseUrl } from '../hintKit.js';

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
    return {
      ok: false,
      message: "the DCR immutable id in the path must be dcr- followed by 32 hexadecimal digits (the DCR's immutableId, not its name or resource id)",
    };
  }
  const u = new URL(raw.trim());
  if (parts.apiVersion === null) u.searchParams.set('api-version', SENTINEL_API_VERSION);
  return { ok: true, url: u.toString() };
}
