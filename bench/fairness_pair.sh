#!/usr/bin/env bash
# Fairness between clients of one loop (issue 20): a heavy paced QoS 1 fan-in (4 publishers,
# 60k msg/s) and a lone synchronous QoS 1 publisher (one in flight) on the same broker
# thread, for two Sluice builds interleaved (A B A B ...). Prints the lone publisher's round
# trips/s, p50 and p99, and the heavy load's delivered rate, per run.
#
#   bench/fairness_pair.sh OLD_BINARY NEW_BINARY        PAIRS=3
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/build/sluice-bench}
A=$1 B=$2 PAIRS=${PAIRS:-3}
TMP=$(mktemp -d /tmp/fairness.XXXXXX)
BPID=
trap '[[ -n $BPID ]] && kill $BPID 2>/dev/null; rm -rf "$TMP"' EXIT
fields() { grep -oE " (rate|p50_us|p99_us)=[0-9.]+" | tr -d '\n'; }
one() {  # label binary
  local port=$(( 20000 + RANDOM % 12000 ))
  taskset -c 0 "$2" serve --allow-anonymous --threads 1 --mqtt-port "$port" --host 127.0.0.1 --http-port=-1 \
    --log-level warn --data-dir "$TMP/d$port" >/dev/null 2>&1 &
  BPID=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  taskset -c 1 "$BENCH" fanin --pubs 4 --qos 1 --rate 60000 --duration 5 --warmup 1 --port "$port" \
    --topic-prefix heavy --quiet 2>&1 | grep '^RESULT' >"$TMP/heavy" &
  local heavy=$!
  sleep 0.5
  local lone
  lone=$(taskset -c 1 "$BENCH" fanin --pubs 1 --qos 1 --inflight 1 --window 1 --duration 4 --warmup 0.5 \
    --port "$port" --topic-prefix lone --quiet 2>&1 | grep '^RESULT' | fields)
  wait "$heavy"
  echo "$1 lone:$lone | heavy:$(grep -oE ' rate=[0-9.]+' "$TMP/heavy")"
  kill "$BPID"; wait "$BPID" 2>/dev/null; BPID=
}
for _ in $(seq "$PAIRS"); do one A "$A"; one B "$B"; done
