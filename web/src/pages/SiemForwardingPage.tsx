import { useMemo, useState } from 'react';
import { destinationsApi, errorText, type Destination, type Session } from '../api.js';
import { DestinationCard } from '../components/DestinationCard.js';
import { AddDestination } from '../components/AddDestination.js';
import { EditDestination } from '../components/EditDestination.js';
import { FailedEvents } from '../components/FailedEvents.js';
import { DeleteDestination } from '../components/DeleteDestination.js';
import { ReplayRange } from '../components/ReplayRange.js';
import { DeliveryLog } from '../components/DeliveryLog.js';
import { PageHeading, SettingsHeader } from '../components/SettingsHeader.js';
import { filtersFromSearch, LOG_PATH, logHref } from '../deliveryLog.js';
import { plural } from '../format.js';
import { editedId, editPath, PAGE } from '../router.js';
import { useDestinations } from '../useDestinations.js';

type Dialog = { kind: 'add' } | { kind: 'failed'; id: string } | { kind: 'delete'; id: string } | { kind: 'replay'; id: string } | null;

export function SiemForwardingPage({
  session,
  path,
  navigate,
  onSignedOut,
}: {
  session: Session;
  path: string;
  navigate: (p: string) => void;
  onSignedOut: () => void;
}) {
  const api = useMemo(() => destinationsApi(session.org_id), [session.org_id]);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  const { destinations, stats, loadError, replays, followReplay, refresh } = useDestinations(api, onSignedOut);

  const [pathname, search = ''] = path.split('?');
  const editingId = editedId(pathname!);
  const editing = editingId && destinations ? destinations.find((d) => d.destination_id === editingId) : undefined;
  const logMatch = LOG_PATH.exec(pathname!);
  const logId = logMatch ? decodeURIComponent(logMatch[1]!) : null;
  const logDest = logId && destinations ? destinations.find((d) => d.destination_id === logId) : undefined;
  const byId = (id: string) => destinations?.find((d) => d.destination_id === id);

  const toggle = async (d: Destination) => {
    setBusyId(d.destination_id);
    try {
      await api.patch(d.destination_id, { enabled: !d.enabled });
      await refresh();
      setNotice(
        d.enabled ? 'Destination disabled: audit events stop forwarding; re-enable it at any time.' : 'Destination enabled: live events are forwarded.',
      );
    } catch (e) {
      setNotice(errorText(e));
    } finally {
      setBusyId(null);
    }
  };

  /** Resume & replay: lifts the hold limit's pause and queues the dead-lettered events again. */
  const resume = async (d: Destination) => {
    setBusyId(d.destination_id);
    try {
      const res = await api.replay(d.destination_id);
      await refresh();
      setNotice(`Destination resumed: ${plural(res.replayed, 'dead-lettered event')} queued again for delivery.`);
    } catch (e) {
      setNotice(errorText(e));
    } finally {
      setBusyId(null);
    }
  };

  const failedDest = dialog?.kind === 'failed' ? byId(dialog.id) : undefined;
  const deleteDest = dialog?.kind === 'delete' ? byId(dialog.id) : undefined;
  const replayDest = dialog?.kind === 'replay' ? byId(dialog.id) : undefined;

  return (
    <div className="page">
      <SettingsHeader current={PAGE} navigate={navigate} />

      <section aria-labelledby="siem-title" className="section">
        <div className="section-head">
          <div>
            <PageHeading id="siem-title">SIEM Forwarding</PageHeading>
            <p className="muted">
              Every audit event is forwarded to each enabled destination, at least once, with retries. Credentials are stored encrypted and never shown again.
            </p>
          </div>
          <button type="button" className="button-primary" onClick={() => setDialog({ kind: 'add' })}>
            Add destination
          </button>
        </div>

        <div aria-live="polite" className="live-region">
          {notice ? (
            <div className="notice" data-testid="notice">
              <span>{notice}</span>
              <button type="button" className="icon-button" onClick={() => setNotice(null)} aria-label="Dismiss">
                <span aria-hidden="true">×</span>
              </button>
            </div>
          ) : null}
        </div>
        {loadError ? (
          <div className="result result-failed" role="alert">
            {loadError}
          </div>
        ) : null}

        {destinations === null ? (
          <p className="busy">Loading destinations…</p>
        ) : destinations.length === 0 ? (
          <div className="empty">
            <h3>No destinations yet</h3>
            <p>Add Splunk HEC, Datadog Logs, Sumo Logic, Elastic, New Relic or any HTTPS webhook. Nothing streams until you say so.</p>
          </div>
        ) : (
          <>
            <p className="visually-hidden">{plural(destinations.length, 'destination')}</p>
            <div className="cards">
              {destinations.map((d) => (
                <DestinationCard
                  key={d.destination_id}
                  api={api}
                  destination={d}
                  hours={stats ? (stats.get(d.destination_id)?.hours ?? []) : null}
                  editHref={editPath(d.destination_id)}
                  onEdit={(e) => {
                    e.preventDefault();
                    navigate(editPath(d.destination_id));
                  }}
                  logHref={(f) => logHref(d.destination_id, f)}
                  onOpenLog={(e, href) => {
                    e.preventDefault();
                    navigate(href);
                  }}
                  onResume={() => void resume(d)}
                  onToggle={() => void toggle(d)}
                  onFailedEvents={() => setDialog({ kind: 'failed', id: d.destination_id })}
                  onDelete={() => setDialog({ kind: 'delete', id: d.destination_id })}
                  onReplayRange={() => setDialog({ kind: 'replay', id: d.destination_id })}
                  replayId={replays[d.destination_id] ?? null}
                  onReplayFinished={() => void refresh()}
                  busy={busyId === d.destination_id}
                />
              ))}
            </div>
          </>
        )}
        {(editingId && destinations && !editing) || (logId && destinations && !logDest) ? (
          <div className="result result-failed" role="alert">
            That destination no longer exists.
          </div>
        ) : null}
      </section>

      {dialog?.kind === 'add' ? (
        <AddDestination
          api={api}
          onClose={() => setDialog(null)}
          onChanged={() => void refresh()}
          onHistorySent={(destinationId, res) => {
            if (res.replay_id) followReplay(destinationId, res.replay_id);
            else setNotice(`History sent: ${plural(res.replayed, 'event')} queued for delivery.${res.message ? ` ${res.message}` : ''}`);
          }}
        />
      ) : null}
      {replayDest ? (
        <ReplayRange
          api={api}
          destination={replayDest}
          onClose={() => setDialog(null)}
          onStarted={(replayId) => followReplay(replayDest.destination_id, replayId)}
          onChanged={() => void refresh()}
        />
      ) : null}
      {editing ? (
        <EditDestination key={editing.destination_id} api={api} destination={editing} onClose={() => navigate(PAGE)} onChanged={() => void refresh()} />
      ) : null}
      {logDest ? (
        <DeliveryLog
          key={`${logDest.destination_id}?${search}`}
          api={api}
          destination={logDest}
          initial={filtersFromSearch(search)}
          onClose={() => navigate(PAGE)}
        />
      ) : null}
      {failedDest ? <FailedEvents api={api} destination={failedDest} onClose={() => setDialog(null)} onChanged={() => void refresh()} /> : null}
      {deleteDest ? (
        <DeleteDestination
          api={api}
          destination={deleteDest}
          onClose={() => setDialog(null)}
          onDeleted={(cleared) => {
            setDialog(null);
            // Its card (and the Delete button that opened the dialog) is gone: land on the page itself.
            void refresh().then(() => {
              setNotice(`Destination deleted; ${plural(cleared, 'queued event')} cleared.`);
              document.getElementById('main')?.focus();
            });
          }}
        />
      ) : null}
    </div>
  );
}
