import { useId } from 'react';
import { getPresetInfo, type FormatHint, type SentinelField } from '../../../src/siem/catalog.js';
import {
  entraTokenUrl,
  parseSentinelUrl,
  SENTINEL_DEFAULT_SCOPE,
  SENTINEL_DEFAULT_STREAM,
  sentinelIngestionUrl,
  tenantOfEntraTokenUrl,
} from '../../../src/siem/microsoft-sentinel/urls.js';
import type { AuthBody } from '../../../src/api/schemas/destinations.js';
import type { Destination } from '../api.js';
import { type FormState, type HintField } from './DestinationFields.js';
import { Hints } from './Hints.js';
import { SecretInput } from './SecretInput.js';

/**
 * Microsoft Sentinel's part of the form: the Logs Ingestion URL in its three parts (the DCE is the
 * form's `url`) and the Entra ID app (the client secret is the form's `credential`).
 */
export interface SentinelForm {
  dcr: string;
  stream: string;
  tenant: string;
  clientId: string;
  /** Advanced: a token URL other than Entra ID's public cloud one (sovereign clouds). '' = built from the tenant. */
  tokenUrl: string;
  /** Advanced: '' = https://monitor.azure.com//.default. */
  scope: string;
}

export function emptySentinelForm(): SentinelForm {
  return { dcr: '', stream: SENTINEL_DEFAULT_STREAM, tenant: '', clientId: '', tokenUrl: '', scope: '' };
}

/** The form of a saved Sentinel destination (Edit): the URL split back into its parts. */
export function sentinelFormFrom(d: Destination): { url: string; sentinel: SentinelForm } {
  const parts = parseSentinelUrl(d.url);
  const auth = d.auth;
  const tenant = auth?.tenant_id ?? (auth ? tenantOfEntraTokenUrl(auth.token_url) : undefined) ?? '';
  const derived = tenant !== '' && auth?.token_url === entraTokenUrl(tenant);
  return {
    url: parts?.endpoint ?? d.url,
    sentinel: {
      dcr: parts?.dcrImmutableId ?? '',
      stream: parts?.streamName ?? '',
      tenant,
      clientId: auth?.client_id ?? '',
      tokenUrl: auth && !derived ? auth.token_url : '',
      scope: auth?.scope && auth.scope !== SENTINEL_DEFAULT_SCOPE ? auth.scope : '',
    },
  };
}

export function sentinelHintInput(f: SentinelForm, secret: string | undefined): Partial<Record<SentinelField, string | null>> {
  return {
    dcr_immutable_id: f.dcr,
    stream_name: f.stream,
    tenant_id: f.tenant,
    client_id: f.clientId,
    ...(secret !== undefined ? { client_secret: secret } : {}),
  };
}

/** The API body's url and auth for the form; `secret` '' leaves the stored secret alone (PATCH). */
export function sentinelRequest(form: FormState, secret: string): { url: string; auth: AuthBody } {
  const f = form.sentinel!;
  const auth: AuthBody = { type: 'oauth2_client_credentials', client_id: f.clientId.trim() };
  if (f.tenant.trim() !== '') auth.tenant_id = f.tenant.trim();
  if (f.tokenUrl.trim() !== '') auth.token_url = f.tokenUrl.trim();
  if (f.scope.trim() !== '') auth.scope = f.scope.trim();
  if (secret.trim() !== '') auth.client_secret = secret.trim();
  return { url: sentinelIngestionUrl(form.url, f.dcr, f.stream), auth };
}

interface Props {
  form: FormState;
  sentinel: SentinelForm;
  onChange: (next: FormState) => void;
  withCredential: boolean;
  /** The form's hints, already filtered to what should show. */
  hints: FormatHint[];
  touch: (field: HintField) => void;
}

const TEXT_FIELDS: Array<{ key: Exclude<keyof SentinelForm, 'tokenUrl' | 'scope'>; field: SentinelField; label: string; help: string; placeholder: string }> = [
  {
    key: 'dcr',
    field: 'dcr_immutable_id',
    label: 'DCR immutable id',
    help: 'Data collection rule → Overview → JSON view → immutableId (dcr-…), not its name.',
    placeholder: 'dcr-000a00a000a00000a000000aa000a0aa',
  },
  {
    key: 'stream',
    field: 'stream_name',
    label: 'Stream name',
    help: 'The stream declared in the DCR for the Aegis table (docs/siem/microsoft_sentinel.md).',
    placeholder: SENTINEL_DEFAULT_STREAM,
  },
  {
    key: 'tenant',
    field: 'tenant_id',
    label: 'Tenant ID',
    help: 'Microsoft Entra ID → App registrations → your app → Directory (tenant) ID.',
    placeholder: '00000000-0000-0000-0000-000000000000',
  },
  {
    key: 'clientId',
    field: 'client_id',
    label: 'Client ID',
    help: 'The same app’s Application (client) ID. Give it the Monitoring Metrics Publisher role on the DCR.',
    placeholder: '00000000-0000-0000-0000-000000000000',
  },
];

