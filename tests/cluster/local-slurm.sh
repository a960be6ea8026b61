#!/usr/bin/env bash
# A single-node Slurm on this machine, for the cluster tests: start | stop | status.
#
# start   installs Debian's slurmctld, slurmd and munge if missing, writes
#         /etc/slurm/slurm.conf for this host (no accounting, no cgroups), and starts
#         munged, slurmctld and slurmd as plain daemons (no systemd needed). Running it
#         again on a healthy cluster changes nothing.
# stop    cancels every job, then stops the three daemons by their pid files.
# status  prints sinfo and squeue; non-zero when the controller does not answer.
#
# Needs root. Exit status 77 means "cannot run here" (not root, or packages unreachable):
# the tests skip on it.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
STATE=/var/lib/slurm
LOGS=/var/log/slurm
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
PACKAGES=(slurmctld slurmd slurm-client munge)
# The executor plugin polls squeue every 40-180 s; with accounting off, squeue is the only
# record of a finished job, so finished jobs must stay listed well beyond that.
MIN_JOB_AGE=900

die() { echo "local-slurm: $*" >&2; exit "${2:-1}"; }

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
  local missing=()
  for cmd in slurmctld slurmd sbatch munged; do
    command -v "$cmd" >/dev/null || missing+=("$cmd")
  done
  [ ${#missing[@]} -eq 0 ] && return
  echo "local-slurm: installing ${PACKAGES[*]} (missing: ${missing[*]})"
  # Keep the packages from starting daemons: this script starts and stops them itself.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
  fi
  local ok=0
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${PACKAGES[@]}" >/dev/null; then
    ok=1
  fi
  [ "$own_policy" -eq 1 ] && rm -f "$policy"
  [ "$ok" -eq 1 ] || die "apt-get could not install ${PACKAGES[*]}" 77
}

write_config() {
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  # Leave a tenth of the memory to the system; slurmd drains a node that has less than this.
  mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  mkdir -p /etc/slurm "$STATE/slurmctld" "$STATE/slurmd" "$LOGS"
  cat >"$CONF.new" <<EOF
# Written by tests/cluster/local-slurm.sh: a single-node test cluster.
ClusterName=bonkl-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=$MIN_JOB_AGE
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  if cmp -s "$CONF.new" "$CONF"; then
    rm "$CONF.new"
    return 1
  fi
  mv "$CONF.new" "$CONF"
}

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  fi
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return
  install -d -o munge -g munge -m 755 /run/munge
  runuser -u munge -- munged
}

wait_for_node() {
  local state
  for _ in $(seq 60); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
    case "$state" in
      idle | mix | alloc) return ;;
      drain* | down*) scontrol update nodename="$(hostname -s)" state=resume || true ;;
    esac
    sleep 1
  done
  die "the node did not come up (state '${state:-none}'); see $LOGS/"
}

start() {
  [ "$(id -u)" -eq 0 ] || die "needs root to install and run Slurm" 77
  install_packages
  local changed=0
  write_config && changed=1
  start_munge
  if [ "$changed" -eq 1 ] && alive "$CTLD_PID"; then
    echo "local-slurm: slurm.conf changed, restarting"
    stop_daemons
  fi
  alive "$CTLD_PID" || slurmctld
  alive "$SLURMD_PID" || slurmd
  wait_for_node
  status
}

stop_daemon() {
  local pidfile=$1 pid
  alive "$pidfile" || return 0
  pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  die "process $pid (from $pidfile) did not stop"
}

stop_daemons() {
  stop_daemon "$SLURMD_PID"
  stop_daemon "$CTLD_PID"
}

stop() {
  if alive "$CTLD_PID"; then
    squeue -h -o %A | xargs -r scancel
  fi
  stop_daemons
  stop_daemon "$MUNGE_PID"
  echo "local-slurm: stopped"
}

status() {
  sinfo || return 1
  squeue
}

case "${1:-}" in
  start | stop | status) "$1" ;;
  *) die "usage: $0 start|stop|status" 2 ;;
esac
