import type { FormatHint } from '../../../src/siem/catalog.js';

/** The Format hint: updates as the user types; announced politely. */
export function Hints({ id, hints, onFix }: { id: string; hints: FormatHint[]; onFix: (h: FormatHint) => void }) {
  return (
    <div id={id} className="hints" aria-live="polite">
      {hints.map((h, i) => (
        <div key={`${h.field}-${i}`} className={`hint hint-${h.severity}`} data-testid="format-hint">
          <span className="hint-title">Format hint{h.severity === 'error' ? '' : h.severity === 'warning' ? ' (check)' : ''}:</span> {h.message}
          {h.fix ? (
            <button type="button" className="link-button" onClick={() => onFix(h)}>
              {h.fix.label}
            </button>
          ) : null}
        </div>
      ))}
    </div>
  );
}
