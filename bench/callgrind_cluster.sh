#!/usr/bin/env bash
# Instructions per QoS 0 message a cluster node spends (issue 17), against one node alone:
# the figure to compare two builds of the cluster path, since callgrind counts instructions,
# not seconds, and machine noise barely moves it.
#
#   bench/callgrind_cluster.sh [SLUICE_BINARY]     (default: build/sluice)     ~3 min
#
# Fan-in 4→1 QoS 0, one loop thread per node, one nats-server (JetStream on):
#   single   one node, publishers and subscriber on it (the baseline);
#   sender   two nodes, publishers on n1 (under callgrind), the subscriber on n2;
#   receiver the same, n2 under callgrind.
# Two runs of different lengths per case; the difference cancels start-up, connections
# and shutdown: Ir/msg = (Ir_long − Ir_short) / (delivered_long − delivered_short).
# Counts every thread of the process (libnats's reader and flusher threads included).
# MSGS (default 10000) and RATE (default 1000 msg/s) set the long run; the short run is MSGS/5.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/build/sluice-bench}
BIN=${1:-$ROOT/build/sluice}
MSGS=${MSGS:-10000}; RATE=${RATE:-1000}
log() { echo "callgrind_cluster: $*" >&2; }
die() { log "$*"; exit 1; }
[[ -x $BENCH && -x $BIN ]] || die "build first: make build"
command -v valgrind >/dev/null || die "needs valgrind"

TMP=$(mktemp -d /tmp/sluice-cgc.XXXXXX)
KEEP=${KEEP:-}  # a directory: each run's callgrind file is kept there
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  "$ROOT/scripts/nats.sh" stop "$TMP/nats" >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT
# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

URL=$("$ROOT/scripts/nats.sh" start "$TMP/nats" 1) || die "nats.sh"

node() {  # NAME PORT CLUSTER(0|1) CALLGRIND_OUT|"" (adds the pid to PIDS)
  local args=(serve --allow-anonymous --threads 1 --host 127.0.0.1 --mqtt-port "$2" --http-port=-1
              --log-level warn --data-dir "$TMP/data-$1-$RANDOM")
  (( $3 )) && args+=(--nats "$URL" --node-name "$1")
  if [[ -n $4 ]]; then
    valgrind --tool=callgrind --callgrind-out-file="$4" "$BIN" "${args[@]}" >"$TMP/$1.log" 2>&1 &
  else
    "$BIN" "${args[@]}" >"$TMP/$1.log" 2>&1 &
  fi
  local pid=$!; PIDS+=("$pid")
  wait_port "$2" "$pid" 60 || { tail -5 "$TMP/$1.log" >&2; die "node $1 did not start"; }
}

run() {  # CASE MSGS -> "IR DELIVERED"
  local kind=$1 n=$2 out=$TMP/cg.out p1 p2 line
  rm -f "$out"
  p1=$(free_port); p2=$(free_port)
  case $kind in
    single) node n1 "$p1" 0 "$out"; p2=$p1 ;;
    sender) node n1 "$p1" 1 "$out"; node n2 "$p2" 1 "" ;;
    receiver) node n1 "$p1" 1 ""; node n2 "$p2" 1 "$out" ;;
  esac
  sleep 1  # the nodes' interest has reached NATS
  line=$("$BENCH" fanin --pubs 4 --qos 0 --rate "$RATE" --count "$n" --duration 120 --port "$p1" --sub-port "$p2" \
         --quiet --topic-prefix "cgc/$kind/$RANDOM" | grep '^RESULT ')
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null; PIDS=()
  [[ -n $KEEP ]] && cp "$out" "$KEEP/callgrind.$kind.$n"
  echo "$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}') $(grep -oE ' delivered=[0-9]+' <<<"$line" | cut -d= -f2)"
}

echo "| case (fan-in 4→1, QoS 0) | Ir/msg | × single |"
echo "|---|--:|--:|"
base=
for kind in single sender receiver; do
  read -r i1 d1 < <(run "$kind" $(( MSGS / 5 )))
  read -r i2 d2 < <(run "$kind" "$MSGS")
  if [[ -n $i1 && -n $i2 && -n $d1 && -n $d2 ]] && (( d2 > d1 && i2 > i1 )); then
    ir=$(( (i2 - i1) / (d2 - d1) ))
  else
    ir=nan; log "$kind failed ($i1 $d1 / $i2 $d2)"
  fi
  [[ $kind == single ]] && base=$ir
  log "$kind: $ir Ir/msg"
  echo "| $kind | $ir | $(awk -v a="$base" -v s="$ir" 'BEGIN { if (a+0 == 0 || s == "nan") print "n/a"; else printf "%.2f", s/a }') |"
done
