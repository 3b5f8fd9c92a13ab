#!/usr/bin/env bash
# A local Sluice cluster for trying it out (docs/cluster.md): three nats-server with
# JetStream (scripts/nats.sh), a PostgreSQL control store when this build has
# `--postgres` (scripts/pg.sh), and N Sluice nodes on free loopback ports, the first
# started with --demo (a demo account, instance, topic and group; its client pair is
# printed).
#
#   scripts/cluster.sh up DIR [--nodes N]    starts everything (N = 3), prints the ports
#   scripts/cluster.sh down DIR              stops everything and removes DIR
#   scripts/cluster.sh status DIR            which processes are alive
#
# Each node's log is DIR/node-I.log, its data directory DIR/node-I. Without PostgreSQL
# every node has its own control store: accounts and keys made on one node are not seen
# by the others (MQTT messages, retained messages, shared subscriptions and client ids
# are cluster-wide either way).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SLUICE=${SLUICE:-$ROOT/build/sluice}
cmd=${1:-}; dir=${2:-}
[[ -n $cmd && -n $dir ]] || { echo "usage: $0 up|down|status DIR [--nodes N]" >&2; exit 2; }

# shellcheck source=scripts/ports.sh
source "$(dirname "$0")/ports.sh"

wait_port() {  # PORT PID
  for _ in $(seq 200); do
    kill -0 "$2" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

case $cmd in
  up)
    nodes=3
    [[ ${3:-} == --nodes ]] && nodes=${4:?--nodes N}
    [[ -x $SLUICE ]] || { echo "cluster.sh: no $SLUICE (make build)" >&2; exit 1; }
    [[ -e $dir/nodes ]] && { echo "cluster.sh: $dir is in use (cluster.sh down $dir first)" >&2; exit 1; }
    mkdir -p "$dir"; : >"$dir/ports"; : >"$dir/nodes"
    urls=$("$ROOT/scripts/nats.sh" start "$dir/nats" 3)
    pg_args=()
    if "$SLUICE" serve --help 2>&1 | grep -q -- '--postgres'; then
      conninfo=$("$ROOT/scripts/pg.sh" start "$dir/pg")
      echo "$conninfo" >"$dir/postgres"
      pg_args=(--postgres "$conninfo")
      # One control store, one master key: every node gets the same one.
      (umask 077; openssl rand -base64 32 >"$dir/master.key")
    fi
    for i in $(seq "$nodes"); do
      m=$(free_port); echo "$m" >>"$dir/ports"; h=$(free_port); echo "$h" >>"$dir/ports"
      args=(serve --host 127.0.0.1 --mqtt-port "$m" --mqtts-port=-1 --ws-port=-1 --wss-port=-1 --http-port "$h"
            --data-dir "$dir/node-$i" --nats "$urls" --node-name "node-$i" "${pg_args[@]}")
      (( i == 1 )) && args+=(--demo)
      if [[ -f $dir/master.key ]]; then
        (umask 077; mkdir -p "$dir/node-$i"; cp "$dir/master.key" "$dir/node-$i/master.key")
      fi
      "$SLUICE" "${args[@]}" >"$dir/node-$i.log" 2>&1 &
      pid=$!
      echo "$i $pid $m $h" >>"$dir/nodes"
      wait_port "$m" "$pid" || { echo "cluster.sh: node $i did not start:" >&2; tail -20 "$dir/node-$i.log" >&2; exit 1; }
    done
    echo "NATS: $urls"
    [[ -f $dir/postgres ]] && echo "PostgreSQL: $(cat "$dir/postgres")"
    while read -r i pid m h; do
      echo "node-$i: mqtt 127.0.0.1:$m  console/API http://127.0.0.1:$h  (pid $pid, log $dir/node-$i.log)"
    done <"$dir/nodes"
    echo "Demo client pair (node-1's first start):"
    sed -n '/demo/,$p' "$dir/node-1.log" | grep -iE 'mosquitto_|client|password|user' | head -8 || true
    ;;
  down)
    if [[ -f $dir/nodes ]]; then
      while read -r _ pid _ _; do kill "$pid" 2>/dev/null || true; done <"$dir/nodes"
      sleep 0.5
      while read -r _ pid _ _; do kill -9 "$pid" 2>/dev/null || true; done <"$dir/nodes"
    fi
    [[ -d $dir/pg ]] && "$ROOT/scripts/pg.sh" stop "$dir/pg" || true
    [[ -d $dir/nats ]] && "$ROOT/scripts/nats.sh" stop "$dir/nats" || true
    rm -rf "$dir"
    ;;
  status)
    [[ -f $dir/nodes ]] || { echo "no cluster in $dir"; exit 1; }
    while read -r i pid m h; do
      if kill -0 "$pid" 2>/dev/null; then s=up; else s=down; fi
      echo "node-$i $s mqtt :$m http :$h"
    done <"$dir/nodes"
    for f in "$dir"/nats/n*.pid; do
      n=$(basename "$f" .pid)
      if kill -0 "$(cat "$f")" 2>/dev/null; then echo "nats $n up"; else echo "nats $n down"; fi
    done
    ;;
  *) echo "usage: $0 up|down|status DIR [--nodes N]" >&2; exit 2 ;;
esac
