-- Which API key made a sign-in link, and so which key the session opened by it descends from
-- (src/auth/sessions.ts). Revoking a key (src/auth/apiKeys.ts revokeApiKey) ends both: an
-- authorization review found that a leaked key, once revoked, still had its 12-hour dashboard
-- sessions and its unused links, able to do everything the key could. NULL for links an operator
-- made with the CLI (`aegis-stream login-link`) and for rows made before this migration. The trail's
-- spelling of the key ("key_" and 16 hex digits), so an operator reads the same id everywhere. Small
-- tables: built in the migration's transaction.
ALTER TABLE login_links ADD COLUMN IF NOT EXISTS api_key_id text;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS api_key_id text;
CREATE INDEX IF NOT EXISTS login_links_api_key ON login_links (org_id, api_key_id) WHERE api_key_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessions_api_key ON sessions (org_id, api_key_id) WHERE api_key_id IS NOT NULL;
