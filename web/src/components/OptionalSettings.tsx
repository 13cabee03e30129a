import { getPresetInfo, type SiemId } from '../../../src/siem/catalog.js';

interface Props {
  /** The form's useId: each option's input and help ids hang off it. */
  id: string;
  siem: SiemId;
  /** The options as the form holds them: strings, a checkbox as 'true' or ''. */
  options: Record<string, string>;
  onChange: (options: Record<string, string>) => void;
}

/** A preset's "Optional settings", folded away: each left empty sends the encoder's default. */
export function OptionalSettings({ id, siem, options, onChange }: Props) {
  // The settings the preset's form offers (PresetOptions keys); defaults are the encoder's own constants.
  const fields = getPresetInfo(siem).optionFields ?? [];
  return fields.length > 0 ? (
    <details className="advanced">
      <summary>Optional settings</summary>
      {fields.map((o) => (
        <div className="field" key={o.key}>
          <label htmlFor={`${id}-opt-${o.key}`}>{o.label}</label>
          <input
            id={`${id}-opt-${o.key}`}
            autoComplete="off"
            value={options[o.key] ?? ''}
            placeholder={o.default}
            onChange={(e) => onChange({ ...options, [o.key]: e.target.value })}
            aria-describedby={`${id}-opt-${o.key}-help`}
          />
          <p className="help" id={`${id}-opt-${o.key}-help`} data-testid={`option-help-${o.key}`}>
            {o.default !== undefined ? (
              <>
                Leave empty to send the default, <code>{o.default}</code>.
              </>
            ) : (
              o.help
            )}
          </p>
        </div>
      ))}
      {siem === 'splunk_hec' ? (
        <div className="field">
          <div className="checkbox-row">
            <input
              id={`${id}-opt-indexer_ack`}
              type="checkbox"
              checked={options['indexer_ack'] === 'true'}
              onChange={(e) => onChange({ ...options, indexer_ack: e.target.checked ? 'true' : '' })}
              aria-describedby={`${id}-opt-indexer_ack-help`}
            />
            <label htmlFor={`${id}-opt-indexer_ack`}>Indexer acknowledgement</label>
          </div>
          <p className="help" id={`${id}-opt-indexer_ack-help`} data-testid="option-help-indexer_ack">
            Events count as delivered only once Splunk confirms they were indexed; unconfirmed ones are sent again. Tick it only if the HEC token has “Enable
            indexer acknowledgement” on (Splunk Enterprise; most Splunk Cloud stacks do not offer it).
          </p>
        </div>
      ) : null}
    </details>
  ) : null;
}

/** The option the form holds as a checkbox ('true' or ''), sent as a boolean. */
const BOOLEAN_OPTIONS = new Set(['indexer_ack']);

/** Options without empty strings (the API refuses empty option values); checkboxes become booleans. */
export function cleanOptions(options: Record<string, string>): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const [k, v] of Object.entries(options)) {
    if (BOOLEAN_OPTIONS.has(k)) {
      if (v === 'true') out[k] = true;
    } else if (v.trim() !== '') out[k] = v.trim();
  }
  return out;
}
