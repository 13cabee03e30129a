// One OAuth2 client-credentials token request (RFC 6749 section 4.4) through the destinations' own
// outbound client, so the token endpoint gets what every delivery gets: the connect-time private
// address guard, the timeouts, no redirects, a capped answer. Never throws.
import type { OutboundClient } from '../outbound/client.js';
import { classifyResult, clip, parseRetryAfter } from '../failure.js';
import { isRecord, parseJson } from '../../siem/types.js';
import { secretScrubber } from '../scrubSecrets.js';
import { urlSecrets } from '../urlSecrets.js';
import { cutAnswer, scrubResult } from '../outbound/credentialScrub.js';
import type { OutboundResult } from '../outbound/types.js';
import type { TokenEndpointAuthMethod } from '../../destinations/oauth2.js';

/** A destination's OAuth2 client, its secret opened: lives only in memory. */
export interface OAuth2ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string | null;
  authMethod: TokenEndpointAuthMethod;
}

export type TokenResult =
  | { ok: true; token: string; expiresInS: number; durationMs: number }
  | {
      ok: false;
      error: string;
      durationMs: number;
      /**
       * The token endpoint said "too many" (429): pacing, as a SIEM's 429 is (the events go back without
       * an attempt, nothing is sent before Retry-After). As an ordinary failure it spent an attempt per
       * try, so a throttled endpoint dead-lettered events a healthy SIEM would have taken (an OAuth2 review).
       */
      rateLimited?: { retryAfterMs?: number };
    };

/** Lifetime assumed when the answer has no expires_in (RFC 6749 leaves it optional): short, to be safe. */
export const DEFAULT_EXPIRES_IN_S = 300;
/** The lifetime a token is trusted for, whatever expires_in says: one minute to one day. */
export const MIN_EXPIRES_IN_S = 60;
export const MAX_EXPIRES_IN_S = 86_400;
/** A token is a header value: visible ASCII only (RFC 6750's b64token is stricter still). */
const TOKEN_RE = /^[\x21-\x7e]+$/;
/**
 * The longest access token taken. Identity providers' tokens stay within a few kilobytes (Entra ID
 * replaces a long group list with an overage claim), and most servers refuse a header line past 8 or
 * 16 KiB anyway. A token is sent with every request and scrubbed from every answer in all its
 * spellings (delivery/scrubSecrets.ts), so one an endpoint made as long as its answer may be would
 * cost the shared worker that much per request of its tenant.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * An OAuth2 error code as RFC 6749 section 5.2 allows it (NQSCHAR: printable ASCII but `"` and `\`),
 * and short: the registered codes are a few words. Anything else the endpoint put in `error` (line
 * breaks that would start lines of their own in an alert e-mail quoting last_error, kilobytes copied
 * into every job's row) is not quoted.
 */
const ERROR_CODE_RE = /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/;
const MAX_ERROR_CODE_LENGTH = 64;

/** application/x-www-form-urlencoded, as RFC 6749 appendix B asks (space as +). */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** The request body and headers for the client's authentication method. */
export function tokenRequest(cfg: OAuth2ClientCredentials): { body: string; headers: Record<string, string> } {
  const fields: Array<[string, string]> = [['grant_type', 'client_credentials']];
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8', accept: 'application/json' };
  if (cfg.authMethod === 'client_secret_post') {
    // What MSAL (the Azure SDK's ClientSecretCredential) sends to Microsoft Entra ID.
    fields.push(['client_id', cfg.clientId], ['client_secret', cfg.clientSecret]);
  } else {
    // RFC 6749 section 2.3.1: both parts form-encoded, then joined by ":" and base64-encoded.
    headers['authorization'] = `Basic ${Buffer.from(`${formEncode(cfg.clientId)}:${formEncode(cfg.clientSecret)}`, 'utf8').toString('base64')}`;
  }
  if (cfg.scope !== null) fields.push(['scope', cfg.scope]);
  return { body: fields.map(([k, v]) => `${k}=${formEncode(v)}`).join('&'), headers };
}

/**
 * The action-oriented sentence for a refused token request: Microsoft Entra ID's AADSTS codes where
 * it gives one, else the OAuth2 error code (RFC 6749 section 5.2).
 */
