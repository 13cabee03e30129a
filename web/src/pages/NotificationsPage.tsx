import { NotificationSettings } from '../components/NotificationSettings.js';
import { PageHeading, SettingsHeader } from '../components/SettingsHeader.js';
import { NOTIFICATIONS } from '../router.js';

export function NotificationsPage({ orgId, navigate }: { orgId: string; navigate: (p: string) => void }) {
  return (
    <div className="page">
      <SettingsHeader current={NOTIFICATIONS} navigate={navigate} />
      <section aria-labelledby="notifications-title" className="section">
        <PageHeading id="notifications-title">Notifications</PageHeading>
        <NotificationSettings orgId={orgId} />
      </section>
    </div>
  );
}
