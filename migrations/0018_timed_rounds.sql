-- When each timed housekeeping round (the retention prune, the replays' prune) last started, shared by
-- every worker: a round runs once per period across restarts and across workers. Kept in a timer of
-- each process, a worker restarted more often than the period (deploys, autoscaling) never pruned,
-- and N workers pruned N times an hour (src/queue/timedRounds.ts). running_until: the round is being
-- run until then (a lease, so that a round longer than its period is not started beside itself, and
-- a worker that died in one does not hold it for more than a period).
CREATE TABLE timed_rounds (
  name            text PRIMARY KEY,
  last_started_at timestamptz NOT NULL,
  running_until   timestamptz
);
