import { Activity } from '../components/Activity.js';
import { SettingsHeader } from '../components/SettingsHeader.js';
import { ACTIVITY } from '../router.js';

export function ActivityPage({ orgId, navigate }: { orgId: string; navigate: (p: string) => void }) {
  return (
    <div className="page">
      <SettingsHeader current={ACTIVITY} navigate={navigate} />
      <section aria-labelledby="activity-title" className="section">
        <h2 id="activity-title">Activity</h2>
        <p className="muted">
          Every change to forwarding configuration, newest first. Each one is also sent to your SIEM destinations as an audit event
          {' ('}
          <code>event.dataset: aegis.audit_stream</code>). Field names only, never values.
        </p>
        <Activity orgId={orgId} />
      </section>
    </div>
  );
}
