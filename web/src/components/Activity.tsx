import { useCallback, useEffect, useMemo, useState } from 'react';
import { activityApi, errorText, type ActivityEntry } from '../api.js';
import { UnavailableButton } from './UnavailableButton.js';
import { ACTOR_LABEL } from '../../../src/trail/actors.js';

/** What each trail action reads as in the list. */
const ACTION_TEXT: Record<ActivityEntry['action'], string> = {
  destination_created: 'Created a destination',
  destination_updated: 'Updated a destination',
  destination_enabled: 'Enabled a destination',
  destination_disabled: 'Disabled a destination',
  destination_deleted: 'Deleted a destination',
  credential_rotated: 'Rotated a credential',
  credential_removed: 'Removed a credential',
  signing_secret_rotated: 'Rotated a signing secret',
  replay_requested: 'Requested a replay',
  test_sent: 'Sent a test event',
  notification_settings_changed: 'Changed notification settings',
  encryption_key_rotated: 'Re-encrypted stored secrets',
};

/**
 * Settings -> Activity: the configuration trail, who changed what and when, newest first. The same
 * events go to every enabled SIEM destination; field names only, never values.
 */
export function Activity({ orgId }: { orgId: string }) {
  const api = useMemo(() => activityApi(orgId), [orgId]);
  const [entries, setEntries] = useState<ActivityEntry[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    async (from: string | null) => {
      setBusy(true);
      try {
        const page = await api.page(from);
        setEntries((prev) => (from && prev ? [...prev, ...page.activity] : page.activity));
        setCursor(page.next_cursor);
        setError(null);
      } catch (e) {
        setError(errorText(e));
      } finally {
        setBusy(false);
      }
    },
    [api],
  );
  useEffect(() => void load(null), [load]);

  if (error)
    return (
      <div className="result result-failed" role="alert">
        {error}
      </div>
    );
  if (!entries) return <p className="busy">Loading…</p>;
  if (entries.length === 0) return <p className="muted">No configuration changes yet. Creating, editing, testing or deleting a destination shows up here.</p>;
  return (
    <>
      <table className="activity">
        <caption className="visually-hidden">Configuration changes, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Destination</th>
            <th scope="col">Fields changed</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.event_id} data-action={e.action}>
              <td>
                <time dateTime={e.occurred_at} title={e.occurred_at}>
                  {new Date(e.occurred_at).toLocaleString()}
                </time>
              </td>
              <td>
                {ACTOR_LABEL[e.actor_type]} <code>{e.actor_id}</code>
              </td>
              <td>
                {ACTION_TEXT[e.action]}
                {e.outcome === 'failure' ? <span className="muted"> (did not get through)</span> : null}
              </td>
              <td>
                {e.destination_id ? (
                  <span title={e.destination_id}>{e.destination_name ?? e.destination_id}</span>
                ) : (
                  <span className="muted">{e.action === 'encryption_key_rotated' ? 'Stored secrets' : 'Notifications'}</span>
                )}
              </td>
              <td>
                {e.changed_fields.length > 0 ? (
                  e.changed_fields.map((f) => (
                    <code key={f} className="field-name">
                      {f}
                    </code>
                  ))
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {cursor ? (
        <UnavailableButton type="button" className="button-ghost small" unavailable={busy} onClick={() => void load(cursor)}>
          {busy ? 'Loading…' : 'Show older changes'}
        </UnavailableButton>
      ) : null}
    </>
  );
}
