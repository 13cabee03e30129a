import { useEffect, useMemo, useState } from 'react';
import { ApiError, errorText, notificationsApi, type NotificationSettings as Settings } from '../api.js';
import { UnavailableButton } from './UnavailableButton.js';

/** The addresses as typed: one per line (commas and semicolons also part them), each with its line. */
function addressesOf(text: string): { address: string; line: number }[] {
  return text.split('\n').flatMap((l, i) =>
    l
      .split(/[,;]+/)
      .map((a) => a.trim())
      .filter((a) => a !== '')
      .map((address) => ({ address, line: i + 1 })),
  );
}

/** A refusal's problems with a field, in the user's terms; null when it names none of that field. */
function fieldError(e: unknown, field: 'emails' | 'webhook_url', lineOf: (index: number) => number | undefined): string | null {
  if (!(e instanceof ApiError)) return null;
  const texts = e.details.flatMap((d) => {
    if (d.path !== `/${field}` && !d.path.startsWith(`/${field}/`)) return [];
    // The API counts list items from zero ("/emails/1"); the user sees lines, counted from one.
    const index = /^\/emails\/(\d+)$/.exec(d.path)?.[1];
    const line = index === undefined ? undefined : lineOf(Number(index));
    return [line === undefined ? d.message : `Line ${line}: ${d.message}`];
  });
  return texts.length > 0 ? texts.join('; ') : null;
}

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
  // A refusal of a field is said under it, and marks it invalid, rather than in the form's alert.
  const [emailsError, setEmailsError] = useState<string | null>(null);
  const [webhookError, setWebhookError] = useState<string | null>(null);
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
    setEmailsError(null);
    setWebhookError(null);
    setSaved(null);
    const entries = addressesOf(emails);
    try {
      const list = entries.map((e) => e.address);
      const s = await api.put({ emails: list, webhook_url: webhook.trim() === '' ? null : webhook.trim(), ...(rotate ? { rotate_webhook_secret: true } : {}) });
      apply(s);
      setSecret(s.webhook_signing_secret ?? null);
      setSaved('Notification settings saved.');
    } catch (e) {
      const forEmails = fieldError(e, 'emails', (i) => entries[i]?.line);
      const forWebhook = fieldError(e, 'webhook_url', () => undefined);
      setEmailsError(forEmails);
      setWebhookError(forWebhook);
      const others = e instanceof ApiError ? e.details.filter((d) => !/^\/(emails|webhook_url)(\/|$)/.test(d.path)) : [];
      if ((!forEmails && !forWebhook) || others.length > 0) setError(errorText(e));
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
        <textarea
          id="alert-emails"
          rows={4}
          value={emails}
          onChange={(e) => setEmails(e.target.value)}
          aria-describedby={emailsError ? 'alert-emails-help alert-emails-error' : 'alert-emails-help'}
          aria-invalid={emailsError !== null || undefined}
        />
        <p id="alert-emails-help" className="muted small">
          One per line, at most 10.
          {loaded && !loaded.email_available ? ' This service has no mail server set up (its operator sets one), so no e-mail is sent yet.' : ''}
        </p>
        {emailsError ? (
          <p id="alert-emails-error" className="hint hint-error" role="alert">
            {emailsError}
          </p>
        ) : null}
      </div>
      <div className="field">
        <label htmlFor="alert-webhook">Operational webhook URL</label>
        <input
          id="alert-webhook"
          type="url"
          value={webhook}
          onChange={(e) => setWebhook(e.target.value)}
          placeholder="https://ops.example.com/aegis-alerts"
          aria-describedby={webhookError ? 'alert-webhook-help alert-webhook-error' : 'alert-webhook-help'}
          aria-invalid={webhookError !== null || undefined}
        />
        <p id="alert-webhook-help" className="muted small">
          Optional. Receives each alert as JSON signed with Standard Webhooks
          {loaded?.webhook_signing_secret_configured ? ' (signing secret configured, encrypted).' : '.'}
        </p>
        {webhookError ? (
          <p id="alert-webhook-error" className="hint hint-error" role="alert">
            {webhookError}
          </p>
        ) : null}
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
        <UnavailableButton type="submit" className="button-primary" unavailable={busy}>
          Save notification settings
        </UnavailableButton>
        {loaded?.webhook_signing_secret_configured && webhook.trim() !== '' ? (
          <UnavailableButton type="button" className="button-secondary" unavailable={busy} onClick={() => void save(true)}>
            Rotate signing secret
          </UnavailableButton>
        ) : null}
      </div>
    </form>
  );
}