export function SentinelFields({ form, sentinel, onChange, withCredential, hints, touch }: Props) {
  const id = useId();
  const info = getPresetInfo(form.siem);
  const setSentinel = (patch: Partial<SentinelForm>) => onChange({ ...form, sentinel: { ...sentinel, ...patch } });
  const byField = (field: HintField) => hints.filter((h) => h.field === field);
  const fix = (h: FormatHint) => {
    if (!h.fix) return;
    touch(h.field);
    const value = h.fix.value;
    if (h.field === 'url') onChange({ ...form, url: value });
    else if (h.field === 'client_secret') onChange({ ...form, credential: value });
    else {
      const entry = TEXT_FIELDS.find((t) => t.field === h.field);
      if (entry) setSentinel({ [entry.key]: value });
    }
  };
  const invalid = (field: HintField) => byField(field).some((h) => h.severity === 'error') || undefined;

  return (
    <>
      <div className="field">
        <label htmlFor={`${id}-url`}>{info.urlLabel}</label>
        <input
          id={`${id}-url`}
          name="url"
          type="url"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          required
          placeholder={info.urlPlaceholder}
          value={form.url}
          onChange={(e) => {
            touch('url');
            onChange({ ...form, url: e.target.value });
          }}
          onBlur={() => touch('url')}
          aria-describedby={`${id}-url-help ${id}-url-hints`}
          aria-invalid={invalid('url')}
        />
        <p className="help" id={`${id}-url-help`}>
          {info.urlHelp}
        </p>
        <Hints id={`${id}-url-hints`} hints={byField('url')} onFix={fix} />
      </div>

      {TEXT_FIELDS.map((t) => (
        <div className="field" key={t.key}>
          <label htmlFor={`${id}-${t.key}`}>{t.label}</label>
          <input
            id={`${id}-${t.key}`}
            name={t.field}
            autoComplete="off"
            spellCheck={false}
            placeholder={t.placeholder}
            value={sentinel[t.key]}
            onChange={(e) => {
              touch(t.field);
              setSentinel({ [t.key]: e.target.value });
            }}
            onBlur={() => touch(t.field)}
            aria-describedby={`${id}-${t.key}-help ${id}-${t.key}-hints`}
            aria-invalid={invalid(t.field)}
          />
          <p className="help" id={`${id}-${t.key}-help`}>
            {t.help}
          </p>
          <Hints id={`${id}-${t.key}-hints`} hints={byField(t.field)} onFix={fix} />
        </div>
      ))}

      {withCredential ? (
        <div className="field">
          <label htmlFor={`${id}-secret`}>{info.credentialLabel}</label>
          <SecretInput
            id={`${id}-secret`}
            name="client_secret"
            value={form.credential}
            onChange={(credential) => {
              touch('client_secret');
              onChange({ ...form, credential });
            }}
            onBlur={() => touch('client_secret')}
            describedBy={`${id}-secret-help ${id}-secret-hints`}
            invalid={invalid('client_secret')}
          />
          <p className="help" id={`${id}-secret-help`}>
            {info.credentialHelp} Stored encrypted; Aegis exchanges it for short-lived tokens and never shows it again.
          </p>
          <Hints id={`${id}-secret-hints`} hints={byField('client_secret')} onFix={fix} />
        </div>
      ) : null}

      <details className="advanced">
        <summary>Sovereign cloud settings</summary>
        <div className="field">
          <label htmlFor={`${id}-token-url`}>Token URL</label>
          <input
            id={`${id}-token-url`}
            name="token_url"
            type="url"
            autoComplete="off"
            spellCheck={false}
            placeholder={entraTokenUrl(sentinel.tenant.trim() || '<tenant>')}
            value={sentinel.tokenUrl}
            onChange={(e) => setSentinel({ tokenUrl: e.target.value })}
            aria-describedby={`${id}-token-url-help`}
          />
          <p className="help" id={`${id}-token-url-help`}>
            Leave empty for Azure’s public cloud. Azure Government: https://login.microsoftonline.us/&lt;tenant&gt;/oauth2/v2.0/token.
          </p>
        </div>
        <div className="field">
          <label htmlFor={`${id}-scope`}>Scope</label>
          <input
            id={`${id}-scope`}
            name="scope"
            autoComplete="off"
            spellCheck={false}
            placeholder={SENTINEL_DEFAULT_SCOPE}
            value={sentinel.scope}
            onChange={(e) => setSentinel({ scope: e.target.value })}
            aria-describedby={`${id}-scope-help`}
          />
          <p className="help" id={`${id}-scope-help`}>
            Leave empty for Azure’s public cloud. Azure Government: https://monitor.azure.us//.default.
          </p>
        </div>
      </details>
    </>
  );
}
