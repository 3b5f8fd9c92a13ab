#!/usr/bin/env bash
# Issue 19: what one outflow rule matching every message costs the broker, against
# the same load with no rule (goal: <= 1.3x), and how fast one rule drains to each
# target.
#
#   bench/rules_cost.sh [SLUICE_BINARY]        (default: build/sluice)
#   QOSES="0 1"  (the QoS levels of the cpu part)   KEEP=dir  (keeps each run's callgrind files)
#   PARTS="cpu tput"  TARGETS="webhook nats"  MSGS=10000 RATE=1000  TPUT_MSGS=50000
#   RUN_DIR=/tmp (where the brokers' data directories go; /dev/shm takes the disk out)
#
# cpu: callgrind instruction counts, Signature mode, fan-in 4 -> 1 at RATE msg/s,
#   --threads 1, QoS 0 and 1; no rule, then one rule `bench/#` to each target (a
#   webhook on bench/rules_receiver.py, a JetStream subject on a local nats-server;
#   each with the target's default LingerMs, or with -lN "LingerMs": N, e.g.
#   webhook-l0 (no linger), nats-l50; -linger is -l5; nats-bN: "Batch": N, NDJSON).
#   Two runs of different lengths per case; the difference cancels start-up and
#   shutdown: Ir/msg = (Ir_long - Ir_short) / (delivered_long - delivered_short).
#   Threads are counted apart (--separate-threads): the broker's own (event loops,
#   main), the rule's worker (RuleRunner::run), the broker store's writer
#   (BrokerStore::run) and its syncer (sync_loop), and the target client
#   library's threads (libnats).
# tput: TPUT_MSGS QoS 1 messages published as fast as they go (closed loop, fan-in
#   4 -> 1), through one rule; messages/s from the first publish until the rule's
#   sluice_rule_delivered_total reaches TPUT_MSGS (wall clock: noisy on a shared
#   machine), with the number of POSTs the receiver got (batching).
# rtt: RTT_PUBS (default 1) synchronous QoS 1 publishers (--inflight 1, closed loop, RTT_SECONDS,
#   default 5) with no rule and through each target: its messages/s (= 1 / the
#   round trip PUBLISH -> PUBACK, which waits for the store's fdatasync when a
#   rule matches) and the delivery latency percentiles. Not under callgrind.
set -uo pipefail
# The receivers run on loopback, which rules reach only when the operator allows it.
export SLUICE_RULES_ALLOWED_TARGET_NETWORKS=${SLUICE_RULES_ALLOWED_TARGET_NETWORKS:-127.0.0.0/8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/build/sluice-bench}
MSGS=${MSGS:-10000}; RATE=${RATE:-1000}; TPUT_MSGS=${TPUT_MSGS:-50000}
PARTS=${PARTS:-cpu tput}; RTT_SECONDS=${RTT_SECONDS:-5}; TARGETS=${TARGETS:-webhook webhook-l0 nats nats-l0}
BIN=${1:-$ROOT/build/sluice}
log() { echo "rules_cost: $*" >&2; }
die() { log "$*"; exit 1; }
[[ -x $BENCH ]] || die "build first: ninja -C build sluice sluice-bench"
TMP=$(mktemp -d "${RUN_DIR:-/tmp}/sluice-rcost.XXXXXX")  # RUN_DIR=/dev/shm: data on tmpfs (fdatasync ~free)
BPID= RPID= NATSDIR=
cleanup() {
  [[ -n $BPID ]] && kill "$BPID" 2>/dev/null
  [[ -n $RPID ]] && kill "$RPID" 2>/dev/null
  [[ -n $NATSDIR ]] && "$ROOT/scripts/nats.sh" stop "$NATSDIR" >/dev/null 2>&1
  wait 2>/dev/null; rm -rf "$TMP"
}
trap cleanup EXIT
# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

RPORT=$(free_port)
/usr/bin/python3 "$ROOT/bench/rules_receiver.py" "$RPORT" "$TMP/posts" &
RPID=$!
NATS_URL=
if [[ " $TARGETS " == *" nats"* ]]; then
  NATSDIR=$TMP/nats-server
  NATS_URL=$("$ROOT/scripts/nats.sh" start "$NATSDIR" 1 | cut -d, -f1) || die "nats-server did not start"
fi

