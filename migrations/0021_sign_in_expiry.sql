-- The worker's hourly retention round deletes sign-in links a day after they expire
-- (src/auth/sessions.ts, deleteExpiredSignIns): oldest first, by this index, instead of reading the
-- whole table each hour. Small table: built in the migration's transaction.
CREATE INDEX IF NOT EXISTS login_links_expires ON login_links (expires_at);
