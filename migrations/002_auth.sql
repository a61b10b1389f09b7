-- Browser sessions of the launcher. Only a hash of the cookie value is stored.
CREATE TABLE sessions (
  hash        TEXT PRIMARY KEY,
  user        TEXT    NOT NULL,
  admin       INTEGER NOT NULL DEFAULT 0,
  xsrf        TEXT    NOT NULL,
  created_at  TEXT    NOT NULL,
  expires_at  TEXT    NOT NULL,
  last_seen   TEXT    NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- API tokens: shown once when created, stored as a hash.
CREATE TABLE tokens (
  id          INTEGER PRIMARY KEY,
  hash        TEXT    NOT NULL UNIQUE,
  user        TEXT    NOT NULL,
  note        TEXT    NOT NULL DEFAULT '',
  prefix      TEXT    NOT NULL,
  created_at  TEXT    NOT NULL,
  expires_at  TEXT,
  last_used   TEXT
);
CREATE INDEX tokens_user ON tokens (user);

-- Single-use codes: per-server access grants (kind 'grant', bound to a server) and login
-- links (kind 'login'). Hashed, short-lived, marked used on redemption.
CREATE TABLE codes (
  hash        TEXT PRIMARY KEY,
  kind        TEXT    NOT NULL CHECK (kind IN ('grant', 'login')),
  user        TEXT    NOT NULL,
  admin       INTEGER NOT NULL DEFAULT 0,
  server_id   INTEGER REFERENCES servers (id) ON DELETE CASCADE,
  next        TEXT,
  created_at  TEXT    NOT NULL,
  expires_at  TEXT    NOT NULL,
  used_at     TEXT
);

-- OAuth logins in flight: state and PKCE verifier, for 10 minutes.
CREATE TABLE oauth_states (
  hash        TEXT PRIMARY KEY,
  verifier    TEXT    NOT NULL,
  next        TEXT    NOT NULL,
  expires_at  TEXT    NOT NULL
);
