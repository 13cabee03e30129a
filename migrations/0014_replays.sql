-- Background range replays (issue 12): a window too large to queue within one request is walked by
-- whichever worker process claims it, batch by batch, and its progress is kept here so it can be
-- followed (GET .../replays/{id}), cancelled, and resumed from its cursor by another process after
-- a crash or a restart.
CREATE TABLE replays (
  org_id          text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  id              text NOT NULL,
  destination_id  text NOT NULL,
  -- The window as requested, and where it really starts after trimming to what the SIEM accepts
  -- and to AEGIS_RETENTION_DAYS (start_at >= window_from).
  window_from     timestamptz NOT NULL,
  window_to       timestamptz NOT NULL,
  start_at        timestamptz NOT NULL,
  status          text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'cancelled', 'failed')),
  -- Progress: events walked, jobs created, and the two reasons an event walked makes no job.
  scanned         bigint NOT NULL DEFAULT 0,
  queued          bigint NOT NULL DEFAULT 0,
  filtered_out    bigint NOT NULL DEFAULT 0,
  already_pending bigint NOT NULL DEFAULT 0,
  skipped_too_old bigint NOT NULL DEFAULT 0,
  -- Events in [start_at, window_to) when the replay was accepted: the denominator of progress.
  total_estimate  bigint NOT NULL DEFAULT 0,
  -- The last event walked, in (occurred_at, id) order: the next batch starts after it. Written in the
  -- same transaction as that batch's jobs, so a resumed replay neither skips nor re-walks a batch.
  cursor_occurred_at timestamptz,
  cursor_event_id text,
  -- Why the window was trimmed (set at request time); the failure text of a failed replay.
  notes           text,
  error           text,
  created_by      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  -- The lease of the process running it (a fencing token and its expiry): a process that died
  -- leaves a lease that runs out, and anyone may then claim the replay and go on from the cursor.
  claim_id        text,
  lease_until     timestamptz,
  PRIMARY KEY (org_id, id),
  FOREIGN KEY (org_id, destination_id) REFERENCES destinations (org_id, id) ON DELETE CASCADE
);
-- What the runners scan for, and what the per-organization cap counts.
CREATE INDEX replays_running ON replays (org_id, created_at) WHERE status = 'running';
CREATE INDEX replays_destination ON replays (org_id, destination_id, created_at DESC);
