// The two ways an alert leaves the service. Each returns an error text safe to log (credentials
// scrubbed) or null on success, and never throws: a channel that cannot be reached is a logged
// retry, never a failure of anything else.
import nodemailer from 'nodemailer';
import { secretScrubber } from '../delivery/scrubSecrets.js';
import { urlSecrets } from '../delivery/urlSecrets.js';
import { classifyResult } from '../delivery/failure.js';
import type { OutboundClient } from '../delivery/outbound/client.js';
import { scrubResult } from '../delivery/outbound/credentialScrub.js';
import { standardWebhookHeaders } from '../siem/standardWebhooks.js';
import { within } from '../within.js';
import { escapeRegex } from '../escapeRegex.js';

/** Time limits of one SMTP conversation's phases: a silent mail server costs a bounded wait. */
const SMTP_TIMEOUT_MS = 15_000;
/**
 * The whole conversation's limit. The phase limits are idle times: a server answering each command
 * just within them kept one conversation (a command per recipient) going for minutes, past the alert's
 * send lease (alerter.ts, sendLeaseMs), when another worker sends the same alerts again, and it held one of
 * the round's lanes meanwhile. Past this the send is a failure, retried later, and the conversation is
 * cut (the send's abort signal closes its connection): should the server still deliver what it had,
 * the retry's e-mail is a duplicate, the lesser harm.
 */
export const SMTP_DEADLINE_MS = 60_000;

/** What a send did: `error` (safe to log) when nothing was sent; else the recipients the server refused, counted. */
export interface MailResult {
  error: string | null;
  /** Recipients the server refused while it took the message for the others (no address: its codes only). */
  refused: { count: number; codes: string[] } | null;
}

export interface MailChannel {
  send(to: string[], subject: string, text: string): Promise<MailResult>;
  close(): void;
}

/** Hosts whose traffic never leaves the machine (127/8 in any spelling, ::1, IPv4-mapped 127/8): a local relay may take credentials without TLS. */
const LOOPBACK_HOST = /^(localhost\.?|127(\.\d{1,3}){0,3}|\[::1\]|\[::ffff:(127\.[\d.]+|7f[0-9a-f]{2}:[0-9a-f]{1,4})\])$/i;
/** The URL's own TLS options (nodemailer reads them over ours): the operator's choice stands. */
const TLS_OPTIONS = ['requireTLS', 'ignoreTLS', 'secure'];

/**
 * The transport's TLS rule: an smtp:// URL with credentials to another host requires STARTTLS. Left
 * at "when offered", anyone on the path who strikes STARTTLS from the server's EHLO answer read the
 * password (AUTH PLAIN in clear; an alerts review). `?requireTLS=false` in the URL still opts out
 * (nodemailer reads the URL's options last), for a relay on a network the operator trusts.
 */
export function requiresStartTls(smtpUrl: string): boolean {
  let u: URL;
  try {
    u = new URL(smtpUrl);
  } catch {
    return false;
  }
  if (TLS_OPTIONS.some((name) => u.searchParams.has(name))) return false;
  return u.protocol === 'smtp:' && (u.username !== '' || u.password !== '') && !LOOPBACK_HOST.test(u.hostname);
}

/** The address part of AEGIS_ALERT_FROM ("Aegis <alerts@example.com>" or a bare address). */
function addressOf(from: string): string {
  return /<([^<>]*)>\s*$/.exec(from)?.[1] ?? from;
}

