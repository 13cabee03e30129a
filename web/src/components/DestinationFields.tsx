import { useId, useState, type ReactNode } from 'react';
import { DESTINATION_NAME_MAX } from '../../../src/api/schemas/destinations.js';
import { Hints } from './Hints.js';
import { OptionalSettings } from './OptionalSettings.js';
import { emptySentinelForm, SentinelFields, sentinelHintInput, type SentinelForm } from './SentinelFields.js';
import { applyPrefix, buildUrl, formatHints, getPresetInfo, type FormatHint, type SiemId } from '../../../src/siem/catalog.js';
import { SecretInput } from './SecretInput.js';

/** What the Configure step (and Edit) holds. `credential` is what the user typed, before the prefix. */
export interface FormState {
  siem: SiemId;
  /** The optional destination name; '' means none (the card shows the SIEM label). */
  name: string;
  url: string;
  site: string;
  region: string;
  headerName: string;
  credential: string;
  options: Record<string, string>;
  /** Microsoft Sentinel: `url` is then the data collection endpoint and `credential` the client secret. */
  sentinel?: SentinelForm;
}

export function initialForm(siem: SiemId): FormState {
  const info = getPresetInfo(siem);
  const site = info.sites?.[0]?.id ?? '';
  const region = info.regions?.[0]?.id ?? '';
  const url = (site && buildUrl(siem, site)) || (region && buildUrl(siem, region)) || '';
  const form: FormState = { siem, name: '', url, site, region, headerName: info.defaultHeaderName ?? '', credential: '', options: {} };
  if (info.oauth2) form.sentinel = emptySentinelForm();
  return form;
}

/** The header the credential travels in, given the form. Sumo Logic only uses one when a token is set. */
export function effectiveHeaderName(form: FormState): string {
  const info = getPresetInfo(form.siem);
  if (form.headerName.trim() !== '') return form.headerName.trim();
  return info.defaultHeaderName ?? info.headerNameChoices?.[0] ?? '';
}

export function hintsFor(form: FormState, checkCredential: boolean): FormatHint[] {
  const name = effectiveHeaderName(form);
  return formatHints(form.siem, {
    url: form.url,
    authHeaderName: checkCredential || form.siem === 'custom' ? name : null,
    authHeaderValue: checkCredential ? form.credential : null,
    site: form.site || null,
    region: form.region || null,
    ...(form.sentinel ? { sentinel: sentinelHintInput(form.sentinel, checkCredential ? form.credential : undefined) } : {}),
  }).filter((h) => checkCredential || (h.field !== 'auth_header_value' && h.field !== 'client_secret'));
}

export type HintField = FormatHint['field'];

/**
 * The prefix is applied for the user: a prefix hint (missing, twice, another scheme) whose fix is
 * exactly what will be sent (`sent`) is shown as information, saying that its fix is done, not to do.
 * Add's credential and Edit's Rotate both.
 */
export function prefixDone(hints: FormatHint[], siem: SiemId, sent: string): FormatHint[] {
  const prefix = getPresetInfo(siem).prefix;
  return hints.map((h) =>
    h.field === 'auth_header_value' && h.fix && prefix && h.fix.value === sent
      ? { ...h, severity: 'info' as const, message: `${h.message} ${h.fix.label}: done for you.`, fix: undefined }
      : h,
  );
}

/**
 * Add: the credential the preset needs is empty. A preset says it needs one by a red hint on the
 * empty field ("Paste your HEC token."); a custom webhook's (an information hint) and Sumo Logic's
 * (none: the token is in the URL) are optional.
 */
export function credentialMissing(form: FormState): boolean {
  if (form.credential.trim() !== '') return false;
  return hintsFor(form, true).some((h) => (h.field === 'auth_header_value' || h.field === 'client_secret') && h.severity === 'error');
}

/** What Save & test says for it, worded as "Paste your HEC URL first." ("License key" → "license key"; "HEC Token" kept). */
export function credentialMissingText(form: FormState): string {
  const label = getPresetInfo(form.siem).credentialLabel;
  const word = /^[A-Z][a-z]/.test(label) ? label[0]!.toLowerCase() + label.slice(1) : label;
  return `Paste your ${word} first.`;
}

/** What Save & test and Save changes say while the name is too long. */
export const SHORTEN_NAME = `Shorten the name to ${DESTINATION_NAME_MAX} characters first.`;

/** The name's length as the server counts it (code points, trimmed), and what is shown while it is over the limit. */
export function nameLengthProblem(form: FormState): string | null {
  const n = [...form.name.trim()].length;
  return n > DESTINATION_NAME_MAX ? `A name is at most ${DESTINATION_NAME_MAX} characters; this one has ${n}. Shorten it to save.` : null;
}

interface FieldsProps {
  form: FormState;
  onChange: (next: FormState) => void;
  /** Add: the credential input is part of the form. Edit: it is handled by the credential chip. */
  withCredential: boolean;
  /**
   * Show every field's hints, touched or not: after a submit attempt, and in Edit (the values there
   * are the user's saved ones). Otherwise a field's hints wait until the user has typed in it or
   * left it, so a fresh form does not open covered in red "Paste your …" complaints.
   */
  showAllHints: boolean;
  /** Shown under the URL's own hints (Edit: the new-host hint). */
  urlNote?: ReactNode;
}

