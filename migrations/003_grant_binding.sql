-- Access codes are bound to the browser that asked for one (the hash of its grant cookie)
-- and name the launcher session that granted them, which proxies re-validate.
ALTER TABLE codes ADD COLUMN binding TEXT;
ALTER TABLE codes ADD COLUMN session TEXT;
CREATE INDEX codes_outstanding ON codes (user, kind, expires_at) WHERE used_at IS NULL;

-- Whether a session's admin right came from JupyterHub's admin flag (read at login), so
-- re-validation can tell it from admin_users/admin_groups, which it checks again.
ALTER TABLE sessions ADD COLUMN hub_admin INTEGER NOT NULL DEFAULT 0;
