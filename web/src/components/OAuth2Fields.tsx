import { useId, useState } from 'react';
import type { AuthBody } from '../../../src/api/schemas/destinations.js';
import type { Destination } from '../api.js';
import { useRotateFocus } from '../useRotateFocus.js';
import { SecretInput } from './SecretInput.js';

type Method = NonNullable<AuthBody['token_endpoint_auth_method']>;

/**
 * A custom webhook's OAuth2 client credentials (`auth`, docs/siem/custom.md), as the Add and Edit
 * forms hold them. The client secret is write-only: typed in Add (or when rotating in Edit), sent
 * once, never read back; the form only learns whether one is stored.
 */
export interface OAuth2Form {
  on: boolean;
  tokenUrl: string;
  clientId: string;
  /** '' sends no scope (the authorization server's default). */
  scope: string;
  method: Method;
  /** A new client secret; '' keeps the stored one (Edit). */
  secret: string;
}

export function emptyOAuth2Form(): OAuth2Form {
  return { on: false, tokenUrl: '', clientId: '', scope: '', method: 'client_secret_basic', secret: '' };
}

/** The form of a saved destination (Edit): its settings, never its secret. */
export function oauth2FormFrom(d: Destination): OAuth2Form {
  const a = d.auth;
  if (!a) return emptyOAuth2Form();
  return { on: true, tokenUrl: a.token_url, clientId: a.client_id, scope: a.scope ?? '', method: a.token_endpoint_auth_method, secret: '' };
}

/** What the form asks of the API, or a sentence saying what is missing (checked before any request). */
export function oauth2Request(f: OAuth2Form, opts: { secretStored: boolean; staticAuthorization: boolean }): { auth: AuthBody } | { problem: string } {
  if (f.tokenUrl.trim() === '') return { problem: 'OAuth2: give the token URL of your authorization server.' };
  if (f.clientId.trim() === '') return { problem: 'OAuth2: give the client ID.' };
  if (f.secret.trim() === '' && !opts.secretStored) return { problem: 'OAuth2: give the client secret.' };
  if (opts.staticAuthorization) {
    return { problem: 'With OAuth2 the Authorization header carries the access token: clear the static credential or send it in another header.' };
  }
  const auth: AuthBody = {
    type: 'oauth2_client_credentials',
    token_url: f.tokenUrl.trim(),
    client_id: f.clientId.trim(),
    token_endpoint_auth_method: f.method,
  };
  if (f.scope.trim() !== '') auth.scope = f.scope.trim();
  if (f.secret.trim() !== '') auth.client_secret = f.secret.trim();
  return { auth };
}

/**
 * The fields, behind one checkbox. Edit shows the stored secret as set / not set with Rotate (the
 * parent remounts this after a save, so a rotation in progress closes once its secret is stored).
 */
interface Props {
  form: OAuth2Form;
  onChange: (next: OAuth2Form) => void;
  /** Edit: whether a client secret is stored (shown as set / not set, replaced with Rotate). Add: undefined. */
  secretStored?: boolean;
}

const METHODS: Array<{ value: Method; label: string }> = [
  { value: 'client_secret_basic', label: 'HTTP Basic (client_secret_basic)' },
  { value: 'client_secret_post', label: 'In the request body (client_secret_post)' },
];

