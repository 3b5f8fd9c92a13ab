#!/usr/bin/env bash
# Issue 20: Sluice's instructions per delivered message, QoS 0 fan-in 4 -> 1 at a fixed
# offered rate (anonymous, --threads 1, under callgrind, so the rate is what a
# broker ~50x slower batches like a native one at ~50x the rate). Two runs of
# different lengths per rate; the difference cancels start-up and shutdown:
# Ir/msg = (Ir_long - Ir_short) / (delivered_long - delivered_short). Also prints
# the broker's system calls per message (strace -c is not used: counts come from
# the same callgrind runs' wake-ups would distort; see docs/benchmarks.md).
#
#   bench/callgrind_fanin.sh [SLUICE_BINARY]          RATES="1000 20000" MSGS=20000 QOS=0
#   KEEP=dir bench/callgrind_fanin.sh                 keeps the long runs' profiles (callgrind_annotate)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/build/sluice-bench}
BIN=${1:-$ROOT/build/sluice}
RATES=${RATES:-1000 20000}; MSGS=${MSGS:-20000}; QOS=${QOS:-0}; PUBS=${PUBS:-4}
KEEP=${KEEP:-}
TMP=$(mktemp -d /tmp/sluice-cgf.XXXXXX)
BPID=
trap '[[ -n $BPID ]] && kill $BPID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
run() {  # rate msgs -> "IR DELIVERED"
  local port=$(( 20000 + RANDOM % 12000 )) out=$TMP/cg.$1.$2
  valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" serve --allow-anonymous --threads 1 \
    --host 127.0.0.1 --mqtt-port "$port" --http-port=-1 --log-level warn --data-dir "$TMP/d$port" >/dev/null 2>&1 &
  BPID=$!
  for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  local line
  line=$("$BENCH" fanin --pubs "$PUBS" --qos "$QOS" --rate "$1" --count "$2" --duration 300 --port "$port" --quiet |
         grep '^RESULT ')
  kill "$BPID"; wait "$BPID" 2>/dev/null; BPID=
  [[ -n $KEEP ]] && mkdir -p "$KEEP" && cp "$out" "$KEEP/"
  echo "$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}') $(grep -oE ' delivered=[0-9]+' <<<"$line" | cut -d= -f2)"
}
for r in $RATES; do
  read -r i1 d1 < <(run "$r" $(( MSGS / 4 )))
  read -r i2 d2 < <(run "$r" "$MSGS")
  if (( d2 > d1 && i2 > i1 )); then
    echo "rate=$r qos=$QOS ir_per_msg=$(( (i2 - i1) / (d2 - d1) )) (delivered $d1 / $d2)"
  else
    echo "rate=$r failed ($i1 $d1 $i2 $d2)"
  fi
done
