import { useEffect, useId, useRef, useState } from 'react';
import { SIEM_PRESETS, applyPrefix, type SiemId } from '../../../src/siem/catalog.js';
import { errorText, type Destination, type DestinationsApi, type RangeReplayResult, type TestResult } from '../api.js';
import { Modal } from './Modal.js';
import {
  DestinationFields,
  credentialMissing,
  credentialMissingText,
  effectiveHeaderName,
  initialForm,
  nameLengthProblem,
  SHORTEN_NAME,
  type FormState,
} from './DestinationFields.js';
import { cleanOptions } from './OptionalSettings.js';
import { TestResultPanel } from './TestResultPanel.js';
import { sentinelRequest } from './SentinelFields.js';
import { emptyOAuth2Form, OAuth2Fields, oauth2Request, type OAuth2Form } from './OAuth2Fields.js';
import { FilterEditor, draftFilter, draftFrom, type FilterDraft } from './FilterEditor.js';
import { FormatChoice } from './FormatChoice.js';
import { DEFAULT_OUTPUT_FORMAT, type OutputFormat } from '../../../src/siem/outputFormat.js';
import { Stepper } from './Stepper.js';
import { UnavailableButton } from './UnavailableButton.js';
import { SiemChoice } from './SiemChoice.js';
import { EnableChoices, historyHours, type History } from './EnableChoices.js';

interface Props {
  api: DestinationsApi;
  onClose: () => void;
  /** Called whenever the server copy changes (saved, enabled), so the cards stay current. */
  onChanged: () => void;
  /** "Send history" queued a range replay for the new destination (at once, or in the background). */
  onHistorySent?: (destinationId: string, result: RangeReplayResult) => void;
}

/**
 * Add destination, the product page's steps: choose the SIEM, configure (preset labels, prefix,
 * Format hint), Save & test (saved disabled, then the synthetic event), then the opt-in checkbox.
 */
