-- Alerts (docs/alerts.md): where an organization wants to hear that a destination broke, what the
-- worker last told it about each destination (so a restart never sends the same alert twice), and
-- the alerts waiting to go out (an outbox: sending happens off the delivery path, retried a bounded
-- number of times, and survives restarts).

CREATE TABLE notification_settings (
  org_id                 text PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  emails                 text[] NOT NULL DEFAULT '{}',
  webhook_url            text,
  -- Standard Webhooks secret for the operational webhook, sealed like destination credentials.
  webhook_secret_sealed  bytea,
  updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE destination_alert_state (
  org_id                  text NOT NULL,
  destination_id          text NOT NULL,
  -- The state last alerted: ok | failing | paused.
  state                   text NOT NULL DEFAULT 'ok',
  state_since             timestamptz NOT NULL DEFAULT now(),
  -- When the evaluation first saw the circuit breaker holding the destination (null: not held).
  breaker_open_since      timestamptz,
  -- When dead letters were last alerted; new ones alert again only after a delivery succeeded since.
  dead_letter_alerted_at  timestamptz,
  PRIMARY KEY (org_id, destination_id),
  FOREIGN KEY (org_id, destination_id) REFERENCES destinations (org_id, id) ON DELETE CASCADE
);
-- The worker's periodic sweep reads only the destinations it has alerted about.
CREATE INDEX destination_alert_state_open ON destination_alert_state (org_id, destination_id) WHERE state <> 'ok';

CREATE TABLE alert_outbox (
  org_id           text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  id               bigserial,
  -- No foreign key: the alert about a destination deleted meanwhile still goes out.
  destination_id   text NOT NULL,
  kind             text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  -- A snapshot taken at the change: name, SIEM, hint, counts. Never a credential.
  details          jsonb NOT NULL,
  email_pending    boolean NOT NULL,
  webhook_pending  boolean NOT NULL,
  attempts         int NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id)
);
CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at);
