-- Named servers: one row per (user, name), kept across stops so a server keeps its identity.
CREATE TABLE servers (
  id             INTEGER PRIMARY KEY,
  user           TEXT    NOT NULL,
  name           TEXT    NOT NULL,
  app            TEXT    NOT NULL,
  state          TEXT    NOT NULL CHECK (state IN ('pending','starting','running','stopping','stopped','failed')),
  reason         TEXT,
  options        TEXT    NOT NULL DEFAULT '{}',
  port           INTEGER,
  secret         TEXT,
  launcher_pid   INTEGER,
  proxy_pid      INTEGER,
  app_pid        INTEGER,
  log_file       TEXT,
  created_at     TEXT    NOT NULL,
  started_at     TEXT,
  ready_at       TEXT,
  stopped_at     TEXT,
  last_activity  TEXT,
  updated_at     TEXT    NOT NULL,
  UNIQUE (user, name)
);

-- Two live servers can never share a port, whatever races the service has.
CREATE UNIQUE INDEX servers_active_port ON servers (port)
  WHERE state IN ('pending','starting','running','stopping');

CREATE INDEX servers_state ON servers (state);

-- Every state change, progress message and audited action: feeds the progress stream and the audit log.
CREATE TABLE events (
  id         INTEGER PRIMARY KEY,
  server_id  INTEGER REFERENCES servers (id) ON DELETE SET NULL,
  user       TEXT,
  server     TEXT,
  at         TEXT    NOT NULL,
  kind       TEXT    NOT NULL CHECK (kind IN ('state','progress','audit')),
  state      TEXT,
  message    TEXT    NOT NULL,
  actor      TEXT
);

CREATE INDEX events_server ON events (server_id, id);
