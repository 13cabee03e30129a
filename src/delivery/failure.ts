// What an outbound attempt's result says: delivered or not, Retry-After, and the short
// action-oriented text users see as `last_error` and in the test probe's answer. What follows from
// it for the jobs and the destination is decided once, in outcome.ts (interpretAnswer.ts maps a
// delivery's answer there); alerts, token requests and the Splunk ack poll use the text alone.
import { MAX_INFORMATIONAL_ANSWERS, TOO_MANY_INFORMATIONAL_CODE } from './outbound/networkFailure.js';
import type { OutboundResult } from './outbound/types.js';

export interface Classification {
  ok: boolean;
  /** How long the SIEM asked us to wait (Retry-After), clamped to [1 s, 1 h]. */
  retryAfterMs?: number;
  statusCode: number | null;
  error: string | null;
}

export const RETRY_AFTER_MIN_MS = 1_000;
export const RETRY_AFTER_MAX_MS = 3_600_000;
export const MAX_ERROR_LENGTH = 300;

/**
 * Parses a Retry-After header value (delta seconds or an HTTP-date) into milliseconds from `now`,
 * clamped to [1 s, 1 h]. Returns undefined when the value is absent or unparseable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number | Date = Date.now()): number | undefined {
  if (value === undefined || value === null) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    // An HTTP-date must name a weekday or month; refuse bare numbers like "1.5" or "-3" that Date.parse accepts.
    if (!/[a-z]/i.test(text)) return undefined;
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - (typeof now === 'number' ? now : now.getTime());
  }
  if (!Number.isFinite(ms)) return RETRY_AFTER_MAX_MS;
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, ms));
}

/** Text a SIEM (or a token endpoint) sent, on one line and at most `max` characters, for an error sentence. */
export function clip(text: string, max = MAX_ERROR_LENGTH): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

