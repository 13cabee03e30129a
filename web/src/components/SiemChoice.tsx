import { SIEM_IDS, SIEM_PRESETS, type SiemId } from '../../../src/siem/catalog.js';

interface Props {
  /** The form's useId: the radio group's name hangs off it. */
  id: string;
  siem: SiemId;
  onChoose: (s: SiemId) => void;
  onContinue: () => void;
  onCancel: () => void;
}

/** Add destination's step 1: one radio per SIEM, with its blurb. */
export function SiemChoice({ id, siem, onChoose, onContinue, onCancel }: Props) {
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        onContinue();
      }}
    >
      <fieldset className="siem-choices">
        <legend>Step 1: Choose your SIEM</legend>
        <div className="choice-grid">
          {SIEM_IDS.map((s) => (
            <label key={s} className={`choice${siem === s ? ' choice-selected' : ''}`}>
              <input
                type="radio"
                name={`${id}-siem`}
                value={s}
                checked={siem === s}
                onChange={() => onChoose(s)}
                data-autofocus={siem === s ? '' : undefined}
              />
              <span className="choice-label">{SIEM_PRESETS[s].label}</span>
              <span className="choice-blurb">{SIEM_PRESETS[s].blurb}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <div className="actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button-primary">
          Continue
        </button>
      </div>
    </form>
  );
}
