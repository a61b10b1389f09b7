-- Launch forms: the values a user filled in for a server's app (JSON, every field of the
-- app's form). The launcher offers a user's latest values for an app again at the next start.
ALTER TABLE servers ADD COLUMN form TEXT NOT NULL DEFAULT '{}';
CREATE INDEX servers_user_app ON servers (user, app, started_at);
