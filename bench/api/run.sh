#!/usr/bin/env bash
# Management-API throughput: authorized calls per second, signed V1 by a RAM
# user (every call verifies an HMAC, checks the nonce cache, authorizes with
# the policy engine, writes an audit record). Starts its own sluice on free
# ports with a fresh data dir, replays pre-signed requests with wrk.
# Usage: bench/api/run.sh [ListGroupId|ApplyToken|GetUser] [seconds] [connections]
# STORE=postgres: the control store in a throwaway PostgreSQL on this machine
# (scripts/pg.sh), as one node of a cluster would use it; default SQLite.
# PIN=1: Sluice on core 0, PostgreSQL and wrk on core 1, so that the figure is
# what one core of Sluice carries (a node whose database runs elsewhere).
set -euo pipefail
ACTION=${1:-ListGroupId}
SECS=${2:-10}
CONNS=${3:-32}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${SLUICE_BIN:-$HERE/../../build/sluice}
TMP=$(mktemp -d)
HTTP_PORT=$((20000 + RANDOM % 8000))
MQTT_PORT=$((HTTP_PORT + 1))
KEY_ID=LTAIbench$(openssl rand -hex 8)
SECRET=$(openssl rand -hex 15)
HTTP_THREADS=${HTTP_THREADS:-0}  # 0: the server's default
ON_SERVER=(); ON_LOAD=()
if [[ -n ${PIN:-} ]]; then ON_SERVER=(taskset -c 0); ON_LOAD=(taskset -c 1); fi
printf '[http]\nthreads = %s\n' "$HTTP_THREADS" > "$TMP/sluice.toml"
PG_ARGS=()
if [[ ${STORE:-sqlite} == postgres ]]; then
  PGDIR=$(mktemp -u -d /tmp/sluice-bench-pg-XXXXXX)  # outside $TMP: the server's user must reach it
  CONNINFO=$(PG_WATCH_PID=$$ "${ON_LOAD[@]}" "$HERE/../../scripts/pg.sh" start "$PGDIR")
  PG_ARGS=(--postgres "$CONNINFO")
  echo "store: PostgreSQL ($PGDIR)"
fi
# ApplyToken is limited to 100/s per account by default (the cloud's limit): lift it for the measurement.
SLUICE_API_RATE_LIMITS=ApplyToken=0 SLUICE_ROOT_ACCESS_KEY_ID=$KEY_ID SLUICE_ROOT_ACCESS_KEY_SECRET=$SECRET \
  "${ON_SERVER[@]}" "$BIN" serve --config "$TMP/sluice.toml" --data-dir "$TMP/data" --host 127.0.0.1 --http-port "$HTTP_PORT" --mqtt-port "$MQTT_PORT" \
  --log-level warn "${PG_ARGS[@]}" > "$TMP/log" 2>&1 &
PID=$!
echo "sluice pid $PID"
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; [[ -n ${PGDIR:-} ]] && "$HERE/../../scripts/pg.sh" stop "$PGDIR"; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz" && break; sleep 0.1; done
COUNT=$((SECS * 40000))
node "$HERE/gen.mjs" "http://127.0.0.1:$HTTP_PORT" "$KEY_ID" "$SECRET" "$ACTION" "$COUNT" "$TMP/requests.txt"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
T0=$(cpu_ticks)
SLUICE_API_REQUESTS="$TMP/requests.txt" WRK_THREADS=2 "${ON_LOAD[@]}" wrk -t2 -c"$CONNS" -d"${SECS}s" --latency \
  -s "$HERE/replay.lua" "http://127.0.0.1:$HTTP_PORT" | tee "$TMP/wrk.txt"
T1=$(cpu_ticks)
# Server CPU per request (user + system, all threads): the figure that does not depend on how busy
# the shared machine is; 1e6 / it is the calls per second one core sustains.
REQS=$(awk '/requests in/ {print $1}' "$TMP/wrk.txt")
awk -v t="$((T1 - T0))" -v hz="$(getconf CLK_TCK)" -v n="$REQS" \
  'BEGIN { us = t / hz * 1e6 / n; printf "server CPU per request: %.1f us  (=> %.0f calls/s per core)\n", us, 1e6 / us }'
