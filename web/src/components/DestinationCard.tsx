import { isSiemId, SIEM_PRESETS } from '../../../src/siem/catalog.js';
import { isOutputFormat, OUTPUT_FORMAT_INFO } from '../../../src/siem/outputFormat.js';
import type { Destination, DestinationsApi, HourStat } from '../api.js';
import { StatusPill } from './StatusPill.js';
import { ReplayProgress } from './ReplayProgress.js';
import { DeliveryChart } from './DeliveryChart.js';
import { UnavailableButton } from './UnavailableButton.js';
import { behind, dateTime, queueCount, queuePlural, relativeTime } from '../format.js';
import type { LogFilters } from '../deliveryLog.js';

interface Props {
  api: DestinationsApi;
  destination: Destination;
  /** The chart's figures, fetched by the page for all cards at once (null while loading). */
  hours: HourStat[] | null;
  editHref: string;
  onEdit: (e: React.MouseEvent<HTMLAnchorElement>) => void;
  /** The address of this destination's delivery log, filtered. */
  logHref: (f?: Partial<LogFilters>) => string;
  onOpenLog: (e: React.MouseEvent<HTMLAnchorElement>, href: string) => void;
  /** Resume & replay (a destination the hold limit paused). */
  onResume: () => void;
  onToggle: () => void;
  onFailedEvents: () => void;
  onDelete: () => void;
  onReplayRange: () => void;
  /** A background replay followed on the card: started from this page, or found running when the page loaded. */
  replayId: string | null;
  onReplayFinished: () => void;
  busy: boolean;
}

/** A URL's host (with its port), or null for one that does not parse. */
function hostOf(url: string): string | null {
  try {
    return new URL(url).host || null;
  } catch {
    return null;
  }
}

export function DestinationCard({
  api,
  destination: d,
  hours,
  editHref,
  onEdit,
  logHref,
  onOpenLog,
  onResume,
  onToggle,
  onFailedEvents,
  onDelete,
  onReplayRange,
  replayId,
  onReplayFinished,
  busy,
}: Props) {
  const siemLabel = isSiemId(d.siem) ? SIEM_PRESETS[d.siem].label : d.siem;
  // The user's name when there is one (two Splunk destinations are then told apart), else the SIEM and
  // the URL's host: two unnamed destinations of one SIEM otherwise gave every button of both cards the
  // same accessible name ("Edit destination New Relic"). Sighted users read the URL under the heading.
  const host = hostOf(d.url);
  const label = d.name ?? (host ? `${siemLabel} at ${host}` : siemLabel);
  const headingId = `card-${d.destination_id}`;
  // The last error is news only while nothing got through after it: a delivery, or a test event (the
  // user fixed the destination and proved it; the error is kept for the jobs still queued, not shown).
  const notBeforeError = (at: string | null) => at !== null && (d.last_error_at ?? '') <= at;
  const errorIsNewest = d.last_error !== null && !notBeforeError(d.last_delivery_at) && !notBeforeError(d.last_test_delivered_at);
  const held = d.paused_reason === 'hold_limit';
  // The failing hint's log link: the failures of the current streak, from its first one.
  const failuresHref = logHref({ outcome: 'failed', ...(d.failing_since ? { since: d.failing_since } : {}) });
  const allLogHref = logHref();
  return (
    <article className={`card card-${d.status}`} aria-labelledby={headingId} data-destination-id={d.destination_id}>
      <header className="card-head">
        <div className="card-title">
          <h3 id={headingId}>
            {d.name ?? siemLabel}
            {d.name === null && host ? <span className="visually-hidden"> at {host}</span> : null}
          </h3>
          {d.name !== null ? <p className="card-siem muted">{siemLabel}</p> : null}
          <p className="card-format muted small" data-testid="card-format">
            Format: {isOutputFormat(d.format) ? OUTPUT_FORMAT_INFO[d.format].label : d.format}
          </p>
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
            · {queuePlural(d.pending_events, 'event')} queued{behind(d.oldest_pending_at) ? `, oldest ${behind(d.oldest_pending_at)}` : ''}
          </span>
        ) : null}
      </p>
      {held ? (
        <p className="card-held" data-testid="card-held">
          Paused: failing since {d.failing_since ? dateTime(d.failing_since) : 'a while'}
        </p>
      ) : null}
      {!held && d.status === 'failing' && d.failing_since && d.hold_limit_at ? (
        <p className="card-paused muted small">
          Failing since {dateTime(d.failing_since)}; unless a request gets through, the hold limit pauses it on {dateTime(d.hold_limit_at)} and dead-letters its
          queued events.
        </p>
      ) : null}
      {d.paused_reason === 'circuit_breaker' && d.paused_until ? (
        <p className="card-paused muted small">
          Deliveries paused until {new Date(d.paused_until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}; queued events wait, nothing is
          lost.
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
          <div className="hint-links">
            <a href={editHref} onClick={onEdit} className="hint-link">
              Edit destination<span className="visually-hidden"> {label}</span>
            </a>
            <a href={failuresHref} onClick={(e) => onOpenLog(e, failuresHref)} className="hint-link">
              {d.failing_since ? `See failures since ${dateTime(d.failing_since)}` : 'See failed requests'}
              <span className="visually-hidden"> of {label}</span>
            </a>
          </div>
          {held ? (
            <UnavailableButton type="button" className="button-primary small" onClick={onResume} unavailable={busy}>
              Resume &amp; replay{d.failed_events > 0 ? ` ${queuePlural(d.failed_events, 'event')}` : ''}
              <span className="visually-hidden"> of {label}</span>
            </UnavailableButton>
          ) : null}
        </div>
      ) : null}
      <DeliveryChart hours={hours} />
      {replayId ? <ReplayProgress api={api} destinationId={d.destination_id} replayId={replayId} withCancel onFinished={onReplayFinished} /> : null}
      <div className="card-actions">
        <a href={editHref} onClick={onEdit} className="button-secondary small">
          Edit<span className="visually-hidden"> destination {label}</span>
        </a>
        <a href={allLogHref} onClick={(e) => onOpenLog(e, allLogHref)} className="button-ghost small">
          Delivery log<span className="visually-hidden"> of {label}</span>
        </a>
        <UnavailableButton type="button" className="button-secondary small" onClick={onToggle} unavailable={busy}>
          {d.enabled ? 'Disable' : 'Enable'}
          <span className="visually-hidden"> {label}</span>
        </UnavailableButton>
        {d.failed_events > 0 ? (
          <button type="button" className="button-secondary small" onClick={onFailedEvents}>
            Dead-lettered events ({queueCount(d.failed_events)})<span className="visually-hidden"> of {label}</span>
          </button>
        ) : (
          <button type="button" className="button-ghost small" onClick={onFailedEvents}>
            Dead-lettered events<span className="visually-hidden"> of {label}</span>
          </button>
        )}
        <button type="button" className="button-ghost small" onClick={onReplayRange}>
          Replay a time range<span className="visually-hidden"> to {label}</span>
        </button>
        <span className="spacer" />
        <button type="button" className="button-danger-ghost small" onClick={onDelete}>
          Delete<span className="visually-hidden"> {label}</span>
        </button>
      </div>
    </article>
  );
}