DATA=$TMP/data
make_bench_tenant "$BIN" "$DATA"
cp -a "$DATA" "$TMP/norule"
config_of() {  # webhook | nats, with -lN: "LingerMs": N (-linger: 5); plain: the target's default linger
  local linger=
  case $1 in
    *-linger) linger=',"LingerMs":5' ;;
    *-l[0-9]*) linger=",\"LingerMs\":${1##*-l}" ;;
    *-b[0-9]*) linger=",\"Batch\":${1##*-b}" ;;  # nats: entries per JetStream message
  esac
  case $1 in
    webhook*) echo "{\"Url\":\"http://127.0.0.1:$RPORT/hook\"$linger}" ;;
    nats*) echo "{\"Url\":\"$NATS_URL\",\"Subject\":\"bench.out\",\"Stream\":\"BENCHOUT\"$linger}" ;;
  esac
}
for t in $TARGETS; do
  cp -a "$DATA" "$TMP/$t"
  "$BIN" admin --data-dir "$TMP/$t" rules --account bench --instance "$INST" create --name all --type outflow \
    --source 'bench/#' --target-type "${t%%-*}" --target-config "$(config_of "$t")" >/dev/null || die "$t rule not created"
done

publish() {  # port qos count rate
  "$BENCH" fanin --pubs 4 --qos "$2" --rate "$4" --count "$3" --duration 300 --port "$1" --quiet \
    -u "Signature|$AK|$INST" --sign-secret "$SK" --client-id-prefix GID_bench@@@ --topic-prefix bench/s | grep '^RESULT '
}
# Ir of a callgrind file (one thread's).
ir_of() { grep -E '^(summary|totals):' "$1" | head -1 | awk '{print $2+0}'; }

cg_run() {  # template qos msgs -> "BROKER WORKER WRITER SYNCER LIB DELIVERED"
  local tpl=$1 qos=$2 n=$3 port dir=$TMP/run out=$TMP/cg
  port=$(free_port)
  rm -rf "$dir" "$out"; mkdir -p "$out"
  cp -a "$TMP/$tpl" "$dir"
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out/cg.%p" "$BIN" serve --threads 1 \
    --host 127.0.0.1 --mqtt-port "$port" --http-port=-1 --log-level warn --data-dir "$dir" >/dev/null 2>&1 &
  BPID=$!
  wait_port "$port" "$BPID" 60 || die "$BIN did not start"
  local line
  line=$(publish "$port" "$qos" "$n" "$RATE")
  sleep 3  # the rule's worker delivers its backlog before the server stops
  kill "$BPID"; wait "$BPID" 2>/dev/null; BPID=
  [[ -n ${KEEP:-} ]] && mkdir -p "$KEEP/$tpl-q$qos-$n" && cp "$out"/cg.* "$KEEP/$tpl-q$qos-$n/"
  local broker=0 worker=0 store=0 syncer=0 lib=0 f ir
  for f in "$out"/cg.*; do
    ir=$(ir_of "$f"); ir=${ir:-0}
    if grep -q 'RuleRunner::run()' "$f"; then worker=$(( worker + ir ))
    elif grep -q 'BrokerStore::sync_loop()' "$f"; then syncer=$(( syncer + ir ))
    elif grep -q 'BrokerStore::run()' "$f"; then store=$(( store + ir ))
    elif grep -qE 'fn=.*(_readLoop|_flusher|_timerThread|_asyncCbsThread|_garbageCollector|natsThread|_deliverMsgs)' "$f" &&
         ! grep -q 'net::Worker::run()' "$f"; then lib=$(( lib + ir ))
    else broker=$(( broker + ir )); fi
  done
  echo "$broker $worker $store $syncer $lib $(grep -oE ' delivered=[0-9]+' <<<"$line" | cut -d= -f2)"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 == 0) print "n/a"; else printf "%.2f", b/a }'; }

if [[ " $PARTS " == *" cpu "* ]]; then
  command -v valgrind >/dev/null || die "needs valgrind"
  echo "### Instructions per message (callgrind; MSGS=$MSGS at $RATE msg/s, fan-in 4 -> 1)"
  echo
  echo "| QoS | rule | broker threads | ratio to no rule | whole process | ratio to no rule | rule worker | store writer | syncer | target library |"
  echo "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|"
  for qos in ${QOSES:-0 1}; do
    declare -A B=() W=() S=() Y=() L=() T=()
    for tpl in norule $TARGETS; do
      read -r b1 w1 s1 y1 l1 d1 < <(cg_run "$tpl" "$qos" $(( MSGS / 5 )))
      read -r b2 w2 s2 y2 l2 d2 < <(cg_run "$tpl" "$qos" "$MSGS")
      if [[ -n ${d1:-} && -n ${d2:-} ]] && (( d2 > d1 )); then
        local_d=$(( d2 - d1 ))
        B[$tpl]=$(( (b2 - b1) / local_d )); W[$tpl]=$(( (w2 - w1) / local_d ))
        S[$tpl]=$(( (s2 - s1) / local_d )); Y[$tpl]=$(( (y2 - y1) / local_d )); L[$tpl]=$(( (l2 - l1) / local_d ))
        T[$tpl]=$(( B[$tpl] + W[$tpl] + S[$tpl] + Y[$tpl] + L[$tpl] ))
      else
        B[$tpl]=nan; W[$tpl]=nan; S[$tpl]=nan; Y[$tpl]=nan; L[$tpl]=nan; T[$tpl]=nan; log "$tpl qos $qos failed"
      fi
      log "qos $qos $tpl: broker ${B[$tpl]} worker ${W[$tpl]} writer ${S[$tpl]} syncer ${Y[$tpl]} lib ${L[$tpl]} Ir/msg"
      echo "| $qos | $tpl | ${B[$tpl]} | $(ratio "${B[norule]}" "${B[$tpl]}") | ${T[$tpl]} | $(ratio "${T[norule]}" "${T[$tpl]}") | ${W[$tpl]} | ${S[$tpl]} | ${Y[$tpl]} | ${L[$tpl]} |"
    done
  done
  echo
