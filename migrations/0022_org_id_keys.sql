-- Each organization's own random key for the numbers it is shown in place of server-wide row ids
-- (src/orgs/tenantNumbers.ts): dead letters' job ids, the delivery log's cursor, alert webhooks'
-- ids. Made here, by the database's strong random source (gen_random_uuid: 122 random bits each,
-- 244 in all), so every organization has one from its first row on, whichever process created it.
-- Small table: the volatile default rewrites it within the migration's transaction.
ALTER TABLE orgs ADD COLUMN IF NOT EXISTS id_key bytea NOT NULL
  DEFAULT decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex');
