import { NotificationSettings } from '../components/NotificationSettings.js';
import { SettingsHeader } from '../components/SettingsHeader.js';
import { NOTIFICATIONS } from '../router.js';

export function NotificationsPage({ orgId, navigate }: { orgId: string; navigate: (p: string) => void }) {
  return (
    <div className="page">
      <SettingsHeader current={NOTIFICATIONS} navigate={navigate} />
      <section aria-labelledby="notifications-title" className="section">
        <h2 id="notifications-title">Notifications</h2>
        <NotificationSettings orgId={orgId} />
      </section>
    </div>
  );
}
