#!/usr/bin/env bash
# What a cluster costs (issue 17, docs/cluster.md): the same load on Debian's mosquitto,
# on one Sluice node, and on two Sluice nodes of a cluster (three nats-server with
# JetStream, scripts/nats.sh), with the subscriber on the publisher's node (local) and on
# the other node (cross-node).
#
#   bench/cluster_compare.sh [OUT.md]     ~6 min; markdown to stdout (and OUT.md)
#
# Load: fan-in 4→1 at $RATE msg/s (5,000 by default), QoS 0 and QoS 1, one broker thread
# per Sluice node, everything on this machine's cores (a cluster's nodes and NATS servers
# share them: the figures are costs, not capacity). Each figure is the median of $REPS
# runs, brokers alternating so drift in machine load hits all alike.
# Figures per setup: delivery latency p50/p99 (QoS 1: the publisher's node stores the
# message in JetStream before any node routes it, so this includes the PUBACK's wait),
# Sluice CPU µs per delivered message (all nodes), NATS servers' CPU µs per message.
# Then: QoS 1 latency with the stream on 3 JetStream replicas instead of 1, and the time
# a takeover across nodes takes (connect on node 2 → DISCONNECT 0x8E on node 1), median
# and worst of 20.
#
# Environment: REPS (3), RATE (5000), DURATION (5), WARMUP (1), BENCH, SLUICE, MOSQUITTO.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/build/sluice-bench}
SLUICE=${SLUICE:-$ROOT/build/sluice}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
REPS=${REPS:-3}; RATE=${RATE:-5000}; DURATION=${DURATION:-5}; WARMUP=${WARMUP:-1}
OUT=${1:-}

log() { echo "cluster_compare: $*" >&2; }
die() { log "$*"; exit 1; }
# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

[[ -x $BENCH && -x $SLUICE ]] || die "build first: ninja -C build sluice sluice-bench"
[[ -x $MOSQUITTO ]] || die "no mosquitto at $MOSQUITTO"

TMP=$(mktemp -d /tmp/sluice-cluster-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  "$ROOT/scripts/nats.sh" stop "$TMP/nats1" >/dev/null 2>&1
  "$ROOT/scripts/nats.sh" stop "$TMP/nats3" >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

TICK=$(getconf CLK_TCK)
cpu_ticks() { local t=0 p; for p in "$@"; do t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0) )); done; echo "$t"; }

# sluice_node NAME PORT NATS_URLS|"" REPLICAS -> pid
sluice_node() {
  local args=(serve --allow-anonymous --threads 1 --host 127.0.0.1 --mqtt-port "$2" --http-port=-1
              --log-level warn --data-dir "$TMP/data-$1-$2")
  [[ -n $3 ]] && args+=(--nats "$3" --node-name "$1")
  SLUICE_CLUSTER_REPLICAS=$4 "$SLUICE" "${args[@]}" >"$TMP/$1-$2.log" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  wait_port "$2" "$pid" 20 || { cat "$TMP/$1-$2.log" >&2; die "sluice node $1 did not start"; }
  echo "$pid"
}

nats_pids() { cat "$1"/n*.pid 2>/dev/null | tr '\n' ' '; }

