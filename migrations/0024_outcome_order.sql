-- The order of a destination's delivery outcomes, counted on its row (src/queue/deliveryState.ts):
-- every recorded outcome takes the next number, and the last delivery and the last dead letter keep
-- theirs. The dead-letter alert and the status pill ask "was this dead letter after that success?",
-- and the times could not say: a settle stamps now(), when its statement started, so one that waited
-- for the row behind another settle carries the earlier time though it came second, and PGlite's
-- clock gives two settles in one millisecond the same time. An alert judged between them then took a
-- later success for an earlier one, and the next episode's dead letters were never alerted. The
-- count is taken under the row's lock, so it follows the order the settles committed in.
-- destination_alert_state.dead_letter_alerted_seq: the last dead letter an alert judged.
ALTER TABLE destinations
  ADD COLUMN IF NOT EXISTS outcome_seq bigint NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS last_delivery_seq bigint,
  ADD COLUMN IF NOT EXISTS last_dead_letter_seq bigint;
ALTER TABLE destination_alert_state ADD COLUMN IF NOT EXISTS dead_letter_alerted_seq bigint;

-- Existing rows: numbers in the order of the times they replace (equal times, one settle: one number).
UPDATE destinations
   SET outcome_seq = 2,
       last_delivery_seq = CASE WHEN last_delivery_at IS NOT NULL
                                THEN 1 + (last_dead_letter_at IS NOT NULL AND last_delivery_at > last_dead_letter_at)::int END,
       last_dead_letter_seq = CASE WHEN last_dead_letter_at IS NOT NULL
                                   THEN 1 + (last_delivery_at IS NOT NULL AND last_dead_letter_at > last_delivery_at)::int END
 WHERE last_delivery_at IS NOT NULL OR last_dead_letter_at IS NOT NULL;
-- An alert's time becomes the highest number stamped at or before it, so every comparison the
-- evaluation made with the time gives the same answer with the number.
UPDATE destination_alert_state s
   SET dead_letter_alerted_seq = greatest(0,
         CASE WHEN d.last_delivery_at <= s.dead_letter_alerted_at THEN d.last_delivery_seq END,
         CASE WHEN d.last_dead_letter_at <= s.dead_letter_alerted_at THEN d.last_dead_letter_seq END)
  FROM destinations d
 WHERE d.org_id = s.org_id AND d.id = s.destination_id AND s.dead_letter_alerted_at IS NOT NULL;