/** `value` percent-decoded, or as it is when it is no valid percent-encoding (`p%zz`: sent as typed). */
function decodedOrRaw(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The URL's user name and password: what must never reach a log line. */
function smtpSecrets(smtpUrl: string): string[] {
  let u: URL;
  try {
    u = new URL(smtpUrl);
  } catch {
    return [smtpUrl];
  }
  // Each value decoded on its own: one that fails to decode is still a secret, in its raw form.
  return [decodedOrRaw(u.password), u.password, decodedOrRaw(u.username), u.username, smtpUrl].filter((s) => s.length >= 4);
}

export function createMailChannel(smtpUrl: string, from: string, opts: { deadlineMs?: number } = {}): MailChannel {
  const deadlineMs = opts.deadlineMs ?? SMTP_DEADLINE_MS;
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
    requireTLS: requiresStartTls(smtpUrl),
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const scrub = secretScrubber(smtpSecrets(smtpUrl));
  return {
    async send(to, subject, text) {
      const late = (): MailResult => ({ error: `the mail server did not finish the conversation within ${Math.round(deadlineMs / 1000)} s`, refused: null });
      const deadline = AbortSignal.timeout(deadlineMs);
      const conversation = (async (): Promise<MailResult> => {
        try {
          // The deadline also ends the conversation (nodemailer closes the connection on abort): a
          // server answering each command within the idle timeouts kept its socket open after we had
          // stopped waiting, and each retry opened another (an alerts review).
          const info = (await transport.sendMail({
            from,
            to,
            subject,
            text,
            disableFileAccess: true,
            disableUrlAccess: true,
            signal: AbortSignal.timeout(deadlineMs),
          })) as {
            rejected?: unknown[];
            rejectedErrors?: Array<{ responseCode?: number }>;
          };
          // Taken for some recipients, refused for others (a full mailbox, an unknown user): said, by
          // count and codes, never silently dropped.
          const rejected = info.rejected?.length ?? 0;
          const codes = [...new Set((info.rejectedErrors ?? []).map((e) => String(e.responseCode ?? 'unknown')))];
          return { error: null, refused: rejected > 0 ? { count: rejected, codes } : null };
        } catch (err) {
          if (deadline.aborted) return late();
          const e = err as { code?: string; responseCode?: number; message?: string };
          const detail = [e.code, e.responseCode].filter((x) => x !== undefined).join(' ');
          // Scrubbed whole, then shortened: a secret the cut went through would escape the scrub. The
          // text goes to the operator's log, and a refused recipient is quoted in it: a tenant's
          // people's addresses are not the operator's to log (its other lines count them).
          const message = (e.message ?? 'unknown error').slice(0, ERROR_READ_MAX);
          return { error: withoutAddresses(scrub(`${detail ? `${detail}: ` : ''}${message}`), to, from).slice(0, 300), refused: null };
        }
      })();
      // A backstop: the abort ends the send at once, unless something in it does not heed the signal.
      return within(conversation, deadlineMs + 1000, late);
    },
    close: () => transport.close(),
  };
}

/**
 * An e-mail address as a mail server quotes one (bare or in <>), in a server's error text already
 * scrubbed of the SMTP credentials: "[redacted]" may stand inside one (a user name in "ops+alerts@"),
 * and a recipient may have an apostrophe ("mary.o'neil@"). Bounded as addresses are (64 characters
 * before the @, 255 after): unbounded, a relay's megabyte of text without an @ took the regex
 * minutes, the event loop with it (a review).
 */
const ADDRESS = /[^\s<>()"',;:@][^\s<>()",;:@]{0,63}@[^\s<>()"',;:@]{1,255}/g;
/** What of a mail server's error text is read at most (nodemailer takes answers up to 1 MB); far past what is kept. */
const ERROR_READ_MAX = 16 * 1024;

/**
 * The recipients' addresses out of a mail server's error: each one given, as it is or in other
 * letter cases, then anything shaped as an address. The sender's is the operator's own and stays
 * (a relay refusing it says what to fix in AEGIS_ALERT_FROM).
 */
function withoutAddresses(text: string, to: readonly string[], from: string): string {
  let out = text;
  for (const address of to) out = out.replace(new RegExp(escapeRegex(address), 'gi'), '[address]');
  const sender = addressOf(from).toLowerCase();
  return out.replace(ADDRESS, (found) => (found.toLowerCase() === sender ? found : '[address]'));
}

/**
 * Posts the alert JSON to the operational webhook through the destinations' outbound client (TLS,
 * phase timeouts, no redirects, the private-address guard at connect time), signed with Standard
 * Webhooks. `id` stays the same across retries of the same alerts so receivers can dedupe.
 */
export async function sendWebhook(client: OutboundClient, url: string, secret: string, id: string, body: string): Promise<string | null> {
  // The webhook's own URL may carry a token (`?token=`), which an answer quoting the request line hands back.
  const scrub = secretScrubber([secret, ...urlSecrets(url)]);
  const headers = { 'content-type': 'application/json', ...standardWebhookHeaders({ secret, id, timestamp: Math.floor(Date.now() / 1000), body }) };
  try {
    // Scrubbed before it is classified: the sentence clips the answer's body, and a secret the clip
    // cut would no longer match a scrub of the sentence.
    const result = scrubResult(await client.send({ url, headers, body }), scrub);
    if (result.kind === 'response' && result.status >= 200 && result.status < 300) return null;
    return scrub(classifyResult(result, undefined, 'alert webhook').error ?? 'the webhook did not accept the alert');
  } catch (err) {
    return scrub((err as Error).message);
  }
}
