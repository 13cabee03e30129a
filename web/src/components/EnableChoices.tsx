/** "Send history": how far back the new destination gets the events recorded before it existed. */
const HISTORY = [
  { value: 'none', label: 'None', hours: 0 },
  { value: '24h', label: 'Last 24 hours', hours: 24 },
  { value: '7d', label: 'Last 7 days', hours: 7 * 24 },
] as const;
export type History = (typeof HISTORY)[number]['value'];

export const historyHours = (history: History): number => HISTORY.find((h) => h.value === history)?.hours ?? 0;

interface Props {
  /** The form's useId: the checkbox's id and the radio group's name hang off it. */
  id: string;
  testOk: boolean;
  live: boolean;
  onLive: (live: boolean) => void;
  history: History;
  onHistory: (history: History) => void;
}

/** Add destination's step 4 choices: start forwarding live events, and how much history to send. */
export function EnableChoices({ id, testOk, live, onLive, history, onHistory }: Props) {
  return (
    <>
      <div className="checkbox-row">
        <input id={`${id}-live`} type="checkbox" checked={live} onChange={(e) => onLive(e.target.checked)} />
        <label htmlFor={`${id}-live`}>Start forwarding live events</label>
      </div>
      <p className="help" data-testid="enable-help">
        {enableHelp(testOk, live)}
      </p>
      <fieldset className="history-choices">
        <legend>Send history</legend>
        <div className="radio-row">
          {HISTORY.map((h) => (
            <label key={h.value}>
              <input type="radio" name={`${id}-history`} value={h.value} checked={history === h.value} onChange={() => onHistory(h.value)} /> {h.label}
            </label>
          ))}
        </div>
        <p className="help">Also send the audit events recorded before this destination existed (the SIEM’s own age limit applies).</p>
      </fieldset>
    </>
  );
}

/** What the checkbox means now: the default's reason, until the user changes it. */
function enableHelp(testOk: boolean, live: boolean): string {
  if (testOk) {
    return live
      ? 'On because the test succeeded. Untick to keep the destination saved but disabled.'
      : 'Off: the destination stays saved but disabled. Enable it from its card at any time.';
  }
  return live
    ? 'On although the test failed: live events are queued and retried until the SIEM accepts them, and the card shows Failing until then.'
    : 'Off because the test failed, so a misconfiguration never silently begins streaming. Fix it, or tick to start anyway.';
}
