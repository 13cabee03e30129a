import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { errorText, type Attempt, type Destination, type DestinationsApi } from '../api.js';
import { Modal } from './Modal.js';
import { UnavailableButton } from './UnavailableButton.js';
import { plural, relativeTime } from '../format.js';
import { fromLocalInput, NO_FILTERS, toLocalInput, type LogFilters } from '../deliveryLog.js';

interface Props {
  api: DestinationsApi;
  destination: Destination;
  /** Filters to open with (from the address: the failing hint links to the current failing streak). */
  initial: LogFilters;
  onClose: () => void;
}

const PAGE_SIZE = 50;

/** What one request did, in words (the API's outcome filter: failed = an error was recorded). */
function outcomeOf(a: Attempt): { label: string; kind: 'ok' | 'failed' | 'partial' } {
  const test = a.event_count === 0;
  if (a.error === null) return { label: test ? 'Test delivered' : 'Delivered', kind: 'ok' };
  if (a.delivered_count > 0) return { label: 'Partly delivered', kind: 'partial' };
  return { label: test ? 'Test failed' : 'Failed', kind: 'failed' };
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/**
 * A destination's delivery log: every request sent to its SIEM (deliveries and test events), newest
 * first, as a timeline, with filters by outcome and time range and "Load older requests" through the
 * API's cursor. Snippets and errors were scrubbed of credentials before they were stored.
 */
export function DeliveryLog({ api, destination, initial, onClose }: Props) {
  const [filters, setFilters] = useState<LogFilters>(initial);
  // The time inputs' text (browser time zone); applied with the form's Apply button.
  const [sinceText, setSinceText] = useState(toLocalInput(initial.since));
  const [untilText, setUntilText] = useState(toLocalInput(initial.until));
  const [outcomeText, setOutcomeText] = useState(initial.outcome);
  const [attempts, setAttempts] = useState<Attempt[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const generation = useRef(0);
  const ids = { outcome: useId(), since: useId(), until: useId() };

  const query = useCallback(
    (f: LogFilters, cursorArg?: string) =>
      api.attempts(destination.destination_id, {
        limit: PAGE_SIZE,
        ...(f.outcome ? { outcome: f.outcome } : {}),
        ...(f.since ? { since: f.since } : {}),
        ...(f.until ? { until: f.until } : {}),
        ...(cursorArg ? { cursor: cursorArg } : {}),
      }),
    [api, destination.destination_id],
  );

  useEffect(() => {
    // A newer filter wins over an older answer still on its way.
    const gen = ++generation.current;
    setAttempts(null);
    setError(null);
    query(filters)
      .then((page) => {
        if (gen !== generation.current) return;
        setAttempts(page.attempts);
        setCursor(page.next_cursor);
      })
      .catch((e: unknown) => {
        if (gen === generation.current) setError(errorText(e));
      });
  }, [filters, query]);

  const loadMore = async () => {
    if (!cursor) return;
    const gen = generation.current;
    setLoadingMore(true);
    try {
      const page = await query(filters, cursor);
      if (gen !== generation.current) return;
      setAttempts((prev) => [...(prev ?? []), ...page.attempts]);
      setCursor(page.next_cursor);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoadingMore(false);
    }
  };

  const apply = (e: React.FormEvent) => {
    e.preventDefault();
    setFilters({ outcome: outcomeText, since: fromLocalInput(sinceText), until: fromLocalInput(untilText) });
  };
  const clear = () => {
    setOutcomeText('');
    setSinceText('');
    setUntilText('');
    setFilters(NO_FILTERS);
  };

  const filtered = filters.outcome !== '' || filters.since !== '' || filters.until !== '';
  const summary = [
    filters.outcome === 'failed' ? 'failed requests' : filters.outcome === 'delivered' ? 'requests that got through' : 'all requests',
    filters.since ? `since ${new Date(filters.since).toLocaleString()}` : null,
    filters.until ? `before ${new Date(filters.until).toLocaleString()}` : null,
  ]
    .filter(Boolean)
    .join(' ');

  return (
    <Modal
      title="Delivery log"
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
        Every request sent to this destination, newest first: live deliveries and test events, with the SIEM’s status, how many events got through, how long it
        took and what it answered. Failed requests are retried on the schedule.
      </p>
      <form className="log-filters" onSubmit={apply} aria-label="Filter the delivery log">
        <div className="field">
          <label htmlFor={ids.outcome}>Outcome</label>
          <select id={ids.outcome} value={outcomeText} onChange={(e) => setOutcomeText(e.target.value as LogFilters['outcome'])}>
            <option value="">All requests</option>
            <option value="failed">Failed</option>
            <option value="delivered">Delivered</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.since}>From</label>
          <input id={ids.since} type="datetime-local" step={1} value={sinceText} onChange={(e) => setSinceText(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.until}>Until</label>
          <input id={ids.until} type="datetime-local" step={1} value={untilText} onChange={(e) => setUntilText(e.target.value)} />
        </div>
        <div className="log-filter-actions">
          <button type="submit" className="button-secondary small">
            Apply filters
          </button>
          {filtered ? (
            <button type="button" className="button-ghost small" onClick={clear}>
              Clear filters
            </button>
          ) : null}
        </div>
      </form>
      <div aria-live="polite" className="live-region">
        {error ? (
          <div className="result result-failed" role="alert">
            {error}
          </div>
        ) : null}
        {attempts !== null ? (
          <p className="muted small" data-testid="log-summary">
            Showing {plural(attempts.length, 'request')}
            {cursor ? ' (more below)' : ''}: {summary}.
          </p>
        ) : null}
      </div>
      {attempts === null ? (
        error ? null : (
          <p className="busy">Loading…</p>
        )
      ) : attempts.length === 0 ? (
        // With a filter the API searches the log a stretch at a time: an empty page with a cursor is not the end.
        <p className="empty-small">
          {cursor
            ? 'No matching request in the part of the log searched so far: load older requests to search further.'
            : filtered
              ? 'No requests match these filters.'
              : 'No requests yet: nothing has been sent to this destination.'}
        </p>
      ) : (
        <ol className="timeline" aria-label="Requests, newest first">
          {attempts.map((a, i) => {
            const o = outcomeOf(a);
            return (
              <li key={`${a.attempted_at}-${i}`} className={`timeline-item timeline-${o.kind}`} data-outcome={o.kind}>
                <div className="timeline-head">
                  <time dateTime={a.attempted_at} title={a.attempted_at}>
                    {new Date(a.attempted_at).toLocaleString()}
                  </time>
                  <span className="muted small"> {relativeTime(a.attempted_at)}</span>
                  <span className={`log-outcome log-outcome-${o.kind}`}>{o.label}</span>
                  <span className="log-status">{a.status_code !== null ? `HTTP ${a.status_code}` : a.error ? 'No HTTP answer' : '—'}</span>
                </div>
                <p className="timeline-facts small">
                  {a.event_count === 0 ? 'Test event' : plural(a.event_count, 'event')}
                  {a.event_count > 0 ? ` · ${a.delivered_count} delivered · ${a.failed_count} failed` : ''} · {formatDuration(a.duration_ms)}
                </p>
                {a.error ? <p className="timeline-error">{a.error}</p> : null}
                {a.response_snippet ? (
                  <details className="timeline-snippet">
                    <summary>Response</summary>
                    <pre>{a.response_snippet}</pre>
                  </details>
                ) : null}
              </li>
            );
          })}
        </ol>
      )}
      <div className="actions">
        {cursor ? (
          <UnavailableButton type="button" className="button-secondary" onClick={() => void loadMore()} unavailable={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load older requests'}
          </UnavailableButton>
        ) : null}
        <span className="spacer" />
        <button type="button" className="button-secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}
