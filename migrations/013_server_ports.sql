-- Users' own ports: each forward a server's proxy opened (the service's port-access answer
-- records it), whether its owner shared it with the server's visitors, and when it was last
-- used. Rows go with their server's row, as shares do.
CREATE TABLE server_ports (
  server_id   INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  port        INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  kind        TEXT    NOT NULL CHECK (kind IN ('server', 'host')),
  shared      INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
  opened_at   TEXT    NOT NULL,
  last_seen   TEXT    NOT NULL,
  UNIQUE (server_id, port, kind)
);

-- An access code issued for a port's own host opens that port alone (and a server's code none).
ALTER TABLE codes ADD COLUMN port INTEGER;
ALTER TABLE codes ADD COLUMN port_kind TEXT CHECK (port_kind IN ('server', 'host'));
