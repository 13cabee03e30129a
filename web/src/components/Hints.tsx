import type { FormatHint } from '../../../src/siem/catalog.js';

/**
 * What each severity asks of the user, in words: the hint's colour alone told a colour-blind or
 * screen-reader user nothing, and "fix this" read the same as "done for you". The one list every
 * hint's title comes from (the Format hints, Rotate's).
 */
export const HINT_LABELS: Readonly<Record<FormatHint['severity'], string>> = {
  // "Format hint" is the product page's name for them; the severity follows it.
  error: 'Format hint, fix this',
  warning: 'Format hint, check this',
  info: 'Format hint, note',
};

/** A hint's title: its severity, said. */
export function HintTitle({ severity }: { severity: FormatHint['severity'] }) {
  return <span className="hint-title">{HINT_LABELS[severity]}:</span>;
}

/** The Format hint: updates as the user types; announced politely. */
export function Hints({ id, hints, onFix }: { id: string; hints: FormatHint[]; onFix: (h: FormatHint) => void }) {
  return (
    <div id={id} className="hints" aria-live="polite">
      {hints.map((h, i) => (
        <div key={`${h.field}-${i}`} className={`hint hint-${h.severity}`} data-testid="format-hint" data-severity={h.severity}>
          <HintTitle severity={h.severity} /> {h.message}
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
