-- When a test event last reached the SIEM. A test is not a live delivery (last_delivery_at and the
-- Active pill stay for audit events), but a destination whose test succeeded has proven it works:
-- the dashboard says "Test delivered <time>; no live events yet" instead of "No deliveries yet".
ALTER TABLE destinations ADD COLUMN last_test_ok_at timestamptz;
