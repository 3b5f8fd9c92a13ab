#!/usr/bin/env bash
# Recovery time with N queued offline messages (issue #7: 1,000,000 in at most 10 s).
#
#   bench/recovery.sh [N]        default N=1000000
#
# 1. starts Sluice on a fresh data dir (fsync batch, the default) with a queue limit of N;
# 2. an offline persistent session subscribes to rec/# (mosquitto_sub -c -E);
# 3. N QoS 1 messages are published through the broker (bench/fill_queue.py, Paho), each PUBACK
#    held until the message is committed: the write rate to an offline session;
# 4. kill -9, then a restart on the same data dir: start-up time (process start to the
#    MQTT port accepting) and the broker's own "recovered in" figure;
# 5. the session is drained and every message counted (DRAIN=0 skips it).
# Environment: SLUICE (build/sluice), PORT (random), DRAIN (1), FSYNC (batch), KEEP (0).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SLUICE=${SLUICE:-$ROOT/build/sluice}
N=${1:-1000000}
PORT=${PORT:-$(( 20000 + RANDOM % 10000 ))}
DRAIN=${DRAIN:-1}
FSYNC=${FSYNC:-batch}
DIR=$(mktemp -d /tmp/sluice-recovery.XXXXXX)
PID=
cleanup() {
  [[ -n $PID ]] && kill -9 "$PID" 2>/dev/null || true
  [[ ${KEEP:-0} == 1 ]] && echo "kept $DIR" >&2 || rm -rf "$DIR"
}
trap cleanup EXIT

start() {
  local t0 t1
  t0=$(date +%s.%N)
  SLUICE_BROKER_MAX_QUEUED_MESSAGES=$N SLUICE_BROKER_MAX_QUEUED_BYTES=0 "$SLUICE" serve --allow-anonymous --threads 2 --host 127.0.0.1 \
    --mqtt-port "$PORT" --http-port=-1 --data-dir "$DIR/data" --fsync "$FSYNC" --log-level info \
    >>"$DIR/sluice.log" 2>&1 &
  PID=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
    kill -0 "$PID" 2>/dev/null || { tail -5 "$DIR/sluice.log" >&2; exit 1; }
    sleep 0.02
  done
  t1=$(date +%s.%N)
  STARTUP=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

start
mosquitto_sub -p "$PORT" -i rec-sub -c -q 1 -t 'rec/#' -E
t0=$(date +%s.%N)
/usr/bin/python3 "$ROOT/bench/fill_queue.py" "$PORT" "$N" rec/t "${FILL_PROCS:-3}"
t1=$(date +%s.%N)
FILL_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
FILL_RATE=$(awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN { printf "%.0f", n / (b - a) }')
DB_MB=$(du -sm "$DIR/data" | cut -f1)
kill -9 "$PID"; wait "$PID" 2>/dev/null || true
start
RECOVERED=$(grep -o 'broker state recovered in [0-9]* ms: [^(]*' "$DIR/sluice.log" | tail -1)
RSS_MB=$(( $(awk '/VmRSS/ {print $2}' "/proc/$PID/status") / 1024 ))
echo "RESULT n=$N fill_s=$FILL_S fill_rate=$FILL_RATE db_mb=$DB_MB startup_s=$STARTUP rss_mb=$RSS_MB fsync=$FSYNC"
echo "  ($RECOVERED)"
if [[ $DRAIN == 1 ]]; then
  t0=$(date +%s.%N)
  GOT=$(timeout 600 mosquitto_sub -p "$PORT" -i rec-sub -c -q 1 -t 'rec/#' -C "$N" -W 300 | wc -l)
  t1=$(date +%s.%N)
  echo "RESULT drained=$GOT of $N in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
  (( GOT == N )) || { echo "recovery.sh: $(( N - GOT )) messages missing" >&2; exit 2; }
fi
