-- Every table carries org_id and leads its primary key with it, so the schema can be distributed by
-- organization (e.g. Citus, distribution column org_id) when one server is outgrown.

CREATE TABLE orgs (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored only as SHA-256 digests. lookup_id (first 16 hex chars of the digest) finds the
-- row; the full digest is then compared in constant time in application code.
CREATE TABLE api_keys (
  org_id       text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  lookup_id    text NOT NULL,
  key_digest   bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  PRIMARY KEY (org_id, lookup_id)
);
CREATE INDEX api_keys_lookup ON api_keys (lookup_id);

CREATE TABLE destinations (
  org_id               text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  id                   text NOT NULL,
  siem                 text NOT NULL,
  url                  text NOT NULL,
  auth_header_name     text,
  -- AES-256-GCM sealed box (see src/crypto): never the plaintext.
  auth_header_sealed   bytea,
  signing_secret_sealed bytea,
  options              jsonb NOT NULL DEFAULT '{}'::jsonb,
  enabled              boolean NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  last_delivery_at     timestamptz,
  last_attempt_at      timestamptz,
  last_attempt_ok      boolean,
  last_error           text,
  last_error_at        timestamptz,
  last_dead_letter_at  timestamptz,
  consecutive_failures integer NOT NULL DEFAULT 0,
  -- Circuit breaker: while set and in the future, the worker leaves this destination's queue alone
  -- instead of spending every queued job's retries on an outage.
  paused_until         timestamptz,
  PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX destinations_id ON destinations (id);

CREATE TABLE audit_events (
  org_id       text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  id           text NOT NULL,
  occurred_at  timestamptz NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  -- The wire event (ECS-shaped, metadata only), exactly as forwarded. json, not jsonb: json keeps
  -- the text as built, so SIEMs receive the product page's field order ("@timestamp", event, aegis,
  -- organization) rather than jsonb's canonical order.
  payload      json NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX audit_events_recorded ON audit_events (recorded_at);

-- One row per (event, destination). A claimed job has claim_id set and next_attempt_at moved to its
-- lease expiry: if the worker dies, the job simply becomes due again when the lease runs out, and the
-- claim id fences off a stalled worker from settling a job someone else has since claimed.
CREATE TABLE forwarding_jobs (
  org_id           text NOT NULL,
  id               bigint GENERATED ALWAYS AS IDENTITY,
  destination_id   text NOT NULL,
  event_id         text NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  claim_id         uuid,
  last_error       text,
  last_status_code integer,
  created_at       timestamptz NOT NULL DEFAULT now(),
  settled_at       timestamptz,
  PRIMARY KEY (org_id, id),
  FOREIGN KEY (org_id, destination_id) REFERENCES destinations (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, event_id) REFERENCES audit_events (org_id, id) ON DELETE CASCADE
);
CREATE INDEX forwarding_jobs_due ON forwarding_jobs (destination_id, next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX forwarding_jobs_failed ON forwarding_jobs (destination_id, id) WHERE status = 'failed';
CREATE INDEX forwarding_jobs_settled ON forwarding_jobs (settled_at) WHERE status = 'done';

-- One row per HTTP request the worker (or a test probe) made: the per-delivery log users ask for.
CREATE TABLE delivery_attempts (
  org_id          text NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  destination_id  text NOT NULL,
  attempted_at    timestamptz NOT NULL DEFAULT now(),
  event_count     integer NOT NULL,
  delivered_count integer NOT NULL,
  failed_count    integer NOT NULL,
  status_code     integer,
  duration_ms     integer NOT NULL,
  error           text,
  response_snippet text,
  PRIMARY KEY (org_id, id),
  FOREIGN KEY (org_id, destination_id) REFERENCES destinations (org_id, id) ON DELETE CASCADE
);
CREATE INDEX delivery_attempts_dest_time ON delivery_attempts (destination_id, attempted_at);

-- Dashboard sign-in: one-time login links and sessions, both stored as SHA-256 digests.
CREATE TABLE login_links (
  org_id      text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  token_digest bytea NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  PRIMARY KEY (org_id, token_digest)
);
CREATE UNIQUE INDEX login_links_digest ON login_links (token_digest);

CREATE TABLE sessions (
  org_id       text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  token_digest bytea NOT NULL,
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  PRIMARY KEY (org_id, token_digest)
);
CREATE UNIQUE INDEX sessions_digest ON sessions (token_digest);
