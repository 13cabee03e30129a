import { useState } from 'react';
import { applyPrefix, getPresetInfo } from '../../../src/siem/catalog.js';
import type { Destination } from '../api.js';
import { useRotateFocus } from '../useRotateFocus.js';
import { hintsFor, prefixDone, type FormState } from './DestinationFields.js';
import { HintTitle } from './Hints.js';
import { SecretInput } from './SecretInput.js';
import { UnavailableButton } from './UnavailableButton.js';

/** Edit's credential state: whether Rotate (or Remove's confirmation) is open, and the new credential typed. */
export function useCredentialEdit() {
  const [rotating, setRotating] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [newCredential, setNewCredential] = useState('');
  const { rotateButton, newInput: newCredentialInput } = useRotateFocus(rotating);
  /** Opens Rotate (closing Remove's confirmation): the Rotate button's, and the new-host hint's "Enter it again". */
  const startRotating = () => {
    setRotating(true);
    setConfirmRemove(false);
  };
  return { rotating, setRotating, startRotating, confirmRemove, setConfirmRemove, newCredential, setNewCredential, rotateButton, newCredentialInput };
}

export type CredentialEdit = ReturnType<typeof useCredentialEdit>;

interface Props {
  /** The form's useId: the credential's label, input and help ids hang off it. */
  id: string;
  form: FormState;
  dest: Destination;
  cred: CredentialEdit;
  /** A Save was tried: the new credential's hints show even before anything is typed. */
  attempted: boolean;
  busy: boolean;
  onRemove: () => void;
  /** Rotate and Keep current credential start afresh: the last Save's message no longer applies. */
  onClearMessage: () => void;
}

/**
 * Edit's credential: never shown, only whether one is stored (the chip), with Rotate opening a field
 * for the new one and Remove asking for a confirmation first.
 */
export function CredentialField({ id, form, dest, cred, attempted, busy, onRemove, onClearMessage }: Props) {
  const { rotating, setRotating, confirmRemove, setConfirmRemove, newCredential, setNewCredential, rotateButton, newCredentialInput } = cred;
  const info = getPresetInfo(form.siem);
  // Microsoft Sentinel's credential is the OAuth2 client secret: present when auth says so.
  const credentialConfigured = info.oauth2 ? dest.auth?.client_secret_configured === true : dest.auth_header_configured;

  // Like the add form: the new credential's hints wait until it has been typed in (or saved).
  const credHints =
    rotating && (newCredential !== '' || attempted)
      ? prefixDone(
          hintsFor({ ...form, credential: newCredential }, true).filter((h) => h.field === 'auth_header_value' || h.field === 'client_secret'),
          form.siem,
          applyPrefix(form.siem, newCredential),
        )
      : [];
  // Wrong as typed (a red hint), or empty when Save was tried: Save refuses it, so the field says so.
  const invalid = credHints.some((h) => h.severity === 'error') || (attempted && newCredential.trim() === '');

  return (
    <div className="field">
      <span className="label" id={`${id}-cred-label`}>
        {info.credentialLabel}
      </span>
      <div className="credential-row" role="group" aria-labelledby={`${id}-cred-label`}>
        <span className="credential-state">
          {credentialConfigured ? (
            <span className="chip" data-testid="credential-chip">
              <svg width="12" height="12" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
                <path d="M4 7V5a4 4 0 1 1 8 0v2h1v8H3V7h1Zm2 0h4V5a2 2 0 1 0-4 0v2Z" fill="currentColor" />
              </svg>
              credential present (encrypted)
            </span>
          ) : (
            <span className="chip chip-empty" data-testid="credential-chip">
              no credential
            </span>
          )}
          {dest.auth_header_configured && dest.auth_header_name ? <span className="muted small">in the {dest.auth_header_name} header</span> : null}
        </span>
        {!rotating ? (
          <button
            type="button"
            ref={rotateButton}
            className="button-secondary small"
            onClick={() => {
              cred.startRotating();
              onClearMessage();
            }}
          >
            {credentialConfigured ? 'Rotate' : 'Add credential'}
          </button>
        ) : null}
        {dest.auth_header_configured && !info.oauth2 && !rotating ? (
          <button
            type="button"
            className="button-danger-ghost small"
            onClick={() => {
              setConfirmRemove(true);
              setRotating(false);
            }}
          >
            Remove
          </button>
        ) : null}
      </div>
      {rotating ? (
        <div className="inset">
          <label htmlFor={`${id}-newcred`}>New {info.credentialLabel}</label>
          <SecretInput
            inputRef={newCredentialInput}
            id={`${id}-newcred`}
            value={newCredential}
            onChange={setNewCredential}
            describedBy={`${id}-newcred-help ${id}-newcred-hints`}
            invalid={invalid}
            prefix={info.prefix}
            revealable={false}
          />
          <p className="help" id={`${id}-newcred-help`}>
            {info.credentialHelp} Save changes stores it; until then the current one stays in use.
          </p>
          <div className="hints" id={`${id}-newcred-hints`} aria-live="polite">
            {credHints.map((h, i) => (
              <div key={i} className={`hint hint-${h.severity}`} data-testid="rotate-hint" data-severity={h.severity}>
                <HintTitle severity={h.severity} /> {h.message}
              </div>
            ))}
          </div>
          <div className="inset-foot">
            <button
              type="button"
              className="link-button"
              onClick={() => {
                setRotating(false);
                setNewCredential('');
                onClearMessage();
              }}
            >
              Keep current credential
            </button>
          </div>
        </div>
      ) : null}
      {confirmRemove ? (
        <div className="inset inset-danger" role="group" aria-label="Remove the credential">
          <p>Remove the stored credential? Deliveries will be sent without an auth header.</p>
          <div className="actions inline">
            <button type="button" className="button-secondary small" onClick={() => setConfirmRemove(false)} data-autofocus>
              Keep it
            </button>
            <UnavailableButton type="button" className="button-danger small" onClick={onRemove} unavailable={busy}>
              Remove credential
            </UnavailableButton>
          </div>
        </div>
      ) : null}
    </div>
  );
}
