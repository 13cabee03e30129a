-- The configuration trail (docs/trail.md): every change to forwarding configuration is an audit event,
-- recorded and queued like any other.

-- A farewell job carries the trail event that tells a destination it is being disabled or deleted. The
-- worker delivers it although the destination no longer takes events, and after every request still
-- in flight to it, so its SIEM shows who turned it off; nothing else is claimed for it afterwards.
ALTER TABLE forwarding_jobs ADD COLUMN farewell boolean NOT NULL DEFAULT false;
CREATE INDEX forwarding_jobs_farewell ON forwarding_jobs (next_attempt_at) WHERE status = 'pending' AND farewell;

-- A deleted destination whose farewell is still on its way is kept, disabled and invisible to every
-- reader, and removed (with its jobs and delivery log) once its farewell is delivered or dead-lettered.
ALTER TABLE destinations ADD COLUMN deleted_at timestamptz;

-- The Activity page reads one organization's trail, newest first. Trail event ids start with "cfg_":
-- a prefix test costs the ingest path nothing (no JSON is parsed), and only trail rows are indexed.
CREATE INDEX audit_events_trail ON audit_events (org_id, occurred_at DESC, id DESC) WHERE left(id, 4) = 'cfg_';