function redirectTarget(location: string | undefined): string {
  if (!location) return '';
  // Show where it points without a query string (which could carry tokens).
  const noQuery = location.split(/[?#]/)[0] ?? '';
  return noQuery.length > 120 ? `${noQuery.slice(0, 119)}…` : noQuery;
}

/**
 * Who answered, named in the sentence. The outbound client also sends alert webhooks and OAuth2 token
 * requests: advice written for a SIEM (its preset, its ingest path, Splunk HEC's path, logs
 * permissions) would send their operators looking in the wrong place.
 */
export type Peer = 'SIEM' | 'alert webhook' | 'token endpoint';

/** The sentences that only make sense of a SIEM; any other peer gets the generic ones below. */
function siemStatusSentence(status: number, body: string): string | undefined {
  switch (status) {
    case 400:
    case 422: {
      const snippet = clip(body, 120);
      return `The SIEM rejected the event format — check the SIEM preset and the ingest path${snippet ? ` (SIEM said: ${snippet})` : ''}.`;
    }
    case 403:
      return 'Forbidden — the key was refused: check it has permission to send logs and belongs to this site/region.';
    case 404:
      return 'Not found — check the path; each SIEM needs its own ingest path (e.g. /services/collector/event for Splunk HEC).';
    case 405:
      return 'Method not allowed — the URL does not accept POST; check the ingest path.';
    case 413:
      return 'Payload too large — the SIEM refused the request size; lower the batch size or raise the SIEM limit.';
    case 429:
      // Deliveries wait at least Retry-After (outcome.ts); alerts retry on their own backoff.
      return 'Rate limited by the SIEM; Aegis will retry later, honouring Retry-After.';
    default:
      return undefined;
  }
}

function statusSentence(status: number, headers: Record<string, string | undefined>, body: string, peer: Peer): string {
  if (status >= 300 && status < 400) {
    const target = redirectTarget(headers['location']);
    return target
      ? `The URL redirects (HTTP ${status}) to ${target}; use the final URL — redirects are never followed.`
      : `The URL redirects (HTTP ${status}); use the final URL — redirects are never followed.`;
  }
  const ofSiem = peer === 'SIEM' ? siemStatusSentence(status, body) : undefined;
  if (ofSiem) return ofSiem;
  switch (status) {
    case 400:
    case 422: {
      const snippet = clip(body, 120);
      return `The ${peer} refused the request${snippet ? ` (it said: ${snippet})` : ''}.`;
    }
    case 401:
      return "Authentication failed — check the token hasn't been revoked and carries the required prefix.";
    case 404:
      return `Not found — check the ${peer} URL's path.`;
    case 405:
      return `Method not allowed — the ${peer} URL does not accept POST; check the URL.`;
    case 408:
      return `The ${peer} timed out waiting for the request; Aegis will retry.`;
    case 413:
      return `Payload too large — the ${peer} refused the request size.`;
    case 429:
      return `Rate limited by the ${peer}; Aegis will retry.`;
    default:
      break;
  }
  // The status is already the error's prefix ("HTTP 503: ..."): not said twice.
  if (status >= 500) return `The ${peer} had a server error; Aegis will retry.`;
  if (status >= 400) return `The ${peer} refused the request; check the URL and credentials.`;
  return `Unexpected HTTP status ${status}; only 2xx counts as delivered.`;
}

function networkText(result: Extract<OutboundResult, { kind: 'network' }>, siemHint: string | undefined, peer: Peer): string {
  const host = result.host ? ` ${result.host}` : '';
  /** The peer and where, for the sentences that name it so ("the SIEM at siem.example.com"). */
  const who = `the ${peer}${result.host ? ` at ${result.host}` : ''}`;
  const hint = siemHint?.trim();
  switch (result.failure) {
    case 'forbidden_address':
      // The security reason is never replaced by a preset hint.
      return `Refused: the URL resolves to a private/loopback address, which is refused for outbound delivery (${clip(result.message, 120)}); use a public HTTPS endpoint.`;
    case 'dns':
      return `DNS lookup failed for host${host} — ${hint || 'check the hostname.'}`;
    case 'timeout':
      return `Timeout: ${hint || `the ${peer}${host} did not answer in time — check the URL, port and firewall rules; Aegis will retry.`}`;
    case 'tls':
      return `TLS handshake failed: ${hint || tlsSentence(result.code, who)}`;
    case 'refused':
      return `Connection refused: ${hint || `nothing is listening at${host || ' the destination'} on that port — check the URL's port; Aegis will retry.`}`;
    case 'reset':
      return `Connection reset: ${hint || `the ${peer} or a proxy closed the connection before its answer was complete; Aegis will retry.`}`;
    default:
      // The client words it of "the peer" (it does not know who answered): named here, with its host.
      if (result.code === TOO_MANY_INFORMATIONAL_CODE && !hint) {
        return `Network error: the ${peer}${host} sent more than ${MAX_INFORMATIONAL_ANSWERS} informational (1xx) answers without a final one — check any proxy or load balancer in front of it; Aegis will retry.`;
      }
      // undici's own words ("UND_ERR_HEADERS_OVERFLOW: Headers Overflow Error", "Response does not
      // match the HTTP/1.1 protocol (Expected HTTP/, RTSP/ or ICE/)") told a user nothing to do.
      if (result.code === 'UND_ERR_HEADERS_OVERFLOW' && !hint) {
        return `Network error: ${who} answered with headers larger than Aegis reads (16 KiB) — check any proxy or load balancer in front of it; Aegis will retry.`;
      }
      if ((result.code?.startsWith('HPE_') || result.code === 'HTTPParserError') && !hint) {
        return `Network error: ${who} answered with something that is not HTTP — check that the URL's host and port are its HTTPS endpoint; Aegis will retry.`;
      }
      return `Network error: ${hint || clip(result.message, 200)}`;
  }
}

/**
 * Why a handshake failed, by OpenSSL's code: most often the certificate, but a port that speaks plain
 * HTTP (an https:// URL on an http:// port, a common setup mistake) and a server set to HTTP/2 only
 * are other mistakes, and the certificate's advice sent a review's user chasing certificates.
 */
function tlsSentence(code: string | undefined, who: string): string {
  switch (code) {
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
      return `${who} answered without TLS: the port speaks plain HTTP, or another protocol — check the URL's port (an https:// URL on an http:// port?).`;
    case 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL':
      return `${who} accepts none of the protocols Aegis speaks (HTTP/1.1): it may be set to HTTP/2 only — allow HTTP/1.1 on it.`;
    case 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION':
    case 'ERR_SSL_UNSUPPORTED_PROTOCOL':
      return `${who} and Aegis share no TLS version (Aegis speaks TLS 1.2 and 1.3) — update the server's TLS settings.`;
    default:
      return "the certificate is not trusted or does not match the host — use a publicly trusted certificate, or ask the service's operator to trust your private CA.";
  }
}

/**
 * Classifies one attempt: 2xx is success, anything else a failure with the text users see. Whether
 * and when it is retried is decided in outcome.ts alone (a forbidden address too: a DNS answer can change).
 * `siemHint`, when given, replaces the generic advice sentence; `peer` names who answered (a SIEM unless
 * said otherwise).
 */
export function classifyResult(result: OutboundResult, siemHint?: string, peer: Peer = 'SIEM'): Classification {
  if (result.kind === 'response') {
    const { status } = result;
    if (status >= 200 && status < 300) {
      return { ok: true, statusCode: status, error: null };
    }
    const hint = siemHint?.trim();
    const sentence = hint || statusSentence(status, result.headers, result.body, peer);
    const classification: Classification = {
      ok: false,
      statusCode: status,
      error: clip(`HTTP ${status}: ${sentence}`),
    };
    const retryAfter = parseRetryAfter(result.headers['retry-after']);
    if (retryAfter !== undefined && (status === 429 || status === 503 || status === 408 || status >= 500)) {
      classification.retryAfterMs = retryAfter;
    }
    return classification;
  }
  return {
    ok: false,
    statusCode: null,
    error: clip(networkText(result, siemHint, peer)),
  };
}
