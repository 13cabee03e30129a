import { Activity } from '../components/Activity.js';
import { PageHeading, SettingsHeader } from '../components/SettingsHeader.js';
import { ACTIVITY } from '../router.js';

export function ActivityPage({ orgId, navigate }: { orgId: string; navigate: (p: string) => void }) {
  return (
    <div className="page">
      <SettingsHeader current={ACTIVITY} navigate={navigate} />
      <section aria-labelledby="activity-title" className="section">
        <PageHeading id="activity-title">Activity</PageHeading>
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
