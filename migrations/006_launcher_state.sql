-- Each launcher owns its saved state (pids for sudo/local, a job id and node address for
-- Slurm): the lifecycle stores it as JSON and hands it back after a restart.
ALTER TABLE servers ADD COLUMN launcher TEXT;
ALTER TABLE servers ADD COLUMN launcher_state TEXT;
UPDATE servers SET launcher_state = json_object('launcherPid', launcher_pid, 'proxyPid', proxy_pid)
  WHERE launcher_pid IS NOT NULL OR proxy_pid IS NOT NULL;
