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

-- Share links: whoever redeems one while logged in (and passes the user policy) gets a user
-- share of the server. Only a hash of the link's code is stored; uses_left counts down.
CREATE TABLE share_links (
  id          INTEGER PRIMARY KEY,
  server_id   INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  hash        TEXT    NOT NULL UNIQUE,
  uses        INTEGER NOT NULL CHECK (uses >= 1),
  uses_left   INTEGER NOT NULL CHECK (uses_left >= 0),
  created_by  TEXT    NOT NULL,
  created_at  TEXT    NOT NULL,
  expires_at  TEXT    NOT NULL
);
CREATE INDEX share_links_server ON share_links (server_id);
