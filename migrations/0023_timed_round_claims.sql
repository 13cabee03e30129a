-- Each take of a timed round counts here, and the count is the claim's token: finishRound, renewLease
-- and giveBack act only while it stands (src/queue/timedRounds.ts). The token was the round's start
-- time, which two takes can share: PGlite's clock moves in whole milliseconds, so a take made in the
-- same millisecond as one whose lease was cut short got the same start, and the first runner's
-- giveBack undid the second's round.
ALTER TABLE timed_rounds ADD COLUMN IF NOT EXISTS claims bigint NOT NULL DEFAULT 0;
