-- Each server's own API token (the app's JUPYTERHUB_API_TOKEN), as a hash. It is accepted only
-- while the server is starting or running, and cleared when the server stops, fails or starts again.
ALTER TABLE servers ADD COLUMN api_token_hash TEXT;
CREATE UNIQUE INDEX servers_api_token ON servers (api_token_hash) WHERE api_token_hash IS NOT NULL;