export function DestinationFields({ form, onChange, withCredential, showAllHints, urlNote }: FieldsProps) {
  const info = getPresetInfo(form.siem);
  const id = useId();
  const [touched, setTouched] = useState<ReadonlySet<HintField>>(() => new Set());
  const touch = (field: HintField) => setTouched((t) => (t.has(field) ? t : new Set(t).add(field)));
  const set = (patch: Partial<FormState>) => onChange({ ...form, ...patch });
  const hints = hintsFor(form, withCredential).filter((h) => showAllHints || touched.has(h.field));
  const sent = withCredential ? applyPrefix(form.siem, form.credential) : '';

  const applyFix = (h: FormatHint) => {
    if (!h.fix) return;
    touch(h.field);
    if (h.field === 'url') set({ url: h.fix.value });
    else if (h.field === 'auth_header_name') set({ headerName: h.fix.value });
    else set({ credential: h.fix.value });
  };

  const shown = prefixDone(hints, form.siem, sent);
  const nameProblem = nameLengthProblem(form);
  const urlHints = shown.filter((h) => h.field === 'url');
  const credHints = shown.filter((h) => h.field === 'auth_header_value' || h.field === 'auth_header_name');

  const picker = info.sites ?? info.regions;
  const pickerLabel = info.sites ? 'Datadog site' : 'Region';
  const pickerValue = info.sites ? form.site : form.region;
  const onPick = (value: string) => {
    const url = buildUrl(form.siem, value) ?? form.url;
    set(info.sites ? { site: value, url } : { region: value, url });
  };

  const headerChoices = info.headerNameChoices && info.headerNameChoices.length > 1 ? info.headerNameChoices : null;

  return (
    <div className="fields">
      {picker ? (
        <div className="field">
          <label htmlFor={`${id}-picker`}>{pickerLabel}</label>
          <select id={`${id}-picker`} value={pickerValue} onChange={(e) => onPick(e.target.value)} aria-describedby={`${id}-picker-help`}>
            {picker.map((c) => (
              <option key={c.id} value={c.id}>
                {c.label}
              </option>
            ))}
          </select>
          <p className="help" id={`${id}-picker-help`}>
            {info.urlHelp}
          </p>
        </div>
      ) : null}

      {form.sentinel ? (
        <SentinelFields form={form} sentinel={form.sentinel} onChange={onChange} withCredential={withCredential} hints={shown} touch={touch} />
      ) : null}

      {form.sentinel ? null : (
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
              set({ url: e.target.value });
            }}
            onBlur={() => touch('url')}
            aria-describedby={`${id}-url-help ${id}-url-hints`}
            aria-invalid={urlHints.some((h) => h.severity === 'error') || undefined}
          />
          <p className="help" id={`${id}-url-help`}>
            {picker ? 'Filled in from your choice above; you can paste another address (a proxy, for example).' : info.urlHelp}
          </p>
          <Hints id={`${id}-url-hints`} hints={urlHints} onFix={applyFix} />
          {urlNote}
        </div>
      )}

      {form.siem === 'custom' ? (
        <div className="field">
          <label htmlFor={`${id}-header`}>Auth header name</label>
          <input
            id={`${id}-header`}
            name="auth_header_name"
            autoComplete="off"
            spellCheck={false}
            value={form.headerName}
            onChange={(e) => {
              touch('auth_header_name');
              set({ headerName: e.target.value });
            }}
            onBlur={() => touch('auth_header_name')}
          />
        </div>
      ) : headerChoices ? (
        <div className="field">
          <label htmlFor={`${id}-header`}>Header</label>
          <select id={`${id}-header`} value={effectiveHeaderName(form)} onChange={(e) => set({ headerName: e.target.value })}>
            {headerChoices.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
      ) : null}

      {withCredential && !form.sentinel ? (
        <div className="field">
          <label htmlFor={`${id}-cred`}>{info.credentialLabel}</label>
          <SecretInput
            id={`${id}-cred`}
            name="credential"
            value={form.credential}
            onChange={(credential) => {
              touch('auth_header_value');
              set({ credential });
            }}
            onBlur={() => touch('auth_header_value')}
            describedBy={`${id}-cred-help ${id}-cred-hints`}
            invalid={credHints.some((h) => h.severity === 'error')}
            prefix={info.prefix}
          />
          <p className="help" id={`${id}-cred-help`}>
            {info.credentialHelp}
            {effectiveHeaderName(form) ? ` Header: ${effectiveHeaderName(form)}.` : ''}
          </p>
          <Hints id={`${id}-cred-hints`} hints={credHints} onFix={applyFix} />
        </div>
      ) : credHints.length > 0 ? (
        <Hints id={`${id}-cred-hints`} hints={credHints} onFix={applyFix} />
      ) : null}

      <div className="field">
        <label htmlFor={`${id}-name`}>
          Name <span className="muted">(optional)</span>
        </label>
        <input
          id={`${id}-name`}
          name="name"
          autoComplete="off"
          placeholder={`e.g. ${info.label} prod`}
          value={form.name}
          onChange={(e) => set({ name: e.target.value })}
          aria-invalid={nameProblem !== null || undefined}
          aria-describedby={`${id}-name-help`}
        />
        <p className="help" id={`${id}-name-help`}>
          Shown on the card, to tell destinations of one SIEM apart. Empty: the card says “{info.label}”.
        </p>
        {/* No maxLength on the input: a browser cuts a longer paste without a word, and the name saved
            would not be the one the user meant. The count is the server's (code points, trimmed). */}
        {nameProblem ? (
          <p className="hint hint-error" role="alert" data-testid="name-too-long">
            {nameProblem}
          </p>
        ) : null}
      </div>

      <OptionalSettings id={id} siem={form.siem} options={form.options} onChange={(options) => set({ options })} />
    </div>
  );
}
