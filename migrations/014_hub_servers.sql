-- Servers JupyterHub started through HubappsSpawner (api/hub/): the hub's names for them and
-- the prefix the hub routes to them, so a restarted service still knows the hub owns their
-- route. Never the hub's token for the server: that lives only in its running proxy.
-- Such a server's `port` is its proxy's loopback TCP port (the hub routes there) and
-- `app_port` its app's guarded {port}; launcher-started servers leave all four NULL.
ALTER TABLE servers ADD COLUMN hub_user TEXT;
ALTER TABLE servers ADD COLUMN hub_server TEXT;
ALTER TABLE servers ADD COLUMN hub_prefix TEXT;
ALTER TABLE servers ADD COLUMN app_port INTEGER CHECK (app_port BETWEEN 1 AND 65535);

CREATE UNIQUE INDEX servers_active_app_port ON servers (app_port)
  WHERE state IN ('pending','starting','running','stopping');
