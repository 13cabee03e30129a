import { useId } from 'react';
import { OUTPUT_FORMATS, OUTPUT_FORMAT_INFO, type OutputFormat } from '../../../src/siem/outputFormat.js';

/** The event format a destination receives (ECS, the default, or OCSF): used by Add and Edit. */
export function FormatChoice({ value, onChange }: { value: OutputFormat; onChange: (f: OutputFormat) => void }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={`${id}-format`}>Event format</label>
      <select
        id={`${id}-format`}
        data-testid="format-select"
        value={value}
        onChange={(e) => onChange(e.target.value as OutputFormat)}
        aria-describedby={`${id}-format-help`}
      >
        {OUTPUT_FORMATS.map((f) => (
          <option key={f} value={f}>
            {OUTPUT_FORMAT_INFO[f].label}
          </option>
        ))}
      </select>
      <p className="help" id={`${id}-format-help`}>
        {OUTPUT_FORMAT_INFO[value].hint}
      </p>
    </div>
  );
}