export function AddDestination({ api, onClose, onChanged, onHistorySent }: Props) {
  const id = useId();
  const [step, setStep] = useState(0);
  const [form, setForm] = useState<FormState>(() => initialForm('splunk_hec'));
  const [filterDraft, setFilterDraft] = useState<FilterDraft>(() => draftFrom(null));
  const [format, setFormat] = useState<OutputFormat>(DEFAULT_OUTPUT_FORMAT);
  // A custom webhook's optional OAuth2 client credentials (Sentinel's are part of its own fields).
  const [oauth2, setOAuth2] = useState<OAuth2Form>(emptyOAuth2Form);
  const [saved, setSaved] = useState<Destination | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<TestResult | null>(null);
  const [live, setLive] = useState(false);
  const [history, setHistory] = useState<History>('none');
  // After the first Save & test, every field's Format hints show, touched or not.
  const [attempted, setAttempted] = useState(false);
  const body = useRef<HTMLDivElement>(null);

  // Each step replaces the buttons that led to it: move focus to the new step's heading so keyboard
  // and screen-reader users land on it (the Modal focuses step 1's selected SIEM itself).
  const firstRender = useRef(true);
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    if (step === 0) {
      body.current?.querySelector<HTMLElement>('input[type=radio]:checked')?.focus();
      return;
    }
    const headings = body.current?.querySelectorAll<HTMLElement>('.step-title');
    headings?.[headings.length - 1]?.focus();
  }, [step]);

  // The form is the one record of the SIEM chosen: a new choice starts its form afresh.
  const chooseSiem = (s: SiemId) => {
    if (s !== form.siem) setForm(initialForm(s));
  };

  // Whether closing has tried Done's step for the current answer (see close, below).
  const closeTried = useRef(false);

  const saveAndTest = async () => {
    setError(null);
    setAttempted(true);
    if (form.url.trim() === '') {
      setError(`Paste your ${SIEM_PRESETS[form.siem].urlLabel} first.`);
      return;
    }
    // A credential the SIEM needs (its field's hint is red) would only buy a test that must fail.
    // Sentinel's secret, once saved, is kept when the field is left empty (sentinelRequest).
    if (credentialMissing(form) && !(form.sentinel && saved?.auth?.client_secret_configured)) {
      setError(credentialMissingText(form));
      return;
    }
    // The inline count says the name is too long; the API would refuse it in its own words.
    if (nameLengthProblem(form)) {
      setError(SHORTEN_NAME);
      return;
    }
    const filter = draftFilter(filterDraft);
    if (!filter.ok) {
      setError(filter.error);
      return;
    }
    // Microsoft Sentinel: the URL is built from its parts and the secret travels in auth, never a header.
    const sentinel = form.sentinel ? sentinelRequest(form, form.credential) : null;
    const value = sentinel ? '' : applyPrefix(form.siem, form.credential);
    const header = effectiveHeaderName(form);
    const name = form.name.trim();
    const custom =
      form.siem === 'custom' && oauth2.on
        ? oauth2Request(oauth2, { secretStored: false, staticAuthorization: value !== '' && header.toLowerCase() === 'authorization' })
        : null;
    if (custom && 'problem' in custom) {
      setError(custom.problem);
      return;
    }
    const auth = sentinel ? sentinel.auth : (custom?.auth ?? null);
    const body = {
      url: sentinel ? sentinel.url : form.url.trim(),
      options: cleanOptions(form.options),
      filter: filter.filter,
      format,
      ...(value !== '' && header !== '' ? { auth_header_name: header, auth_header_value: value } : {}),
      ...(auth ? { auth } : {}),
    };
    // Cleared only now: a Save & test the checks above stop keeps the result its note refers to.
    setResult(null);
    setStep(2);
    try {
      setBusy('Saving the destination (disabled)…');
      let dest: Destination;
      if (saved) {
        dest = await api.patch(saved.destination_id, {
          ...body,
          name: name === '' ? null : name,
          // An emptied credential field after a failed test removes the stored one.
          ...(!sentinel && value === '' && saved.auth_header_configured ? { auth_header_value: '' } : {}),
          // OAuth2 switched off after a failed test removes what the first save stored.
          ...(!auth && saved.auth ? { auth: null } : {}),
        });
      } else {
        dest = await api.create({ ...body, ...(name !== '' ? { name } : {}), siem: form.siem, enabled: false });
      }
      setSaved(dest);
      onChanged();
      setBusy('Sending a synthetic aegis.audit_stream.test event…');
      const res = await api.test(dest.destination_id);
      setResult(res);
      closeTried.current = false; // a new answer: closing applies its choices again
      setLive(res.ok); // ON after a green test, OFF after a red one
      onChanged(); // the card behind the dialog shows the test's outcome too
      setStep(3);
    } catch (e) {
      setError(errorText(e));
      setStep(1);
    } finally {
      setBusy(null);
    }
  };

  const finish = async () => {
    if (!saved) return onClose();
    setError(null);
    try {
      if (live) {
        setBusy('Starting forwarding…');
        await api.patch(saved.destination_id, { enabled: true });
      }
      const hours = historyHours(history);
      if (hours > 0) {
        setBusy('Sending history…');
        // Jobs for a disabled destination wait until it is enabled; the SIEM's own age limit trims the window.
        const now = Date.now();
        const res = await api.replayRange(saved.destination_id, new Date(now - hours * 3_600_000), new Date(now + 60_000));
        onHistorySent?.(saved.destination_id, res);
      }
      onChanged();
      onClose();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };

  // Closing once the test has answered (Escape, ×, outside) does what Done does with the choices as
  // shown: a ticked box starts forwarding, an unticked one never does, the history chosen is sent.
  // Without this a green test's ticked box was dropped without a word. Once such a close has failed,
  // the next one just closes (the error said what did not happen).
  const close = () => {
    if (step === 3 && busy !== null) return; // finishing already: its answer closes the dialog or says why not
    if (step === 3 && saved && result && !closeTried.current) {
      closeTried.current = true; // finish closes the dialog when it succeeds
      void finish();
      return;
    }
    onClose();
  };

  const label = SIEM_PRESETS[form.siem].label;
  return (
    <Modal title="Add destination" onClose={close} size="wide" subtitle={<Stepper step={step} />}>
      <div ref={body}>
        {step === 0 ? <SiemChoice id={id} siem={form.siem} onChoose={chooseSiem} onContinue={() => setStep(1)} onCancel={onClose} /> : null}

        {step === 1 ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void saveAndTest();
            }}
            noValidate
          >
            <h3 className="step-title" tabIndex={-1}>
              Step 2: Configure {label}
            </h3>
            {saved ? <p className="note">Saved disabled. Change what the test result pointed at, then Save &amp; test again.</p> : null}
            {/* Back to configure: the result the note speaks of stays in view until the next Save & test. */}
            {saved && result ? <TestResultPanel result={result} /> : null}
            {/* Keyed by SIEM: choosing another SIEM starts a fresh form, untouched. */}
            <DestinationFields key={form.siem} form={form} onChange={setForm} withCredential showAllHints={attempted} />
            {form.siem === 'custom' ? <OAuth2Fields form={oauth2} onChange={setOAuth2} /> : null}
            <FormatChoice value={format} onChange={setFormat} />
            <FilterEditor api={api} draft={filterDraft} onChange={setFilterDraft} />
            {error ? (
              <div className="result result-failed" role="alert">
                {error}
              </div>
            ) : null}
            <div className="actions">
              {!saved ? (
                <button type="button" className="button-secondary" onClick={() => setStep(0)}>
                  Back
                </button>
              ) : null}
              <button type="submit" className="button-primary">
                Save &amp; test
              </button>
            </div>
          </form>
        ) : null}

        {step >= 2 ? (
          <div>
            <h3 className="step-title" tabIndex={-1}>
              Step 3: Save &amp; test
            </h3>
            <p className="muted">
              Aegis saves the destination disabled, then POSTs a synthetic <code>aegis.audit_stream.test</code> event to {label}.
            </p>
            <div aria-live="polite" aria-atomic="true" className="live-region">
              {busy ? (
                <p className="busy">
                  <span className="spinner" aria-hidden="true" /> {busy}
                </p>
              ) : null}
              {result ? <TestResultPanel result={result} /> : null}
            </div>
            {error ? (
              <div className="result result-failed" role="alert">
                {error}
              </div>
            ) : null}
            {step === 3 && result ? (
              <>
                <h3 className="step-title" tabIndex={-1}>
                  Step 4: Enable
                </h3>
                <EnableChoices id={id} testOk={result.ok} live={live} onLive={setLive} history={history} onHistory={setHistory} />
                <div className="actions">
                  {!result.ok ? (
                    <button type="button" className="button-secondary" onClick={() => setStep(1)}>
                      Back to configure
                    </button>
                  ) : null}
                  <UnavailableButton type="button" className="button-primary" onClick={() => void finish()} unavailable={busy !== null}>
                    Done
                  </UnavailableButton>
                </div>
              </>
            ) : null}
          </div>
        ) : null}
      </div>
    </Modal>
  );
}
