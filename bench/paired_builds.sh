#!/usr/bin/env bash
# Two Sluice builds, interleaved (A B B A ...), each a fresh `--threads 1` broker
# pinned like compare.sh, on what issue 20 must not give up: the lone synchronous
# QoS 1 publisher's round trip and closed-loop QoS 0 fan-in; plus any extra
# scenario. Prints every run's figures and the per-pair ratios B/A.
#
#   bench/paired_builds.sh OLD_BINARY NEW_BINARY          PAIRS=5 DURATION=3
#   SCENARIOS='lone_q1|fanin --pubs 1 --qos 1 --inflight 1 --window 1' bench/paired_builds.sh A B
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/build/sluice-bench}
A=$1 B=$2
PAIRS=${PAIRS:-5}; DURATION=${DURATION:-3}
D="--duration $DURATION --warmup 1"
SCENARIOS=${SCENARIOS:-"lone_q1|fanin --pubs 1 --qos 1 --inflight 1 --window 1 $D
max_fanin_q0|fanin --pubs 4 --qos 0 $D"}
TMP=$(mktemp -d /tmp/paired.XXXXXX)
BPID=
trap '[[ -n $BPID ]] && kill $BPID 2>/dev/null; rm -rf "$TMP"' EXIT
one() {  # binary args... -> RESULT line
  local bin=$1; shift
  local port=$(( 20000 + RANDOM % 12000 ))
  taskset -c 0 "$bin" serve --allow-anonymous --threads 1 --mqtt-port "$port" --host 127.0.0.1 --http-port=-1 \
    --log-level warn --data-dir "$TMP/d$port" >/dev/null 2>&1 &
  BPID=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  taskset -c 1 "$BENCH" "$@" --port "$port" --broker-pid "$BPID" --quiet 2>&1 | grep '^RESULT '
  kill "$BPID"; wait "$BPID" 2>/dev/null; BPID=
}
fields() { grep -oE ' (rate|p50_us|p99_us|broker_us_per_msg)=[0-9.]+' <<<"$1" | tr -d '\n'; }
while IFS= read -r s; do
  [[ -z $s ]] && continue
  id=${s%%|*}; args=${s#*|}
  for p in $(seq "$PAIRS"); do
    if (( p % 2 )); then order="A B"; else order="B A"; fi
    for w in $order; do
      bin=$A; [[ $w == B ]] && bin=$B
      # shellcheck disable=SC2086
      line=$(one "$bin" $args)
      echo "$id pair=$p $w$(fields "$line")"
    done
  done
done <<<"$SCENARIOS"