# One run: SETUP QOS PUB_PORT SUB_PORT "SLUICE_PIDS" "NATS_PIDS" -> a results line
RES=$TMP/results; : >"$RES"
run() {
  local setup=$1 qos=$2 pport=$3 sport=$4 spids=($5) npids=($6) n0 n1 line delivered also=()
  for p in "${spids[@]:1}"; do also+=(--also-pid "$p"); done
  n0=$(cpu_ticks "${npids[@]}")
  line=$("$BENCH" fanin --pubs 4 --qos "$qos" --rate "$RATE" -d "$DURATION" --warmup "$WARMUP" --port "$pport" \
           --sub-port "$sport" --broker-pid "${spids[0]}" "${also[@]}" --quiet --topic-prefix "cb/$setup/$qos" 2>&1 |
         grep '^RESULT' | tail -1)
  n1=$(cpu_ticks "${npids[@]}")
  [[ -n $line ]] || { log "$setup QoS $qos: no result"; return; }
  delivered=$(sed -n 's/.* delivered=\([0-9]*\).*/\1/p' <<<"$line")
  local nats_us=0
  (( ${#npids[@]} > 0 && delivered > 0 )) && nats_us=$(awk -v t=$(( n1 - n0 )) -v k="$TICK" -v d="$delivered" 'BEGIN{printf "%.2f", t / k * 1e6 / d}')
  echo "$setup $qos $line nats_us_per_msg=$nats_us" >>"$RES"
  log "$setup QoS $qos: $(grep -o 'p50_us=[0-9.]* p99_us=[0-9.]*' <<<"$line") $(grep -o 'broker_us_per_msg=[0-9.]*' <<<"$line") nats_us_per_msg=$nats_us $(grep -o 'lost=[0-9]*' <<<"$line")"
}

# Engines: mosquitto, one Sluice node, a NATS cluster with 1 replica and one with 3.
MPORT=$(free_port)
cat >"$TMP/m.conf" <<EOF
user $(id -un)
listener $MPORT 127.0.0.1
allow_anonymous true
persistence false
set_tcp_nodelay true
max_queued_messages 0
log_dest none
EOF
"$MOSQUITTO" -c "$TMP/m.conf" >/dev/null 2>&1 & MPID=$!; PIDS+=("$MPID")
wait_port "$MPORT" "$MPID" || die "mosquitto did not start"
SPORT=$(free_port); SPID=$(sluice_node single "$SPORT" "" 1)
URLS1=$("$ROOT/scripts/nats.sh" start "$TMP/nats1" 3) || die "nats.sh"
P1=$(free_port); P2=$(free_port)
C1=$(sluice_node n1 "$P1" "$URLS1" 1); C2=$(sluice_node n2 "$P2" "$URLS1" 1)
NP1=$(nats_pids "$TMP/nats1")
log "mosquitto :$MPORT, single :$SPORT, cluster (1 replica) :$P1 :$P2"

for rep in $(seq "$REPS"); do
  for qos in 0 1; do
    run mosquitto "$qos" "$MPORT" "$MPORT" "$MPID" ""
    run single "$qos" "$SPORT" "$SPORT" "$SPID" ""
    run cluster-local "$qos" "$P1" "$P1" "$C1 $C2" "$NP1"
    run cluster-cross "$qos" "$P1" "$P2" "$C1 $C2" "$NP1"
  done
done

# Takeover across nodes, 20 times: connect on n1, then the same client id on n2.
TAKEOVER=$(/usr/bin/python3 - "$P1" "$P2" "$ROOT/tests/integration" <<'PY'
import sys, time, statistics
sys.path.insert(0, sys.argv[3])
import mqtt_raw as raw
p1, p2 = int(sys.argv[1]), int(sys.argv[2])
ms = []
for i in range(20):
    cid = f"takeover-{i}-{time.time_ns()}"
    a = raw.connected(p1, cid)
    time.sleep(0.05)
    t0 = time.monotonic()
    b = raw.connected(p2, cid)
    pk = a.read(5.0)
    ms.append((time.monotonic() - t0) * 1000)
    assert pk.name == "DISCONNECT" and pk.reason == 0x8E, pk
    a.close(); b.close()
print(f"{statistics.median(ms):.1f} {max(ms):.1f}")
PY
) || TAKEOVER="- -"
log "takeover ms (median, worst of 20): $TAKEOVER"

# The stream on 3 replicas: a second NATS cluster (a stream's replicas are set when it is made).
for p in "$C1" "$C2"; do kill "$p"; done
URLS3=$("$ROOT/scripts/nats.sh" start "$TMP/nats3" 3) || die "nats.sh"
P3=$(free_port); P4=$(free_port)
C3=$(sluice_node n1 "$P3" "$URLS3" 3); C4=$(sluice_node n2 "$P4" "$URLS3" 3)
NP3=$(nats_pids "$TMP/nats3")
for rep in $(seq "$REPS"); do
  run cluster-cross-r3 1 "$P3" "$P4" "$C3 $C4" "$NP3"
done

med() { sort -n | awk '{a[NR]=$1} END{if(NR==0){print "-"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }
field() { grep "^$1 $2 " "$RES" | grep -o "$3=[0-9.]*" | cut -d= -f2 | med; }
{
  echo "\`bench/cluster_compare.sh\` — $(date -u +%F), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null), medians of $REPS, fan-in 4→1 at $RATE msg/s, load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| setup | QoS | p50 µs | p99 µs | broker CPU µs/msg (all Sluice nodes) | NATS CPU µs/msg | lost |"
  echo "|---|--:|--:|--:|--:|--:|--:|"
  for s in mosquitto single cluster-local cluster-cross cluster-cross-r3; do
    for q in 0 1; do
      grep -q "^$s $q " "$RES" || continue
      echo "| $s | $q | $(field "$s" "$q" p50_us) | $(field "$s" "$q" p99_us) | $(field "$s" "$q" broker_us_per_msg) | $(field "$s" "$q" nats_us_per_msg) | $(field "$s" "$q" lost) |"
    done
  done
  echo
  echo "Takeover across nodes (connect on node 2 until DISCONNECT 0x8E on node 1), ms, median and worst of 20: $TAKEOVER"
} | tee ${OUT:+"$OUT"}
