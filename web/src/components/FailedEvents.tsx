import { useEffect, useState } from 'react';
import { errorText, type Destination, type DestinationsApi, type FailedEvent } from '../api.js';
import { Modal } from './Modal.js';
import { UnavailableButton } from './UnavailableButton.js';
import { plural, queuePlural, relativeTime } from '../format.js';

interface Props {
  api: DestinationsApi;
  destination: Destination;
  onClose: () => void;
  onChanged: () => void;
}

/**
 * Dead-lettered events of one destination, and Replay to put them back in the queue. Called
 * "dead-lettered", never just "failed": the card's chart counts failed tries, which are retried.
 */
export function FailedEvents({ api, destination, onClose, onChanged }: Props) {
  const [events, setEvents] = useState<FailedEvent[] | null>(null);
  const [total, setTotal] = useState(0);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async () => {
    try {
      const res = await api.failedEvents(destination.destination_id);
      setEvents(res.events);
      setTotal(res.total);
    } catch (e) {
      setMessage({ kind: 'error', text: errorText(e) });
    }
  };
  useEffect(() => {
    void load();
  }, []);

  const replay = async () => {
    setBusy(true);
    setMessage(null);
    try {
      const res = await api.replay(destination.destination_id);
      setMessage({ kind: 'ok', text: `${plural(res.replayed, 'event')} put back in the queue for delivery.` });
      await load();
      onChanged();
    } catch (e) {
      setMessage({ kind: 'error', text: errorText(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      title="Dead-lettered events"
      onClose={onClose}
      size="wide"
      subtitle={
        <span>
          {destination.name !== null ? <strong>{destination.name} </strong> : null}
          <span className="url">{destination.url}</span>
        </span>
      }
    >
      <p className="muted">
        Events that ran out of retries are kept here (dead-lettered). Failed tries that are still being retried are not: they only show in the card’s chart.
        Replay puts these back in the queue; they are delivered with their original event ids, so your SIEM can de-duplicate.
      </p>
      <div aria-live="polite" className="live-region">
        {message ? (
          <div className={`result ${message.kind === 'ok' ? 'result-ok' : 'result-failed'}`} data-testid="replay-result">
            {message.text}
          </div>
        ) : null}
      </div>
      {events === null ? (
        <p className="busy">Loading…</p>
      ) : events.length === 0 ? (
        <p className="empty-small">No dead-lettered events: nothing has run out of retries.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">{queuePlural(total, 'dead-lettered event')}</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">Dead-lettered</th>
              </tr>
            </thead>
            <tbody>
              {events.map((ev) => (
                <tr key={ev.job_id}>
                  <td className="mono">{ev.event_id}</td>
                  <td>{ev.attempts}</td>
                  <td>{ev.last_error ?? '—'}</td>
                  <td>{relativeTime(ev.failed_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="actions">
        <button type="button" className="button-secondary" onClick={onClose}>
          Close
        </button>
        <UnavailableButton type="button" className="button-primary" onClick={() => void replay()} unavailable={busy || !events || events.length === 0}>
          Replay {total > 0 ? queuePlural(total, 'event') : 'events'}
        </UnavailableButton>
      </div>
    </Modal>
  );
}
