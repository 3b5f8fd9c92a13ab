#!/usr/bin/env bash
# RSS per idle connection, Sluice beside mosquitto (issue 20): a fresh broker per
# run (one thread, pinned like compare.sh), `sluice-bench conns` holding N idle
# connections, with and without one subscription each; prints one line per run
# and the medians. RSS is deterministic here: runs agree to a few bytes.
#
#   bench/idle_rss.sh                       15000 connections, 3 runs, both brokers
#   CONNS="15000 19800" RUNS=5 BROKERS="sluice" SLUICE=/tmp/old/sluice bench/idle_rss.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/build/sluice-bench}
SLUICE=${SLUICE:-$ROOT/build/sluice}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
BROKERS=${BROKERS:-sluice mosquitto}
CONNS=${CONNS:-15000}
RUNS=${RUNS:-3}
ulimit -n "$(ulimit -Hn)"
TMP=$(mktemp -d /tmp/idle-rss.XXXXXX)
BPID=
trap '[[ -n $BPID ]] && kill $BPID 2>/dev/null; rm -rf "$TMP"' EXIT
start() {  # broker port
  case $1 in
    sluice) taskset -c 0 "$SLUICE" serve --allow-anonymous --threads 1 --mqtt-port "$2" --data-dir "$TMP/d$2" \
              --host 127.0.0.1 --http-port=-1 --log-level warn >"$TMP/log$2" 2>&1 & ;;
    mosquitto) printf 'user %s\nlistener %s 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\nmax_queued_messages 0\nlog_type error\n' \
                 "$(id -un)" "$2" >"$TMP/m$2.conf"
               taskset -c 0 "$MOSQUITTO" -c "$TMP/m$2.conf" >"$TMP/log$2" 2>&1 & ;;
  esac
  BPID=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
for n in $CONNS; do
  for sub in "" --subscribe; do
    for b in $BROKERS; do
      vals=()
      for r in $(seq "$RUNS"); do
        port=$(( 20000 + RANDOM % 12000 ))
        start "$b" "$port" || { echo "$b did not start" >&2; continue; }
        sleep 0.5
        v=$(taskset -c 1 "$BENCH" conns --conns "$n" --hold 2 $sub --port "$port" --broker-pid "$BPID" --quiet 2>&1 |
              grep -oE 'rss_per_conn_bytes=[0-9.]+' | cut -d= -f2)
        kill "$BPID"; wait "$BPID" 2>/dev/null; BPID=
        vals+=("${v:-nan}")
      done
      med=$(printf '%s\n' "${vals[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
      echo "conns=$n ${sub:-idle} $b runs: ${vals[*]} median: $med"
    done
  done
done
