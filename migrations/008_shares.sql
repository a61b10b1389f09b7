-- Shares: the owner of a server lets named users or members of a Unix group use it. A
-- revoked share is deleted; the events table keeps who shared, revoked and visited.
CREATE TABLE shares (
  id          INTEGER PRIMARY KEY,
  server_id   INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  kind        TEXT    NOT NULL CHECK (kind IN ('user', 'group')),
  subject     TEXT    NOT NULL,
  created_by  TEXT    NOT NULL,
  created_at  TEXT    NOT NULL,
  UNIQUE (server_id, kind, subject)
);
CREATE INDEX shares_subject ON shares (kind, subject);
