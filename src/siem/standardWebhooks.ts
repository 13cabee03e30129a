// Standard Webhooks signatures (https://www.standardwebhooks.com). Node only: uses node:crypto.
import { createHmac, randomBytes } from 'node:crypto';

export interface StandardWebhookSignInput {
  /** whsec_<base64 key> */
  secret: string;
  /** webhook-id: the event id; must not contain "." and stays the same across retries. */
  id: string;
  /** webhook-timestamp: unix seconds. */
  timestamp: number;
  /** The exact body bytes sent. */
  body: string;
}

function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new Error('signing secret is empty or not base64');
  return key;
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` */
export function signStandardWebhook(input: StandardWebhookSignInput): string {
  if (input.id.includes('.')) throw new Error('webhook-id must not contain "."');
  const mac = createHmac('sha256', secretKey(input.secret)).update(`${input.id}.${input.timestamp}.${input.body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/** A new signing secret: whsec_ + base64 of 32 random bytes. */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The three Standard Webhooks headers for one request. `alsoSignWith`: a secret being rotated out,
 * whose signature is sent too (space-separated `v1,` entries, as the specification allows), so a
 * receiver still holding it verifies the request while it switches.
 */
export function standardWebhookHeaders(input: StandardWebhookSignInput, alsoSignWith?: string | null): Record<string, string> {
  const signatures = [signStandardWebhook(input)];
  if (alsoSignWith) signatures.push(signStandardWebhook({ ...input, secret: alsoSignWith }));
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': signatures.join(' '),
  };
}
