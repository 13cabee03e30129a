-- Hold limit (docs/alerts.md, AEGIS_MAX_HOLD_HOURS): how long a destination has failed without a
-- break, and whether the hold limit paused it.

-- Set by the first failed request after a success (or when the destination was enabled), cleared by
-- a delivery, a successful test event, re-enabling or a resume: the start of the current failing
-- streak. Frozen while the hold limit pauses the destination, so the card can say since when.
ALTER TABLE destinations ADD COLUMN failing_since timestamptz;
-- When the hold limit paused the destination (null: not paused by it). While set, the worker leaves
-- the destination alone and its pending jobs are dead-lettered; a replay or re-enabling lifts it.
ALTER TABLE destinations ADD COLUMN hold_paused_at timestamptz;

-- The worker's hold check reads only failing destinations, and the paused ones.
CREATE INDEX destinations_failing_since ON destinations (failing_since) WHERE failing_since IS NOT NULL AND hold_paused_at IS NULL;
CREATE INDEX destinations_hold_paused ON destinations (org_id, id) WHERE hold_paused_at IS NOT NULL;

-- Destinations failing now: their streak began at the first failed request after their last
-- delivery, as the delivery log recorded it (else at the last error).
UPDATE destinations d
   SET failing_since = coalesce(
         (SELECT min(a.attempted_at) FROM delivery_attempts a
           WHERE a.destination_id = d.id AND a.org_id = d.org_id AND a.error IS NOT NULL
             AND (d.last_delivery_at IS NULL OR a.attempted_at > d.last_delivery_at)),
         d.last_error_at)
 WHERE d.last_attempt_ok = false AND d.last_error_at IS NOT NULL;

-- The long-failure warnings (1 h, 24 h, approaching the hold limit) already alerted for a streak:
-- the streak they belong to (its failing_since) and the furthest warning sent, in seconds of failing.
ALTER TABLE destination_alert_state ADD COLUMN streak_since timestamptz;
ALTER TABLE destination_alert_state ADD COLUMN streak_alerted_s integer NOT NULL DEFAULT 0;
