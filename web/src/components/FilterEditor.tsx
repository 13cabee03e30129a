import { useEffect, useId, useState } from 'react';
import { BUILDER_CHOICES } from '../../../src/filters/fields.js';
import { builderToFilter, filterToBuilder, type BuilderState } from '../../../src/filters/builder.js';
import { errorText, type DestinationsApi } from '../api.js';
import { draftFilter, pretty, previewText, type FilterDraft } from '../filterDraft.js';

export { draftFilter, draftFrom, type FilterDraft } from '../filterDraft.js';

type Filter = Record<string, unknown>;

const DECISION_LABELS: Record<string, string> = { BLOCKED: 'Blocked', ALLOWED_WITH_MASKING: 'Allowed with masking', ALLOWED: 'Allowed' };
const SOURCE_LABELS: Record<string, string> = { api: 'API', sdk: 'SDK', browser_extension: 'Browser extension', desktop_agent: 'Desktop agent' };

interface Props {
  api: DestinationsApi;
  draft: FilterDraft;
  onChange: (d: FilterDraft) => void;
}

/**
 * Which events a destination gets: a builder (decisions, sources, finding types) or the filter as
 * JSON, with a live count of how many of the organization's last 1,000 events it matches (counted by
 * the service with the same check and evaluation as a save).
 */
export function FilterEditor({ api, draft, onChange }: Props) {
  const id = useId();
  const [note, setNote] = useState<string | null>(null);
  const [preview, setPreview] = useState<{ kind: 'busy' } | { kind: 'ok'; matched: number; of: number } | { kind: 'error'; text: string }>({ kind: 'busy' });
  const current = draftFilter(draft);
  const key = current.ok ? JSON.stringify(current.filter) : null;
  const invalid = !current.ok || preview.kind === 'error';
  // Folded while it sends every event, as it does unless the user says otherwise: its ~27 checkboxes
  // stood between Event format and Save & test, some 36 Tab presses for a keyboard user who wanted no
  // filter. Open from the start when a filter is set (Edit of a filtered destination); the user folds
  // and unfolds it after that, so it is read once (React then leaves the element's open alone).
  const [openAtFirst] = useState(() => !current.ok || current.filter !== null);
  const everyEvent = current.ok && current.filter === null;

  useEffect(() => {
    if (key === null) return;
    let stale = false;
    setPreview({ kind: 'busy' });
    // Debounced: typing JSON sends one request when the user pauses, not one per key.
    const timer = setTimeout(() => {
      api
        .previewFilter(JSON.parse(key) as Filter | null)
        .then((r) => !stale && setPreview({ kind: 'ok', ...r }))
        .catch((e: unknown) => !stale && setPreview({ kind: 'error', text: errorText(e) }));
    }, 300);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [api, key]);

  const toggle = (field: keyof BuilderState, value: string, on: boolean) => {
    const list = draft.builder[field].filter((v) => v !== value);
    onChange({ ...draft, builder: { ...draft.builder, [field]: on ? [...list, value] : list } });
  };

  const setAdvanced = (advanced: boolean) => {
    setNote(null);
    if (advanced) return onChange({ ...draft, advanced, json: pretty(builderToFilter(draft.builder)) });
    const parsed = draftFilter(draft);
    const builder = parsed.ok ? filterToBuilder(parsed.filter) : null;
    if (!builder) {
      setNote('This filter says more than the builder can show: keep editing it as JSON, or empty the text to start over.');
      return;
    }
    onChange({ ...draft, advanced, builder });
  };

  const group = (field: keyof BuilderState, legend: string, values: readonly string[], label: (v: string) => string) => (
    <fieldset className="filter-group">
      <legend>{legend}</legend>
      <div className="check-grid">
        {values.map((v) => (
          <label key={v} className="check">
            <input
              type="checkbox"
              name={`${id}-${field}`}
              value={v}
              checked={draft.builder[field].includes(v)}
              onChange={(e) => toggle(field, v, e.target.checked)}
            />
            {label(v)}
          </label>
        ))}
      </div>
    </fieldset>
  );

  return (
    <details className="advanced filter-fold" open={openAtFirst}>
      <summary data-testid="filter-summary">Which events to forward{everyEvent ? ': every event' : ': filtered'}</summary>
      <fieldset className="filter-editor">
        <legend className="visually-hidden">Which events to forward</legend>
        <p className="help">Nothing ticked: every event. Within a group, any ticked value matches; every group with a tick must match.</p>
        {draft.advanced ? (
          <div className="field">
            <label htmlFor={`${id}-json`}>Filter (JSON)</label>
            <textarea
              id={`${id}-json`}
              className="filter-json"
              rows={7}
              spellCheck={false}
              placeholder={'{"aegis.decision": {"$in": ["BLOCKED"]}, "aegis.finding_counts_by_type.SSN": {"$gte": 1}}'}
              value={draft.json}
              onChange={(e) => onChange({ ...draft, json: e.target.value })}
              // The count below is the field's verdict too: "not valid JSON", or the service's refusal.
              aria-describedby={`${id}-json-help ${id}-preview`}
              aria-invalid={invalid || undefined}
            />
            <p className="help" id={`${id}-json-help`}>
              MongoDB-style: dotted paths of the forwarded event with $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $exists, $not, $and, $or. Empty: every event.
            </p>
          </div>
        ) : (
          <>
            {group('decisions', 'Decision', BUILDER_CHOICES.decisions, (v) => DECISION_LABELS[v] ?? v)}
            {group('sourceTypes', 'Source', BUILDER_CHOICES.sourceTypes, (v) => SOURCE_LABELS[v] ?? v)}
            {group('findingTypes', 'Has a finding of type', BUILDER_CHOICES.findingTypes, (v) => v)}
          </>
        )}
        <div className="checkbox-row">
          <input id={`${id}-advanced`} type="checkbox" checked={draft.advanced} onChange={(e) => setAdvanced(e.target.checked)} />
          <label htmlFor={`${id}-advanced`}>Advanced (JSON)</label>
        </div>
        {note ? <p className="note">{note}</p> : null}
        <p id={`${id}-preview`} className={`filter-preview${invalid ? ' filter-preview-error' : ''}`} aria-live="polite" data-testid="filter-preview">
          {!current.ok
            ? current.error
            : preview.kind === 'busy'
              ? 'Counting matching events…'
              : preview.kind === 'error'
                ? preview.text
                : previewText(preview.matched, preview.of)}
        </p>
      </fieldset>
    </details>
  );
}
