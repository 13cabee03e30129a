import { useId, useState } from 'react';
import { errorText, type Destination, type DestinationsApi, type RangeReplayResult } from '../api.js';
import { Modal } from './Modal.js';
import { UnavailableButton } from './UnavailableButton.js';
import { ReplayProgress } from './ReplayProgress.js';
import { plural } from '../format.js';

interface Props {
  api: DestinationsApi;
  destination: Destination;
  onClose: () => void;
  /** A background replay started: the card follows it after the dialog closes. */
  onStarted: (replayId: string) => void;
  onChanged: () => void;
}

/** A Date as the value of an <input type="datetime-local"> (local time, minutes). */
export function toLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * "Replay a time range" on a card: sends every recorded event of [from, to) to this destination
 * again. A small window is queued at once; a larger one runs in the background with its progress
 * shown here (and on the card) and a Cancel button.
 */
export function ReplayRange({ api, destination, onClose, onStarted, onChanged }: Props) {
  const id = useId();
  const [from, setFrom] = useState(() => toLocalInput(new Date(Date.now() - 24 * 3_600_000)));
  const [to, setTo] = useState(() => toLocalInput(new Date(Date.now() + 60_000)));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<RangeReplayResult | null>(null);

  const submit = async () => {
    setError(null);
    setResult(null);
    const f = new Date(from);
    const t = new Date(to);
    if (Number.isNaN(f.getTime()) || Number.isNaN(t.getTime())) {
      setError('Give both From and To.');
      return;
    }
    if (f.getTime() > t.getTime()) {
      setError('From must be before To.');
      return;
    }
    setBusy(true);
    try {
      const res = await api.replayRange(destination.destination_id, f, t);
      setResult(res);
      if (res.replay_id) onStarted(res.replay_id);
      onChanged();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      title="Replay a time range"
      onClose={onClose}
      subtitle={
        <span>
          {destination.name !== null ? <strong>{destination.name} </strong> : null}
          <span className="url">{destination.url}</span>
        </span>
      }
    >
      <p className="muted">
        Sends every recorded audit event whose time is in the window to this destination again, with its original event id, so your SIEM can drop duplicates.
        The destination’s filter applies; events older than the SIEM accepts are left out and counted.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        noValidate
      >
        <div className="field-row">
          <div className="field">
            <label htmlFor={`${id}-from`}>From</label>
            <input id={`${id}-from`} type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} required data-autofocus="" />
          </div>
          <div className="field">
            <label htmlFor={`${id}-to`}>To</label>
            <input id={`${id}-to`} type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} required />
          </div>
        </div>
        {error ? (
          <div className="result result-failed" role="alert">
            {error}
          </div>
        ) : null}
        {result && !result.replay_id ? (
          <div className="result result-ok" data-testid="replay-result">
            {plural(result.replayed, 'event')} queued for delivery.
            {result.message ? <p>{result.message}</p> : null}
          </div>
        ) : null}
        {result?.replay_id ? (
          <ReplayProgress api={api} destinationId={destination.destination_id} replayId={result.replay_id} withCancel onFinished={onChanged} />
        ) : null}
        <div className="actions">
          <button type="button" className="button-secondary" onClick={onClose}>
            {result ? 'Done' : 'Cancel'}
          </button>
          {!result?.replay_id ? (
            <UnavailableButton type="submit" className="button-primary" unavailable={busy}>
              {busy ? 'Replaying…' : 'Replay'}
            </UnavailableButton>
          ) : null}
        </div>
      </form>
    </Modal>
  );
}
