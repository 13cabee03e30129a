import { useEffect, useState } from 'react';
import { errorText, type Destination, type DestinationsApi } from '../api.js';
import { Modal } from './Modal.js';
import { UnavailableButton } from './UnavailableButton.js';
import { queuePlural } from '../format.js';

interface Props {
  api: DestinationsApi;
  destination: Destination;
  onClose: () => void;
  onDeleted: (cleared: number) => void;
}

/** Delete, after saying how many queued events go with it (read fresh, not from the card). */
export function DeleteDestination({ api, destination, onClose, onDeleted }: Props) {
  const [pending, setPending] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .get(destination.destination_id)
      .then((d) => setPending(d.pending_events))
      .catch((e: unknown) => setError(errorText(e)));
  }, [api, destination.destination_id]);

  const confirm = async () => {
    setBusy(true);
    try {
      const res = await api.remove(destination.destination_id);
      onDeleted(res.cleared_events);
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  };

  return (
    <Modal title="Delete destination?" onClose={onClose}>
      <p data-testid="delete-what">
        {/* Named as its card names it: the user's name when there is one (then the URL), else the URL. */}
        {destination.name ? (
          <>
            <strong>{destination.name}</strong> (<span className="url">{destination.url}</span>)
          </>
        ) : (
          <span className="url">{destination.url}</span>
        )}{' '}
        will stop receiving audit events and its settings and credential are deleted.
      </p>
      <p data-testid="delete-count">
        {pending === null
          ? 'Counting queued events…'
          : pending === 0
            ? 'No queued events will be cleared.'
            : `This clears ${queuePlural(pending, 'queued event')} that have not been delivered yet.`}
      </p>
      {error ? (
        <div className="result result-failed" role="alert">
          {error}
        </div>
      ) : null}
      <div className="actions">
        <button type="button" className="button-secondary" onClick={onClose} data-autofocus>
          Cancel
        </button>
        <UnavailableButton type="button" className="button-danger" onClick={() => void confirm()} unavailable={busy || pending === null}>
          Delete destination
        </UnavailableButton>
      </div>
    </Modal>
  );
}
