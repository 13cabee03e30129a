import { useEffect, useMemo, useState } from 'react';
import { errorText, notificationsApi, type NotificationSettings as Settings } from '../api.js';

/**
 * Settings -> Notifications: who hears that a destination broke. One address per line (the API
 * validates each and names the line it refuses), and an optional operational webhook whose signing
 * secret is shown once, right after it is made.
 */
export function NotificationSettings({ orgId }: { orgId: string }) {
  const api = useMemo(() => notificationsApi(orgId), [orgId]);
  const [loaded, setLoaded] = useState<Settings | null>(null);
  const [emails, setEmails] = useState('');
  const [webhook, setWebhook] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);

  const apply = (s: Settings) => {
    setLoaded(s);
    setEmails(s.emails.join('\n'));
    setWebhook(s.webhook_url ?? '');
  };

  useEffect(() => {
    api
      .get()
      .then(apply)
      .catch((e: unknown) => setError(errorText(e)));
  }, [api]);

  const save = async (rotate = false) => {
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const list = emails
        .split(/[\n,;]+/)
        .map((e) => e.trim())
        .filter((e) => e !== '');
      const s = await api.put({ emails: list, webhook_url: webhook.trim() === '' ? null : webhook.trim(), ...(rotate ? { rotate_webhook_secret: true } : {}) });
      apply(s);
      setSecret(s.webhook_signing_secret ?? null);
      setSaved('Notification settings saved.');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  if (!loaded && !error) return <p className="busy">Loading notification settings…</p>;
  return (
    <form
      className="notification-settings"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <p className="muted">
        Alerts tell you when a destination starts failing, is paused by its circuit breaker for more than 15 minutes, dead-letters events, or recovers: one
        message per change, collected into a digest when many change at once.
      </p>
      <div className="field">
        <label htmlFor="alert-emails">E-mail addresses</label>
        <textarea id="alert-emails" rows={4} value={emails} onChange={(e) => setEmails(e.target.value)} aria-describedby="alert-emails-help" />
        <p id="alert-emails-help" className="muted small">
          One per line, at most 10.
          {loaded && !loaded.email_available ? ' This service has no mail server set up (its operator sets one), so no e-mail is sent yet.' : ''}
        </p>
      </div>
      <div className="field">
        <label htmlFor="alert-webhook">Operational webhook URL</label>
        <input
          id="alert-webhook"
          type="url"
          value={webhook}
          onChange={(e) => setWebhook(e.target.value)}
          placeholder="https://ops.example.com/aegis-alerts"
          aria-describedby="alert-webhook-help"
        />
        <p id="alert-webhook-help" className="muted small">
          Optional. Receives each alert as JSON signed with Standard Webhooks
          {loaded?.webhook_signing_secret_configured ? ' (signing secret configured, encrypted).' : '.'}
        </p>
      </div>
      {secret ? (
        <div className="result result-ok" role="status">
          <p>Signing secret (shown once; store it where your receiver verifies webhook-signature):</p>
          <code data-testid="webhook-secret">{secret}</code>
        </div>
      ) : null}
      {error ? (
        <div className="result result-failed" role="alert">
          {error}
        </div>
      ) : null}
      <div aria-live="polite" className="live-region">
        {saved ? <p className="notice">{saved}</p> : null}
      </div>
      <div className="card-actions">
        <button type="submit" className="button-primary" disabled={busy}>
          Save notification settings
        </button>
        {loaded?.webhook_signing_secret_configured && webhook.trim() !== '' ? (
          <button type="button" className="button-secondary" disabled={busy} onClick={() => void save(true)}>
            Rotate signing secret
          </button>
        ) : null}
      </div>
    </form>
  );
}
