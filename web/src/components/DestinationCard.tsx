import { useEffect, useState } from 'react';
import { isSiemId, SIEM_PRESETS } from '../../../src/siem/catalog.js';
import type { Destination, DestinationsApi, HourStat } from '../api.js';
import { StatusPill } from './StatusPill.js';
import { DeliveryChart } from './DeliveryChart.js';
import { plural, relativeTime } from '../format.js';

interface Props {
  api: DestinationsApi;
  destination: Destination;
  editHref: string;
  /** Bumped by the page on every refresh, so the chart refreshes with the card. */
  refreshKey: number;
  onEdit: (e: React.MouseEvent<HTMLAnchorElement>) => void;
  onToggle: () => void;
  onFailedEvents: () => void;
  onDelete: () => void;
  busy: boolean;
}

export function DestinationCard({ api, destination: d, editHref, refreshKey, onEdit, onToggle, onFailedEvents, onDelete, busy }: Props) {
  const [hours, setHours] = useState<HourStat[] | null>(null);
  useEffect(() => {
    let live = true;
    api
      .stats(d.destination_id)
      .then((s) => live && setHours(s.hours))
      .catch(() => live && setHours([]));
    return () => {
      live = false;
    };
  }, [api, d.destination_id, refreshKey]);

  const label = isSiemId(d.siem) ? SIEM_PRESETS[d.siem].label : d.siem;
  const headingId = `card-${d.destination_id}`;
  return (
    <article className={`card card-${d.status}`} aria-labelledby={headingId} data-destination-id={d.destination_id}>
      <header className="card-head">
        <h3 id={headingId}>{label}</h3>
        <StatusPill status={d.status} />
      </header>
      <p className="url" title={d.url}>
        {d.url}
      </p>
      <p className="card-last">
        {d.status === 'failing' || (d.last_error && (!d.last_delivery_at || (d.last_error_at ?? '') > d.last_delivery_at)) ? (
          <>Last error {relativeTime(d.last_error_at)}</>
        ) : d.last_delivery_at ? (
          <>Last delivery {relativeTime(d.last_delivery_at)}</>
        ) : (
          <>No deliveries yet</>
        )}
        {d.pending_events > 0 ? <span className="muted"> · {plural(d.pending_events, 'event')} queued</span> : null}
      </p>
      {d.paused_until ? (
        <p className="card-paused muted small">
          Deliveries paused until {new Date(d.paused_until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}; queued events
          wait, nothing is lost.
        </p>
      ) : null}
      {d.status !== 'failing' && d.last_error && (!d.last_delivery_at || (d.last_error_at ?? '') > d.last_delivery_at) ? (
        <p className="card-error" title={d.last_error}>
          {d.last_error}
        </p>
      ) : null}
      {d.status === 'failing' && d.last_error ? (
        <div className="card-hint" role="note">
          <p>{d.last_error}</p>
          <a href={editHref} onClick={onEdit} className="hint-link">
            Edit destination<span className="visually-hidden"> {label}</span>
          </a>
        </div>
      ) : null}
      <DeliveryChart hours={hours} />
      <div className="card-actions">
        <a href={editHref} onClick={onEdit} className="button-secondary small">
          Edit<span className="visually-hidden"> destination {label}</span>
        </a>
        <button type="button" className="button-secondary small" onClick={onToggle} disabled={busy}>
          {d.enabled ? 'Disable' : 'Enable'}
          <span className="visually-hidden"> {label}</span>
        </button>
        {d.failed_events > 0 ? (
          <button type="button" className="button-secondary small" onClick={onFailedEvents}>
            Failed events ({d.failed_events})
          </button>
        ) : (
          <button type="button" className="button-ghost small" onClick={onFailedEvents}>
            Failed events<span className="visually-hidden"> of {label}</span>
          </button>
        )}
        <span className="spacer" />
        <button type="button" className="button-danger-ghost small" onClick={onDelete}>
          Delete<span className="visually-hidden"> {label}</span>
        </button>
      </div>
    </article>
  );
}
