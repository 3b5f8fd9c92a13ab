#!/usr/bin/env bash
# Instructions per routed QoS 0 message (fan-in 4→1), anonymous and Signature mode, for
# one or more builds of Sluice: the figure to compare two builds, since callgrind counts
# instructions, not seconds, and machine noise barely moves it.
#
#   bench/callgrind_auth.sh [SLUICE_BINARY ...]     (default: build/sluice)
#
# Two runs of different lengths per broker and mode; the difference cancels start-up,
# connections and shutdown: Ir/msg = (Ir_long − Ir_short) / (delivered_long − delivered_short).
# MSGS (default 10000) and RATE (default 1000 msg/s) set the long run; the short run is MSGS/5.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/build/sluice-bench}
MSGS=${MSGS:-10000}; RATE=${RATE:-1000}
BINS=("$@"); ((${#BINS[@]})) || BINS=("$ROOT/build/sluice")
log() { echo "callgrind_auth: $*" >&2; }
die() { log "$*"; exit 1; }
[[ -x $BENCH ]] || die "build first: make build"
command -v valgrind >/dev/null || die "needs valgrind"

TMP=$(mktemp -d /tmp/sluice-cg.XXXXXX)
BPID=
cleanup() { [[ -n $BPID ]] && kill "$BPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

# One account, instance, topic and group for Signature mode (made with the first binary).
DATA=$TMP/data
make_bench_tenant "${BINS[0]}" "$DATA"

# Every run starts from a copy of the same data directory, already opened once (its
# migrations and first-start work done), so that no run pays for another's start-up.
serve_args() {  # mode dir port
  if [[ $1 == anon ]]; then echo "serve --allow-anonymous --threads 1 --host 127.0.0.1 --mqtt-port $3 --http-port=-1 --log-level warn --data-dir $2"
  else echo "serve --threads 1 --host 127.0.0.1 --mqtt-port $3 --http-port=-1 --log-level warn --data-dir $2"; fi
}
mkdir -p "$TMP/anon-template"
for mode in anon sig; do
  dir=$TMP/anon-template; [[ $mode == sig ]] && dir=$DATA
  port=$(free_port)
  # shellcheck disable=SC2046
  "${BINS[0]}" $(serve_args "$mode" "$dir" "$port") >/dev/null 2>&1 &
  BPID=$!; wait_port "$port" "$BPID" 60 || die "${BINS[0]} ($mode) did not start"; kill "$BPID"; wait "$BPID" 2>/dev/null; BPID=
done

run() {  # binary mode msgs -> prints "IR DELIVERED"
  local bin=$1 mode=$2 n=$3 out=$TMP/cg.out port creds=() dir=$TMP/run
  port=$(free_port)
  rm -rf "$out" "$dir"
  if [[ $mode == anon ]]; then
    cp -a "$TMP/anon-template" "$dir"
    creds=(--topic-prefix bench/a)
  else
    cp -a "$DATA" "$dir"
    creds=(-u "Signature|$AK|$INST" --sign-secret "$SK" --client-id-prefix GID_bench@@@ --topic-prefix bench/s)
  fi
  # shellcheck disable=SC2046
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" $(serve_args "$mode" "$dir" "$port") >/dev/null 2>&1 &
  BPID=$!
  wait_port "$port" "$BPID" 60 || die "$bin ($mode) did not start"
  local line
  line=$("$BENCH" fanin --pubs 4 --qos 0 --rate "$RATE" --count "$n" --duration 120 --port "$port" --quiet "${creds[@]}" |
         grep '^RESULT ')
  kill "$BPID"; wait "$BPID" 2>/dev/null; BPID=
  echo "$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}') $(grep -oE ' delivered=[0-9]+' <<<"$line" | cut -d= -f2)"
}

echo "| build | Ir/msg anonymous | Ir/msg Signature | Signature / anonymous |"
echo "|---|--:|--:|--:|"
for bin in "${BINS[@]}"; do
  declare -A ir=()
  for mode in anon sig; do
    read -r i1 d1 < <(run "$bin" "$mode" $(( MSGS / 5 )))
    read -r i2 d2 < <(run "$bin" "$mode" "$MSGS")
    if [[ -n $i1 && -n $i2 && -n $d1 && -n $d2 ]] && (( d2 > d1 && i2 > i1 )); then
      ir[$mode]=$(( (i2 - i1) / (d2 - d1) ))
    else
      ir[$mode]=nan; log "$bin $mode failed ($i1 $d1 / $i2 $d2)"
    fi
    log "$bin $mode: ${ir[$mode]} Ir/msg"
  done
  echo "| $bin | ${ir[anon]} | ${ir[sig]} | $(awk -v a="${ir[anon]}" -v s="${ir[sig]}" 'BEGIN { if (a+0 == 0) print "n/a"; else printf "%.3f", s/a }') |"
done