export function OAuth2Fields({ form, onChange, secretStored }: Props) {
  const id = useId();
  const editing = secretStored !== undefined;
  const [rotating, setRotating] = useState(false);
  const set = (patch: Partial<OAuth2Form>) => onChange({ ...form, ...patch });
  // Rotate and the new-secret field replace each other: focus follows, as for the auth header.
  const { rotateButton, newInput: secretInput } = useRotateFocus(rotating);
  const secretField = !editing || rotating || !secretStored;

  return (
    <fieldset className="field oauth2" data-testid="oauth2-fields">
      <legend className="label">OAuth2 client credentials</legend>
      <div className="checkbox-row">
        <input id={`${id}-on`} type="checkbox" checked={form.on} onChange={(e) => set({ on: e.target.checked })} aria-describedby={`${id}-on-help`} />
        <label htmlFor={`${id}-on`}>Authenticate with OAuth2 client credentials</label>
      </div>
      <p className="help" id={`${id}-on-help`}>
        Aegis fetches an access token from your authorization server (RFC 6749 client credentials), caches it until shortly before it expires and sends it as{' '}
        <code>Authorization: Bearer</code>.{editing && !form.on && secretStored ? ' Save changes removes the stored settings and client secret.' : ''}
      </p>
      {form.on ? (
        <div className="inset">
          <div className="field">
            <label htmlFor={`${id}-token-url`}>Token URL</label>
            <input
              id={`${id}-token-url`}
              name="oauth2_token_url"
              type="url"
              inputMode="url"
              autoComplete="off"
              spellCheck={false}
              placeholder="https://auth.example.com/oauth2/token"
              value={form.tokenUrl}
              onChange={(e) => set({ tokenUrl: e.target.value })}
              aria-describedby={`${id}-token-url-help`}
            />
            <p className="help" id={`${id}-token-url-help`}>
              The token endpoint, HTTPS. A stored client secret is never sent to another host: moving it needs the secret again.
            </p>
          </div>
          <div className="field">
            <label htmlFor={`${id}-client-id`}>Client ID</label>
            <input
              id={`${id}-client-id`}
              name="oauth2_client_id"
              autoComplete="off"
              spellCheck={false}
              value={form.clientId}
              onChange={(e) => set({ clientId: e.target.value })}
            />
          </div>
          <div className="field">
            {editing ? (
              <span className="label" id={`${id}-secret-label`}>
                Client secret
              </span>
            ) : null}
            {editing ? (
              <div className="credential-row" role="group" aria-labelledby={`${id}-secret-label`}>
                <span className="credential-state">
                  <span className={secretStored ? 'chip' : 'chip chip-empty'} data-testid="oauth2-secret-chip">
                    {secretStored ? 'client secret set (encrypted)' : 'client secret not set'}
                  </span>
                </span>
                {secretStored && !rotating ? (
                  <button type="button" ref={rotateButton} className="button-secondary small" onClick={() => setRotating(true)}>
                    Rotate client secret
                  </button>
                ) : null}
              </div>
            ) : null}
            {secretField ? (
              <div className={editing ? 'inset' : undefined}>
                <label htmlFor={`${id}-secret`}>{editing ? 'New client secret' : 'Client secret'}</label>
                <SecretInput
                  inputRef={secretInput}
                  id={`${id}-secret`}
                  name="oauth2_client_secret"
                  value={form.secret}
                  onChange={(secret) => set({ secret })}
                  describedBy={`${id}-secret-help`}
                />
                <p className="help" id={`${id}-secret-help`}>
                  Stored encrypted; Aegis exchanges it for short-lived tokens and never shows it again.
                  {editing && secretStored ? ' Save changes stores it; until then the current one stays in use.' : ''}
                </p>
                {editing && secretStored ? (
                  <div className="inset-foot">
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => {
                        setRotating(false);
                        set({ secret: '' });
                      }}
                    >
                      Keep current client secret
                    </button>
                  </div>
                ) : null}
              </div>
            ) : null}
          </div>
          <div className="field">
            <label htmlFor={`${id}-scope`}>Scope</label>
            <input
              id={`${id}-scope`}
              name="oauth2_scope"
              autoComplete="off"
              spellCheck={false}
              placeholder="optional, e.g. siem:ingest"
              value={form.scope}
              onChange={(e) => set({ scope: e.target.value })}
              aria-describedby={`${id}-scope-help`}
            />
            <p className="help" id={`${id}-scope-help`}>
              Space-separated. Empty: no scope is sent (the authorization server's default).
            </p>
          </div>
          <div className="field">
            <label htmlFor={`${id}-method`}>Client authentication</label>
            <select id={`${id}-method`} name="oauth2_method" value={form.method} onChange={(e) => set({ method: e.target.value as Method })}>
              {METHODS.map((m) => (
                <option key={m.value} value={m.value}>
                  {m.label}
                </option>
              ))}
            </select>
          </div>
        </div>
      ) : null}
    </fieldset>
  );
}