fi

delivered_of() {  # http port -> the rule's delivered total
  curl -s "http://127.0.0.1:$1/metrics" | awk '/^sluice_rule_delivered_total/ {print $2+0}' | head -1
}
if [[ " $PARTS " == *" tput "* ]]; then
  echo "### Throughput through one rule (QoS 1, $TPUT_MSGS messages, closed loop, fan-in 4 -> 1)"
  echo
  echo "| target | publish msg/s | delivered to the target msg/s | ratio to the publish rate | POSTs (webhook) |"
  echo "|---|--:|--:|--:|--:|"
  for t in $TARGETS; do
    port=$(free_port); hport=$(free_port)
    rm -rf "$TMP/run"; cp -a "$TMP/$t" "$TMP/run"
    : >"$TMP/posts"
    "$BIN" serve --threads 1 --host 127.0.0.1 --mqtt-port "$port" --http-port "$hport" --log-level warn \
      --data-dir "$TMP/run" >/dev/null 2>&1 &
    BPID=$!
    wait_port "$port" "$BPID" 30 || die "$BIN did not start"
    t0=$(date +%s.%N)
    line=$(publish "$port" 1 "$TPUT_MSGS" 0)
    t1=$(date +%s.%N)
    got=0
    for _ in $(seq 1200); do
      got=$(delivered_of "$hport"); got=${got:-0}
      (( got >= TPUT_MSGS )) && break
      sleep 0.05
    done
    t2=$(date +%s.%N)
    kill "$BPID"; wait "$BPID" 2>/dev/null; BPID=
    posts=$( [[ $t == webhook* ]] && wc -l <"$TMP/posts" || echo "-")
    pub=$(awk -v n="$TPUT_MSGS" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n/(b-a) }')
    del=$(awk -v n="$got" -v a="$t0" -v b="$t2" 'BEGIN { printf "%.0f", n/(b-a) }')
    log "$t: published in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s, $got delivered in $(awk -v a="$t0" -v b="$t2" 'BEGIN{printf "%.2f", b-a}') s"
    echo "| $t | $pub | $del | $(ratio "$pub" "$del") | $posts |"
  done
fi

if [[ " $PARTS " == *" rtt "* ]]; then
  echo "### ${RTT_PUBS:-1} synchronous QoS 1 publisher(s) (--inflight 1, closed loop, ${RTT_SECONDS} s)"
  echo
  echo "| rule | publishes/s | round trip µs (1/rate) | delivery latency p50 / p99 µs |"
  echo "|---|--:|--:|--:|"
  for t in norule $TARGETS; do
    port=$(free_port)
    rm -rf "$TMP/run"; cp -a "$TMP/$t" "$TMP/run"
    "$BIN" serve --threads 1 --host 127.0.0.1 --mqtt-port "$port" --http-port=-1 --log-level warn \
      --data-dir "$TMP/run" >/dev/null 2>&1 &
    BPID=$!
    wait_port "$port" "$BPID" 30 || die "$BIN did not start"
    line=$("$BENCH" fanin --pubs "${RTT_PUBS:-1}" --qos 1 --inflight "${RTT_INFLIGHT:-1}" --window "${RTT_INFLIGHT:-1}" --duration "$RTT_SECONDS" --warmup 1 --port "$port" \
      --quiet -u "Signature|$AK|$INST" --sign-secret "$SK" --client-id-prefix GID_bench@@@ --topic-prefix bench/s |
      grep '^RESULT ')
    kill "$BPID"; wait "$BPID" 2>/dev/null; BPID=
    val() { grep -oE " $1=[0-9.]+" <<<"$line" | head -1 | cut -d= -f2; }
    rate=$(val pub_rate)
    rtt=$(awk -v r="${rate:-0}" 'BEGIN { if (r > 0) printf "%.0f", 1e6 / r; else print "n/a" }')
    log "rtt $t: $line"
    echo "| $t | ${rate:-?} | $rtt | $(val p50_us) / $(val p99_us) |"
  done
fi
