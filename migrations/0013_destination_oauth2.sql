-- OAuth2 client-credentials authentication (Microsoft Sentinel's Entra ID app, or any custom
-- webhook's authorization server). `auth` holds only what may be shown again: type, token_url,
-- client_id, scope, token_endpoint_auth_method. The client secret is sealed like every credential
-- (AES-256-GCM, its own associated-data purpose) in auth_client_secret_sealed and never returned.
ALTER TABLE destinations ADD COLUMN auth jsonb;
ALTER TABLE destinations ADD COLUMN auth_client_secret_sealed bytea;
