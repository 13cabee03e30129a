import { useId, useState } from 'react';
import { applyPrefix, getPresetInfo, isSiemId, type SiemId } from '../../../src/siem/catalog.js';
import { errorText, type Destination, type DestinationsApi, type TestResult } from '../api.js';
import { Modal } from './Modal.js';
import { DestinationFields, effectiveHeaderName, nameLengthProblem, SHORTEN_NAME, type FormState } from './DestinationFields.js';
import { cleanOptions } from './OptionalSettings.js';
import { CredentialField, useCredentialEdit } from './CredentialField.js';
import { TestResultPanel } from './TestResultPanel.js';
import { UnavailableButton } from './UnavailableButton.js';
import { FilterEditor, draftFilter, draftFrom, type FilterDraft } from './FilterEditor.js';
import { FormatChoice } from './FormatChoice.js';
import { DEFAULT_OUTPUT_FORMAT, isOutputFormat, type OutputFormat } from '../../../src/siem/outputFormat.js';
import { sentinelFormFrom, sentinelRequest } from './SentinelFields.js';
import { OAuth2Fields, oauth2FormFrom, oauth2Request, type OAuth2Form } from './OAuth2Fields.js';
import { movesToAnotherOrigin } from '../../../src/destinations/origin.js';

interface Props {
  api: DestinationsApi;
  destination: Destination;
  onClose: () => void;
  onChanged: (d: Destination) => void;
}

function formFrom(d: Destination): FormState {
  const siem: SiemId = isSiemId(d.siem) ? d.siem : 'custom';
  const info = getPresetInfo(siem);
  const site = info.sites?.find((s) => s.url === d.url)?.id ?? '';
  const region = info.regions?.find((r) => r.url === d.url)?.id ?? '';
  const form: FormState = {
    siem,
    name: d.name ?? '',
    url: d.url,
    site,
    region,
    headerName: d.auth_header_name ?? '',
    credential: '',
    options: stringOptions(d.options),
  };
  return info.oauth2 ? { ...form, ...sentinelFormFrom(d) } : form;
}

/** The preset options the form edits (strings; a checkbox as 'true'); the integer delivery limits are kept as they are. */
function stringOptions(options: Destination['options']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(options)) {
    if (typeof v === 'string') out[k] = v;
    else if (v === true) out[k] = 'true';
  }
  return out;
}

/**
 * What Send test event depends on, as one string to compare: the probe goes out with the saved
 * destination (URL, header, credential, preset settings, format, OAuth2), never with the form, so while
 * any of these differs from what was last saved the test would not be testing what the user sees.
 * The name and the filter do not change the probe, nor do the Datadog site and New Relic region
 * pickers, which only fill in the URL. What the probe sends: delivery/target.ts toTarget.
 */
function testInputs(form: FormState, format: OutputFormat, oauth2: OAuth2Form, newCredential: string): string {
  return JSON.stringify({
    url: form.url.trim(),
    header: effectiveHeaderName(form),
    options: cleanOptions(form.options),
    sentinel: form.sentinel ?? null,
    format,
    oauth2,
    credential: newCredential.trim(),
  });
}

const NEW_HOST_HINT = 'A new host: enter the credential again (Rotate), or Remove it. A stored credential is never sent to a new host.';

/** The delivery limits set through the API: PATCH replaces options whole, so Save must carry them. */
function limitOptions(options: Destination['options']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(options)) if (typeof v === 'number') out[k] = v;
  return out;
}

/**
 * Edit destination. The credential is never shown: the browser only ever learns whether one is
 * stored ("credential present (encrypted)"). Rotate opens a field for the new one, which Save changes
 * sends with the rest of the form (one Save for everything, and a move to another host can carry its
 * new credential in the same request, as the API requires); Remove clears it after a confirmation.
 */
