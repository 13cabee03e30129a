// A credential's input: masked, never autofilled with a saved password, never spell-checked (the
// browser would send it to a dictionary service), with the preset's fixed prefix shown before it and a
// Show/Hide toggle. One component for every secret the forms take, so they cannot drift apart.
import { useState, type Ref } from 'react';

export function SecretInput({
  id,
  name,
  value,
  onChange,
  onBlur,
  describedBy,
  invalid,
  prefix,
  inputRef,
  revealable = true,
}: {
  id: string;
  name?: string;
  value: string;
  onChange: (value: string) => void;
  onBlur?: () => void;
  describedBy?: string;
  invalid?: boolean;
  /** Shown before the input, not part of its value (e.g. Splunk's "Splunk "). */
  prefix?: string;
  inputRef?: Ref<HTMLInputElement>;
  /** Whether the Show/Hide toggle is offered. */
  revealable?: boolean;
}) {
  const [shown, setShown] = useState(false);
  return (
    <div className="input-group">
      {prefix ? (
        <span className="input-prefix" aria-hidden="true">
          {prefix.trim()}
        </span>
      ) : null}
      <input
        ref={inputRef}
        id={id}
        name={name}
        type={shown ? 'text' : 'password'}
        autoComplete="new-password"
        spellCheck={false}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onBlur={onBlur}
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
      />
      {revealable ? (
        <button type="button" className="button-ghost small" onClick={() => setShown((v) => !v)} aria-pressed={shown}>
          {shown ? 'Hide' : 'Show'}
        </button>
      ) : null}
    </div>
  );
}
