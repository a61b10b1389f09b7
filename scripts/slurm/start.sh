#!/bin/bash
# A single-node Slurm cluster (munged + slurmctld + slurmd) for hubapps' Slurm tests, on a
# host without systemd (CI containers). .ci/run calls it; docs/slurm.md explains it.
# Debian 12 packages: apt-get install -y --no-install-recommends slurm-wlm munge
# Run as root. Idempotent: does nothing if all three daemons are already running
# (so run stop.sh first to switch SLURM_LIMITS).
#   SLURM_LIMITS=auto    (default) cgroup where the host has the cgroup v1 memory controller, else none
#   SLURM_LIMITS=none    proctrack/linuxproc + task/none: --mem/--cpus accepted, NOT enforced
#   SLURM_LIMITS=cgroup  proctrack/cgroup + task/cgroup + cgroup.conf: --mem/--cpus enforced
#   SLURM_KEEP_STATE=1   keep jobs/job ids from a previous run (default: wipe state)
#   SLURM_UP_TIMEOUT=30  seconds to wait for the node to become idle
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LIMITS=${SLURM_LIMITS:-auto}
# cgroup v2 without systemd is untested with slurm 22.05: only v1 gets enforced limits by default.
if [ "$LIMITS" = auto ]; then
  if [ -d /sys/fs/cgroup/memory ]; then LIMITS=cgroup; else LIMITS=none; fi
fi
NODE=$(hostname -s)

[ "$(id -u)" = 0 ] || { echo "start.sh: must run as root" >&2; exit 1; }

alive() { # alive PIDFILE COMM -> true if the pid in PIDFILE is a live (non-zombie) process named COMM
  local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$2" ] &&
    [ "$(awk '{print $3}' /proc/"$pid"/stat 2>/dev/null)" != Z ]
}

if alive /run/munge/munged.pid munged && alive /run/slurmctld.pid slurmctld && alive /run/slurmd.pid slurmd; then
  echo "start.sh: already running ($(scontrol show config | awk '$1 == "TaskPlugin" {print $3}'))"; sinfo; exit 0
fi

# --- node name must resolve (slurmd/slurmctld look it up); add a hosts entry if it doesn't
getent hosts "$NODE" >/dev/null || echo "127.0.0.1 $NODE" >> /etc/hosts

# --- munge
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key   # the Debian postinst normally already made one
fi
chown munge:munge /etc/munge /etc/munge/munge.key
chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/log/munge
install -d -o munge -g munge -m 0711 /var/lib/munge
if ! alive /run/munge/munged.pid munged; then
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged --force   # forks; --force: ignore a stale socket left by a killed munged
fi
for i in $(seq 50); do munge -n </dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
munge -n </dev/null | unmunge >/dev/null || { echo "start.sh: munge not working" >&2; exit 1; }

# --- config
case "$LIMITS" in
  none)   PROCTRACK=linuxproc; TASK=none ;;
  cgroup) PROCTRACK=cgroup;    TASK=cgroup; install -m 0644 "$HERE/cgroup.conf" /etc/slurm/cgroup.conf ;;
  *) echo "start.sh: SLURM_LIMITS must be none or cgroup" >&2; exit 1 ;;
esac
# hardware line exactly as slurmd sees it (NodeName=<hostname -s> CPUs=.. Boards=.. ... RealMemory=..)
NODELINE=$(slurmd -C | head -n1)
sed -e "s|@NODELINE@|$NODELINE|" -e "s|@NODE@|$NODE|g" \
    -e "s|@PROCTRACK@|$PROCTRACK|" -e "s|@TASK@|$TASK|" \
    "$HERE/slurm.conf" > /etc/slurm/slurm.conf.new
mv /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf; chmod 0644 /etc/slurm/slurm.conf

# --- directories (slurmctld runs as SlurmUser=slurm, slurmd as root)
install -d -o slurm -g slurm -m 0755 /var/spool/slurmctld /var/log/slurm
install -d -o root  -g root  -m 0755 /var/spool/slurmd
# after a crash, running jobs still have a slurmstepd: keep state so slurmd re-attaches to them
if [ "${SLURM_KEEP_STATE:-0}" != 1 ] && pgrep -x slurmstepd >/dev/null; then
  echo "start.sh: slurmstepd still running, keeping state" >&2; SLURM_KEEP_STATE=1
fi
if [ "${SLURM_KEEP_STATE:-0}" != 1 ]; then
  alive /run/slurmctld.pid slurmctld || rm -rf /var/spool/slurmctld/*
  alive /run/slurmd.pid slurmd       || rm -rf /var/spool/slurmd/*
fi

# --- daemons (both daemonize and write /run/*.pid; logs in /var/log/slurm/)
alive /run/slurmctld.pid slurmctld || { rm -f /run/slurmctld.pid; /usr/sbin/slurmctld; }
alive /run/slurmd.pid slurmd       || { rm -f /run/slurmd.pid;    /usr/sbin/slurmd; }

deadline=$(( $(date +%s) + ${SLURM_UP_TIMEOUT:-30} ))
# idle (or mixed/allocated when jobs were recovered with SLURM_KEEP_STATE=1)
until sinfo -h -n "$NODE" -o %T 2>/dev/null | grep -qxE 'idle|mixed|allocated'; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "start.sh: node $NODE not idle in time" >&2; sinfo -R >&2 || true
    tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
    exit 1
  fi
  sleep 0.2
done
echo "start.sh: up with SLURM_LIMITS=$LIMITS"
sinfo
