-- jupyterhub.server_tokens_from_hub: the id at the hub of the token the hub issued for a server,
-- held while the server is active and cleared with api_token_hash when it ends.
ALTER TABLE servers ADD COLUMN hub_token_id TEXT;

-- Every token hubapps had the hub issue, kept until the hub has deleted it: a token no active
-- server holds any more (it ended, started again, was removed) is deleted at the hub on the
-- next pass, and one the hub could not delete (hub down) stays listed until it can be, or expired.
CREATE TABLE hub_tokens (
  token_id    TEXT NOT NULL PRIMARY KEY,
  hub_user    TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL
);
