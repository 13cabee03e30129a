// Microsoft Sentinel (Azure Monitor Logs Ingestion API): its constants and URLs, shared by the form,
// the API's checks (destinations/bodyChecks.ts, destinations/oauth2.ts) and the dashboard.
// BROWSER-SAFE: the dashboard bundles this file (no node: imports, no Node-only globals).

import { parseUrl } from '../hintKit.js';

/** The Logs Ingestion API version Aegis speaks (the one @azure/monitor-ingestion sends). */
export const SENTINEL_API_VERSION = '2023-01-01';
/** The Entra ID scope of the Logs Ingestion API in Azure's public cloud (what the Azure SDK asks for). */
export const SENTINEL_DEFAULT_SCOPE = 'https://monitor.azure.com//.default';
export const SENTINEL_DEFAULT_STREAM = 'Custom-AegisAudit_CL';
/** Data collection rule immutable ids: "dcr-" and 32 hexadecimal digits. */
export const DCR_IMMUTABLE_ID_RE = /^dcr-[0-9a-f]{32}$/i;

/** An Entra ID tenant: the Directory (tenant) ID, a GUID, or a verified domain such as contoso.onmicrosoft.com. */
export const ENTRA_TENANT_RE = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(?:\.[a-z0-9-]+)+)$/i;
/** The v2.0 token endpoint's path after the tenant, segment by segment. */
const TOKEN_PATH = ['oauth2', 'v2.0', 'token'] as const;
/**
 * Entra ID's sign-in hosts, aliases included (Entra's instance discovery lists login.windows.net,
 * login.microsoft.com and sts.windows.net as the public cloud's; login.partner.microsoftonline.cn and
 * login.usgovcloudapi.net and login-us.microsoftonline.com are the China and US Government clouds'
 * other names; <region>.login.microsoft.com are the regional token services MSAL can be pointed at):
 * each one issues the tenant's tokens, so each must name the same tenant as `tenant_id`.
 */
const ENTRA_HOST_RE =
  /^(?:login\.(?:microsoftonline\.(?:com|us)|windows\.net|chinacloudapi\.cn|partner\.microsoftonline\.cn|usgovcloudapi\.net)|(?:[a-z0-9-]+\.)?login\.microsoft\.com|login-us\.microsoftonline\.com|sts\.windows\.net)$/i;

/** Microsoft Entra ID's v2.0 token endpoint for a tenant (a GUID or a verified domain). */
export function entraTokenUrl(tenantId: string): string {
  return `https://login.microsoftonline.com/${encodeURIComponent(tenantId.trim())}/oauth2/v2.0/token`;
}

/** What a token URL says about Entra ID: not its host, its tenant, or a path that is not a v2.0 token endpoint. */
export type EntraTokenUrl = { entra: false } | { entra: true; tenant: string } | { entra: true; problem: string };

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined; // a bad escape (%zz, a broken UTF-8 sequence)
  }
}

/**
 * Reads a token URL the way it reaches Entra ID, so every spelling of one endpoint names one tenant:
 * the URL parser lower-cases the host and decodes escapes in it, DNS and TLS ignore the host's
 * trailing dot, and an escaped letter in the path (%6F for "o") is that letter (RFC 3986 6.2.2.2).
 * On Entra ID's host the path must then be exactly /<tenant>/oauth2/v2.0/token: a bad escape, an
 * empty segment (//), an escaped "/" inside the tenant or anything else is a problem to refuse, not
 * a URL that names no tenant (which would let tenant_id disagree with where tokens come from).
 */
export function readEntraTokenUrl(tokenUrl: string): EntraTokenUrl {
  const u = parseUrl(tokenUrl);
  // Every trailing dot: `login.microsoftonline.com..` must not pass for a host that names no tenant.
  const host = u?.hostname.replace(/\.+$/, '');
  if (!u || !host || !ENTRA_HOST_RE.test(host)) return { entra: false };
  const problem = `must be Entra ID's token endpoint, https://${host.toLowerCase()}/<tenant>/oauth2/v2.0/token, the tenant a GUID or a verified domain`;
  // Compared segment by segment: "oauth2%2Fv2.0" decodes to text with a "/" in it, but it is one
  // segment on the wire, not two.
  const [tenant, ...rest] = u.pathname.split('/').slice(1).map(decodeSegment);
  const endpoint = rest.length === TOKEN_PATH.length && rest.every((seg, i) => seg?.toLowerCase() === TOKEN_PATH[i]);
  if (tenant === undefined || !ENTRA_TENANT_RE.test(tenant) || !endpoint) return { entra: true, problem };
  return { entra: true, tenant };
}

/** The tenant of an Entra ID v2.0 token URL, or undefined when the URL names none (never throws). */
export function tenantOfEntraTokenUrl(tokenUrl: string): string | undefined {
  const read = readEntraTokenUrl(tokenUrl);
  return 'tenant' in read ? read.tenant : undefined;
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
