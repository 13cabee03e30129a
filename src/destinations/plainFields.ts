// A destination's credentials (auth_header_value, auth.client_secret, the signing secret) are sealed
// and never shown back; everything else it stores is plain: the API, the dashboard and the trail's
// readers see it. A credential pasted into one of those fields (a token as the header name, the name
// or a Splunk index) would be kept and shown in clear, so create and PATCH refuse it here, naming the
// field and where the credential belongs, never echoing it.
//
// Only the secret detectors count (tokens, keys, JWTs, private keys, passwords): an address or a
// phone number in a destination's name is the organization's own business.
//
// Not the URL, nor auth.token_url: some receivers take their credential there and nowhere else (Sumo
// Logic's path token, Slack's and Google Chat's hook URLs, Azure's ?code=). checkDestinationUrl
// refuses a user name or password in it, and urlSecrets.ts scrubs its secret-looking parts from every
// answer quoted back.
import { invalid } from '../errors.js';
import type { SecretType } from '../events/findings.js';
import { secretTypesIn } from '../events/privacyGuard.js';
import type { SiemId } from '../siem/catalog.js';

/** The plain settings a create or PATCH body may carry (the shape both bodies share). */
export interface PlainSettings {
  name?: string | null;
  auth_header_name?: string;
  options?: Readonly<Record<string, unknown>>;
  auth?: { client_id?: string; tenant_id?: string; scope?: string } | null;
}

const LABELS: Record<SecretType, string> = {
  AWS_ACCESS_KEY: 'AWS access key',
  AWS_SECRET_KEY: 'AWS secret key',
  GITHUB_TOKEN: 'GitHub token',
  SLACK_TOKEN: 'Slack token',
  STRIPE_KEY: 'Stripe key',
  GOOGLE_API_KEY: 'Google API key',
  JWT: 'JWT',
  PRIVATE_KEY: 'private key',
  PASSWORD: 'password',
};

/**
 * The one list of plain fields: [field as the refusal names it, value]. Every string option counts,
 * whatever its key (the body schema allows only known keys, so a key is safe to name), so an option
 * added later is covered without a change here.
 */
export function plainFieldValues(body: PlainSettings): [string, string][] {
  const out: [string, string][] = [];
  if (typeof body.name === 'string') out.push(['name', body.name]);
  if (body.auth_header_name !== undefined) out.push(['auth_header_name', body.auth_header_name]);
  for (const [key, value] of Object.entries(body.options ?? {})) if (typeof value === 'string') out.push([`options.${key}`, value]);
  if (body.auth) {
    for (const key of ['client_id', 'tenant_id', 'scope'] as const) {
      const value = body.auth[key];
      if (value !== undefined) out.push([`auth.${key}`, value]);
    }
  }
  return out;
}

/** Where the refusal tells the user to put the credential instead. */
function credentialField(siem: SiemId, field: string): string {
  // Sentinel takes no header credential: its only secret is the Entra ID app's client secret.
  return field.startsWith('auth.') || siem === 'microsoft_sentinel' ? 'auth.client_secret' : 'auth_header_value';
}

/**
 * Refuses (400 validation_failed) the first plain field a secret detector flags. Create and PATCH
 * both call it with the body as sent, before anything is checked or stored.
 */
export function refuseCredentialsInPlainFields(siem: SiemId, body: PlainSettings): void {
  for (const [field, value] of plainFieldValues(body)) {
    const [type] = secretTypesIn(value);
    if (type === undefined) continue;
    throw invalid(
      field,
      `looks like a credential (${LABELS[type]}): put the credential in ${credentialField(siem, field)}, which is stored encrypted and never shown`,
    );
  }
}
