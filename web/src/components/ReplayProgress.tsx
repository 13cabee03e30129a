import { useEffect, useState } from 'react';
import { errorText, type DestinationsApi, type Replay } from '../api.js';
import { plural } from '../format.js';
import { UnavailableButton } from './UnavailableButton.js';

interface Props {
  api: DestinationsApi;
  destinationId: string;
  replayId: string;
  /** Show a Cancel button while it runs. */
  withCancel?: boolean;
  /** Told once the replay stops running (done, cancelled or failed). */
  onFinished?: (r: Replay) => void;
}

const POLL_MS = 1000;

/** A background range replay's progress, read from GET .../replays/{id} until it stops running. */
export function ReplayProgress({ api, destinationId, replayId, withCancel = false, onFinished }: Props) {
  const [replay, setReplay] = useState<Replay | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);

  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    const poll = async () => {
      try {
        const r = await api.getReplay(destinationId, replayId);
        if (!live) return;
        setReplay(r);
        setError(null);
        if (r.status !== 'running') {
          onFinished?.(r);
          return;
        }
      } catch (e) {
        if (live) setError(errorText(e));
      }
      if (live) timer = window.setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
    // onFinished is a notification, not an input: a new function each render must not restart polling.
  }, [api, destinationId, replayId]);

  const cancel = async () => {
    setCancelling(true);
    try {
      setReplay(await api.cancelReplay(destinationId, replayId));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setCancelling(false);
    }
  };

  const status = replay?.status ?? 'running';
  const pct = Math.round((replay?.progress ?? 0) * 100);
  return (
    <div className="replay-progress" data-testid="replay-progress" data-status={status} aria-live="polite">
      <progress max={1} value={replay?.progress ?? 0} aria-label="Replay progress" />
      <p className="small">
        {replay === null
          ? 'Starting the replay…'
          : status === 'running'
            ? `Replaying: ${plural(replay.replayed, 'event')} queued, ${pct}% of about ${plural(replay.total_estimate, 'event')}.`
            : status === 'done'
              ? `Done: ${plural(replay.replayed, 'event')} queued for delivery.`
              : status === 'cancelled'
                ? `Cancelled: ${plural(replay.replayed, 'event')} queued before it stopped stay queued.`
                : `Failed after ${plural(replay.replayed, 'event')}: ${replay.error ?? 'unknown error'}`}
      </p>
      {replay?.message && status !== 'running' ? <p className="help">{replay.message}</p> : null}
      {error ? (
        <p className="result result-failed" role="alert">
          {error}
        </p>
      ) : null}
      {withCancel && status === 'running' ? (
        <UnavailableButton type="button" className="button-secondary small" onClick={() => void cancel()} unavailable={cancelling}>
          Cancel replay
        </UnavailableButton>
      ) : null}
    </div>
  );
}