export function EditDestination({ api, destination, onClose, onChanged }: Props) {
  const id = useId();
  const [dest, setDest] = useState(destination);
  const [form, setForm] = useState<FormState>(() => formFrom(destination));
  const [filterDraft, setFilterDraft] = useState<FilterDraft>(() => draftFrom(destination.filter));
  const [format, setFormat] = useState<OutputFormat>(() => (isOutputFormat(destination.format) ? destination.format : DEFAULT_OUTPUT_FORMAT));
  // A custom webhook's OAuth2 client credentials; remounted after each save (a rotation then closes).
  const [oauth2, setOAuth2] = useState<OAuth2Form>(() => oauth2FormFrom(destination));
  // What the test depends on as last saved (as the form held it, so a URL the server tidied is not "changed").
  const [savedInputs, setSavedInputs] = useState(() => testInputs(formFrom(destination), format, oauth2, ''));
  const [saves, setSaves] = useState(0);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [result, setResult] = useState<TestResult | null>(null);
  const [busy, setBusy] = useState(false);
  const [attempted, setAttempted] = useState(false);
  const cred = useCredentialEdit();
  const { rotating, setRotating, setConfirmRemove, newCredential, setNewCredential, rotateButton } = cred;
  const info = getPresetInfo(form.siem);
  const unsavedForTest = testInputs(form, format, oauth2, rotating ? newCredential : '') !== savedInputs;
  // The API refuses to send a stored credential to another origin (it must come again in the same
  // request, or go): said here, as the URL is typed, rather than by the refused Save.
  const newHost = dest.auth_header_configured && !rotating && !form.sentinel && movesToAnotherOrigin(dest.url, form.url);

  const run = async (work: () => Promise<Destination | void>, okText: string) => {
    setBusy(true);
    setMessage(null);
    try {
      const d = await work();
      // A test result from before a save or a removal no longer describes the destination (one the
      // API refused changed nothing, and keeps it).
      setResult(null);
      if (d) {
        setDest(d);
        onChanged(d);
      }
      setMessage({ kind: 'ok', text: okText });
    } catch (e) {
      setMessage({ kind: 'error', text: errorText(e) });
    } finally {
      setBusy(false);
    }
  };

  const rotatingWith = rotating ? applyPrefix(form.siem, newCredential) : '';

  const save = () => {
    setAttempted(true);
    if (newHost) {
      setMessage({ kind: 'error', text: NEW_HOST_HINT });
      return;
    }
    if (rotating && rotatingWith === '') {
      setMessage({ kind: 'error', text: `Paste the new ${info.credentialLabel}, or choose Keep current credential.` });
      return;
    }
    // The inline count says the name is too long; the API would refuse it in its own words.
    if (nameLengthProblem(form)) {
      setMessage({ kind: 'error', text: SHORTEN_NAME });
      return;
    }
    const filter = draftFilter(filterDraft);
    if (!filter.ok) {
      setMessage({ kind: 'error', text: filter.error });
      return;
    }
    const header = effectiveHeaderName(form) || (rotating ? 'Authorization' : '');
    // Custom webhooks: OAuth2 on sends its settings (the secret only when a new one was typed); off removes stored ones.
    const staticAuthorization = header.toLowerCase() === 'authorization' && (rotating ? rotatingWith !== '' : dest.auth_header_configured);
    const custom =
      form.siem !== 'custom'
        ? null
        : oauth2.on
          ? oauth2Request(oauth2, { secretStored: dest.auth?.client_secret_configured === true, staticAuthorization })
          : dest.auth
            ? { auth: null }
            : null;
    if (custom && 'problem' in custom) {
      setMessage({ kind: 'error', text: custom.problem });
      return;
    }
    const saving = form;
    return run(
      async () => {
        const name = form.name.trim();
        const sentinel = form.sentinel ? sentinelRequest(form, rotating ? newCredential : '') : null;
        const d = await api.patch(dest.destination_id, {
          name: name === '' ? null : name,
          url: sentinel ? sentinel.url : form.url.trim(),
          options: { ...cleanOptions(form.options), ...limitOptions(dest.options) },
          filter: filter.filter,
          format,
          ...(sentinel
            ? { auth: sentinel.auth }
            : {
                ...(header !== '' && (dest.auth_header_configured || rotating || form.siem === 'custom') ? { auth_header_name: header } : {}),
                ...(rotating ? { auth_header_value: rotatingWith } : {}),
                ...(custom ? { auth: custom.auth } : {}),
              }),
        });
        if (rotating) {
          setRotating(false);
          setNewCredential('');
          setAttempted(false);
        }
        setOAuth2(oauth2FormFrom(d));
        setSavedInputs(testInputs(saving, format, oauth2FormFrom(d), ''));
        setSaves((n) => n + 1);
        return d;
      },
      rotating || oauth2.secret !== '' ? 'Changes saved. The new credential is stored encrypted.' : 'Changes saved.',
    );
  };

  const remove = () =>
    run(async () => {
      const d = await api.patch(dest.destination_id, { auth_header_value: '' });
      setConfirmRemove(false);
      rotateButton.current?.focus();
      return d;
    }, 'Credential removed.');

  const sendTest = async () => {
    setBusy(true);
    setResult(null);
    setMessage(null);
    try {
      setResult(await api.test(dest.destination_id));
      onChanged(await api.get(dest.destination_id));
    } catch (e) {
      setMessage({ kind: 'error', text: errorText(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title="Edit destination" onClose={onClose} size="wide" subtitle={<span>{info.label}</span>}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
        noValidate
      >
        <DestinationFields
          form={form}
          onChange={setForm}
          withCredential={false}
          showAllHints
          urlNote={
            <div className="hints new-host" aria-live="polite">
              {newHost ? (
                <div className="hint hint-warning" data-testid="new-host-hint">
                  {NEW_HOST_HINT}{' '}
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => {
                      cred.startRotating();
                      setMessage(null);
                    }}
                  >
                    Enter it again
                  </button>
                </div>
              ) : null}
            </div>
          }
        />
        <FormatChoice value={format} onChange={setFormat} />
        {form.siem === 'custom' ? (
          <OAuth2Fields key={saves} form={oauth2} onChange={setOAuth2} secretStored={dest.auth?.client_secret_configured === true} />
        ) : null}
        <FilterEditor api={api} draft={filterDraft} onChange={setFilterDraft} />

        <CredentialField
          id={id}
          form={form}
          dest={dest}
          cred={cred}
          attempted={attempted}
          busy={busy}
          onRemove={() => void remove()}
          onClearMessage={() => setMessage(null)}
        />

        <div aria-live="polite" className="live-region">
          {message ? (
            <div className={`result ${message.kind === 'ok' ? 'result-ok' : 'result-failed'}`} role={message.kind === 'error' ? 'alert' : undefined}>
              {message.text}
            </div>
          ) : null}
          {/* A result describes the saved settings: once the form's differ (a new credential typed, another
              URL), it no longer describes what the user sees, and Save changes clears it anyway. */}
          {result && !unsavedForTest ? <TestResultPanel result={result} /> : null}
        </div>

        <div className="actions">
          <UnavailableButton
            type="button"
            className="button-secondary"
            onClick={() => void sendTest()}
            unavailable={busy || unsavedForTest}
            aria-describedby={unsavedForTest ? `${id}-test-note` : undefined}
          >
            Send test event
          </UnavailableButton>
          {unsavedForTest ? (
            <span className="muted small test-note" id={`${id}-test-note`} data-testid="test-note">
              Save changes first: the test uses the saved settings.
            </span>
          ) : null}
          <span className="spacer" />
          <button type="button" className="button-secondary" onClick={onClose}>
            Close
          </button>
          <UnavailableButton type="submit" className="button-primary" unavailable={busy}>
            Save changes
          </UnavailableButton>
        </div>
      </form>
    </Modal>
  );
}