export function describeTokenError(status: number, body: string): string {
  const parsed = parseJson(body);
  const sent = isRecord(parsed) && typeof parsed.error === 'string' ? parsed.error : undefined;
  const error = sent !== undefined && sent.length <= MAX_ERROR_CODE_LENGTH && ERROR_CODE_RE.test(sent) ? sent : undefined;
  const description = isRecord(parsed) && typeof parsed.error_description === 'string' ? parsed.error_description : '';
  const codes = isRecord(parsed) && Array.isArray(parsed.error_codes) ? parsed.error_codes.filter((c): c is number => typeof c === 'number') : [];
  const aadsts = new Set([...codes.map(String), ...[...description.matchAll(/AADSTS(\d+)/g)].map((m) => m[1]!)]);
  const has = (...c: string[]) => c.some((x) => aadsts.has(x));

  if (has('7000215'))
    return "Microsoft Entra ID refused the client secret (AADSTS7000215): check the client secret — paste the secret's Value, not its Secret ID.";
  if (has('7000222')) return 'The client secret has expired (AADSTS7000222): create a new secret for the app registration and paste its Value here.';
  if (has('700016'))
    return 'Microsoft Entra ID knows no app with this client id in the tenant (AADSTS700016): check the client id (Application (client) ID) and the tenant id.';
  if (has('90002', '900023', '90013')) return 'Microsoft Entra ID knows no such tenant: check the tenant id (Directory (tenant) ID of the app registration).';
  if (has('70011', '1002012', '500011'))
    return 'Microsoft Entra ID refused the scope: for Microsoft Sentinel it is https://monitor.azure.com//.default (the app needs no API permission for it).';

  const detail = description ? `: ${clip(description.split(/\r?\n/)[0] ?? '', 120)}` : '';
  const said = error ? ` (${error}${detail})` : sent ? ` (an unreadable error code${detail})` : '';
  switch (error) {
    case 'invalid_client':
      return `The token endpoint refused the client credentials${said}: check the client id and the client secret.`;
    case 'unauthorized_client':
      return `The client may not use the client_credentials grant${said}: allow that grant for this client on the authorization server.`;
    case 'invalid_scope':
      return `The token endpoint refused the scope${said}: check the scope.`;
    case 'unsupported_grant_type':
      return `The token endpoint does not offer the client_credentials grant${said}: check the token URL.`;
    default:
      break;
  }
  if (status === 401 || status === 403) return `The token endpoint refused the client (HTTP ${status})${said}: check the client id and the client secret.`;
  if (status === 404 || status === 405)
    return `The token URL answered HTTP ${status}${said}: check the token URL (an OAuth2 token endpoint, e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token).`;
  if (status === 429) return `The token endpoint is rate limiting${said}; Aegis will retry.`;
  if (status >= 500) return `The token endpoint had a server error (HTTP ${status})${said}; Aegis will retry.`;
  if (status >= 300 && status < 400) return `The token URL redirects (HTTP ${status}): use the final token endpoint URL — redirects are never followed.`;
  return `The token endpoint answered HTTP ${status}${said}: check the token URL, client id and client secret.`;
}

/** "OAuth2 token request to <host> failed: <sentence>", the prefix every token failure carries. */
function failure(cfg: OAuth2ClientCredentials, sentence: string, durationMs: number): TokenResult {
  const host = URL.canParse(cfg.tokenUrl) ? new URL(cfg.tokenUrl).host : 'the token endpoint';
  // One line, as long as any other failure text at most (failure.ts): it is every job's last_error.
  return { ok: false, error: clip(`OAuth2 token request to ${host} failed: ${sentence}`), durationMs };
}

/**
 * How much of a refusal that is not JSON is read (its start), and of each part of a JSON one that
 * describeTokenError reads (it quotes 120 characters at most). An OAuth2 error answer (Entra ID's,
 * with its trace and correlation ids and error_codes, is under 1 KiB) is read whole.
 */
const REFUSAL_READ_CHARS = 4096;
const REFUSAL_PART_CHARS = 1024;
const REFUSAL_CODES = 20;

