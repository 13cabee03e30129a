import { isSiemId, SIEM_PRESETS } from '../../../src/siem/catalog.js';
import type { Destination, HourStat } from '../api.js';
import { StatusPill } from './StatusPill.js';
import { DeliveryChart } from './DeliveryChart.js';
import { behind, plural, relativeTime } from '../format.js';

interface Props {
  destination: Destination;
  /** The chart's figures, fetched by the page for all cards at once (null while loading). */
  hours: HourStat[] | null;
  editHref: string;
  onEdit: (e: React.MouseEvent<HTMLAnchorElement>) => void;
  onToggle: () => void;
  onFailedEvents: () => void;
  onDelete: () => void;
  busy: boolean;
}

export function DestinationCard({ destination: d, hours, editHref, onEdit, onToggle, onFailedEvents, onDelete, busy }: Props) {
  const siemLabel = isSiemId(d.siem) ? SIEM_PRESETS[d.siem].label : d.siem;
  // The user's name when there is one (two Splunk destinations are then told apart), else the SIEM.
  const label = d.name ?? siemLabel;
  const headingId = `card-${d.destination_id}`;
  const errorIsNewest = d.last_error !== null && (!d.last_delivery_at || (d.last_error_at ?? '') > d.last_delivery_at);
  return (
    <article className={`card card-${d.status}`} aria-labelledby={headingId} data-destination-id={d.destination_id}>
      <header className="card-head">
        <div className="card-title">
          <h3 id={headingId}>{label}</h3>
          {d.name !== null ? <p className="card-siem muted">{siemLabel}</p> : null}
        </div>
        <StatusPill status={d.status} />
      </header>
      <p className="url" title={d.url}>
        {d.url}
      </p>
      <p className="card-last">
        {d.status === 'failing' || errorIsNewest ? (
          <>Last error {relativeTime(d.last_error_at)}</>
        ) : d.last_delivery_at ? (
          <>Last delivery {relativeTime(d.last_delivery_at)}</>
        ) : d.last_test_delivered_at ? (
          // A test proves the destination works but is not a live delivery (the pill stays Idle).
          <>Test delivered {relativeTime(d.last_test_delivered_at)}; no live events yet</>
        ) : (
          <>No deliveries yet</>
        )}
        {d.pending_events > 0 ? (
          <span className="muted">
            {' '}
            · {plural(d.pending_events, 'event')} queued{behind(d.oldest_pending_at) ? `, oldest ${behind(d.oldest_pending_at)}` : ''}
          </span>
        ) : null}
      </p>
      {d.paused_until ? (
        <p className="card-paused muted small">
          Deliveries paused until {new Date(d.paused_until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}; queued events
          wait, nothing is lost.
        </p>
      ) : null}
      {d.status !== 'failing' && errorIsNewest ? (
        <p className="card-error" title={d.last_error ?? undefined}>
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
            Dead-lettered events ({d.failed_events})
          </button>
        ) : (
          <button type="button" className="button-ghost small" onClick={onFailedEvents}>
            Dead-lettered events<span className="visually-hidden"> of {label}</span>
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