/**
 * What of a refusal is scrubbed and read: the scrub runs on the worker's loop, for every request of
 * the destination while its token endpoint refuses (failures are not cached), and an endpoint may pad
 * its answer with text slow to scrub (64 KiB took 44 ms, a review's measure). A JSON answer is
 * reduced to the parts describeTokenError reads, each cut; anything else to its start.
 */
export function refusalToRead(result: OutboundResult): OutboundResult {
  if (result.kind === 'network') return result;
  const parsed = parseJson(result.body);
  if (!isRecord(parsed)) return cutAnswer(result, REFUSAL_READ_CHARS);
  const part = (v: unknown) => (typeof v === 'string' ? v.slice(0, REFUSAL_PART_CHARS) : undefined);
  // Numbers only, as describeTokenError reads them: a string among them could be any length.
  const codes = Array.isArray(parsed.error_codes) ? parsed.error_codes.filter((c) => typeof c === 'number').slice(0, REFUSAL_CODES) : undefined;
  return { ...result, body: JSON.stringify({ error: part(parsed.error), error_description: part(parsed.error_description), error_codes: codes }) };
}

/** Asks the token endpoint for an access token. */
export async function requestToken(client: OutboundClient, cfg: OAuth2ClientCredentials): Promise<TokenResult> {
  const { body, headers } = tokenRequest(cfg);
  const result = await client.send({ url: cfg.tokenUrl, headers, body });
  // Whatever of the answer is quoted is scrubbed of the client's credentials before any of it is
  // clipped into the sentence: a secret the clip cut short would no longer match the scrub the whole
  // sentence gets later. The client secret travels in the body (client_secret_post), which the
  // client's own scrub does not know, and the token URL may carry one (a token proxy's ?code=) that an
  // answer quoting the request line hands back. A 2xx answer is the endpoint's too: it received them.
  const scrub = secretScrubber([cfg.clientSecret, headers['authorization'], ...urlSecrets(cfg.tokenUrl)]);
  if (result.kind === 'network' || result.status < 200 || result.status >= 300) {
    const failed = scrubResult(refusalToRead(result), scrub);
    if (failed.kind === 'network') return failure(cfg, classifyResult(failed, undefined, 'token endpoint').error ?? failed.message, failed.durationMs);
    const refused = failure(cfg, describeTokenError(failed.status, failed.body), failed.durationMs);
    if (failed.status !== 429 || refused.ok) return refused;
    const retryAfterMs = parseRetryAfter(failed.headers['retry-after']);
    return { ...refused, rateLimited: retryAfterMs !== undefined ? { retryAfterMs } : {} };
  }
  const parsed = parseJson(result.body);
  if (!isRecord(parsed) || typeof parsed.access_token !== 'string' || !TOKEN_RE.test(parsed.access_token)) {
    return failure(cfg, 'the answer carries no usable access_token: check the token URL is an OAuth2 token endpoint.', result.durationMs);
  }
  if (parsed.access_token.length > MAX_TOKEN_LENGTH) {
    return failure(
      cfg,
      `the access_token is ${parsed.access_token.length.toLocaleString('en-US')} characters long, over the ${MAX_TOKEN_LENGTH.toLocaleString('en-US')} Aegis sends in a header; ask the identity provider for a smaller token (fewer claims or scopes).`,
      result.durationMs,
    );
  }
  if (typeof parsed.token_type === 'string' && parsed.token_type.toLowerCase() !== 'bearer') {
    return failure(cfg, `the token endpoint issued a ${clip(scrub(parsed.token_type), 20)} token; Aegis sends Bearer tokens only.`, result.durationMs);
  }
  const raw = parsed.expires_in;
  const expires = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  return {
    ok: true,
    token: parsed.access_token,
    // Bounded whatever the endpoint says: 0.01 would fetch a token per request, 1e12 would keep one
    // for ever (only a 401 would ever replace it).
    expiresInS: Number.isFinite(expires) && expires > 0 ? Math.min(MAX_EXPIRES_IN_S, Math.max(MIN_EXPIRES_IN_S, expires)) : DEFAULT_EXPIRES_IN_S,
    durationMs: result.durationMs,
  };
}
