#!/usr/bin/env bash
# Sluice against Debian's mosquitto, side by side, on this machine; and against FlashMQ
# too when FLASHMQ=path/to/flashmq is given (bench/peers/flashmq.sh builds one).
#
#   bench/compare.sh [OUT.md]        full run (~12 min), markdown to stdout (and OUT.md)
#   QUICK=1 bench/compare.sh         every scenario once, briefly (smoke test, ~2 min)
#   CALLGRIND=1 bench/compare.sh     also instructions per delivered message under callgrind
#
# Each broker runs on core $BROKER_CPU and the load tool on core $LOAD_CPU (taskset),
# one broker thread each. Scenarios alternate between the brokers (A B A B ...) so
# drift in machine load hits both alike; each figure is the median of $REPS runs.
# See docs/benchmarks.md for what every figure means.
#
# Environment: REPS (3), DURATION (6 s measured), WARMUP (2 s), CONNS (50000, capped by
# the fd limit), BROKERS ("mosquitto sluice", plus "flashmq" when FLASHMQ is set), BENCH,
# SLUICE, MOSQUITTO, FLASHMQ (unset: FlashMQ is not run; CI never needs it), SLUICE_ARGS,
# BROKER_CPU (0), LOAD_CPU (1), CALLGRIND_MSGS (5000), CALLGRIND_RATE (1000),
# ISSUE20 (1: also QoS 0 fan-in at 50k/200k/400k, QoS 1 at 60k, fan-out QoS 1),
# ONLY (regex of scenario ids to run, e.g. 'cost_.*|conns'; ids are in SCENARIOS and
# DURABLE_SCENARIOS below, plus connrate, conns, callgrind).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/build/sluice-bench}
SLUICE=${SLUICE:-$ROOT/build/sluice}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
# Loopback only, no management HTTP listener (its default port may be taken), quiet logs.
SLUICE_ARGS=${SLUICE_ARGS:---host 127.0.0.1 --http-port=-1 --log-level warn}
FLASHMQ=${FLASHMQ:-}
if [[ -n $FLASHMQ ]]; then BROKERS=${BROKERS:-mosquitto sluice flashmq}; else BROKERS=${BROKERS:-mosquitto sluice}; fi
BROKER_CPU=${BROKER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
QUICK=${QUICK:-0}
CALLGRIND=${CALLGRIND:-0}
CALLGRIND_MSGS=${CALLGRIND_MSGS:-5000}
CALLGRIND_RATE=${CALLGRIND_RATE:-1000}  # slow enough for a broker running ~50x slower under valgrind
if [[ $QUICK == 1 ]]; then
  REPS=${REPS:-1}; DURATION=${DURATION:-2}; WARMUP=${WARMUP:-0.5}; CONNS=${CONNS:-2000}; HOLD=${HOLD:-1}
else
  REPS=${REPS:-3}; DURATION=${DURATION:-6}; WARMUP=${WARMUP:-2}; CONNS=${CONNS:-50000}; HOLD=${HOLD:-3}
fi
ONLY=${ONLY:-.*}
OUT=${1:-}

log() { echo "compare: $*" >&2; }
die() { log "$*"; exit 1; }

[[ -x $BENCH ]] || die "no load tool at $BENCH (build it: ninja -C build sluice-bench)"
[[ -x $MOSQUITTO ]] || die "no mosquitto at $MOSQUITTO (apt-get install mosquitto)"
command -v taskset >/dev/null || die "taskset missing (util-linux)"

TMP=$(mktemp -d /tmp/sluice-compare.XXXXXX)
RESULTS=$TMP/results.txt   # "<scenario> <broker> <rep> RESULT key=value ..."
: >"$RESULTS"
PIDS=()

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  wait 2>/dev/null
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every connection is a descriptor in both the broker and the tool: use the hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
FD_LIMIT=$(ulimit -n)
CONNS_NOTE=""
if (( CONNS + 200 > FD_LIMIT )); then
  CONNS_NOTE="asked for $CONNS, capped by the open-files hard limit $FD_LIMIT"
  CONNS=$(( FD_LIMIT - 200 ))
fi

# Any socket on the port, not only listeners: a connection's local port blocks bind() too.
port_in_use() { ss -Htan "sport = :$1" 2>/dev/null | grep -q .; }
free_port() {
  local p
  for _ in $(seq 200); do
    # Below the ephemeral range (32768+), which the load tool's connections churn through.
    p=$(( 20000 + RANDOM % 12000 ))
    port_in_use "$p" || { echo "$p"; return; }
  done
  die "no free port"
}
wait_port() {  # port timeout_s pid
  local deadline=$(( SECONDS + $2 ))
  while (( SECONDS < deadline )); do
    kill -0 "$3" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# start_broker NAME [WRAPPER...]: starts it on a fresh port; sets BPID and BPORT.
start_broker() {
  local name=$1; shift
  BPORT=$(free_port)
  local dir=$TMP/$name-$BPORT
  mkdir -p "$dir"
  case $name in
    mosquitto)
      # set_tcp_nodelay: send each message at once, as Sluice does (latency figures).
      # max_queued_messages 0: mosquitto 2.0.11 drops in-window QoS 1 messages for a
      # subscriber fed by several publishers at the default limit (1000) although at
      # most a few hundred are queued (the load tool bounds it); 0 = no limit.
      # user: stay the invoking user (started as root, mosquitto would switch to
      # "mosquitto" and could not write its log or a callgrind profile here).
      local persistence="persistence false"
      # Durable runs: mosquitto's persistence on (in-memory state saved to mosquitto.db
      # every autosave_interval, 1800 s by default, and at shutdown; it never fsyncs per
      # message). Sluice's default fsync=batch is what it is compared with.
      [[ ${PERSIST:-0} == 1 ]] && persistence="persistence true
persistence_location $dir/"
      cat >"$dir/mosquitto.conf" <<EOF
user $(id -un)
listener $BPORT 127.0.0.1
allow_anonymous true
$persistence
set_tcp_nodelay true
max_queued_messages 0
log_dest file $dir/mosquitto.log
log_type error
log_type warning
EOF
      taskset -c "$BROKER_CPU" "$@" "$MOSQUITTO" -c "$dir/mosquitto.conf" >"$dir/out.log" 2>&1 &
      ;;
    flashmq)
      # The same terms as mosquitto: one thread, loopback, TCP_NODELAY (FlashMQ's default
      # is off), no QoS 1 queue limit in the way of the load tool's window (its maximum,
      # 65535), open-files limit as ours (it asks for 1M and logs an error otherwise).
      local fpersist=""
      [[ ${PERSIST:-0} == 1 ]] && fpersist="storage_dir $dir/"
      cat >"$dir/flashmq.conf" <<EOF
thread_count 1
allow_anonymous true
log_file $dir/flashmq.log
log_level warning
rlimit_nofile $(ulimit -Hn)
max_qos_msg_pending_per_client 65535
$fpersist
listen {
  protocol mqtt
  port $BPORT
  inet4_bind_address 127.0.0.1
  tcp_nodelay true
}
EOF
      taskset -c "$BROKER_CPU" "$@" "$FLASHMQ" --config-file "$dir/flashmq.conf" >"$dir/out.log" 2>&1 &
      ;;
    sluice)
      # shellcheck disable=SC2086
      taskset -c "$BROKER_CPU" "$@" "$SLUICE" serve --allow-anonymous --threads 1 --mqtt-port "$BPORT" \
        --data-dir "$dir/data" --fsync "${SLUICE_FSYNC:-batch}" $SLUICE_ARGS >"$dir/out.log" 2>&1 &
      ;;
  esac
  BPID=$!
  PIDS+=("$BPID")
  local wait_s=10
  [[ $# -gt 0 ]] && wait_s=60  # under valgrind
  if ! wait_port "$BPORT" "$wait_s" "$BPID"; then
    log "$name did not start listening on $BPORT; its output:"
    grep -v '^==[0-9]*==' "$dir/out.log" | tail -5 >&2
    stop_broker "$BPID"
    return 1
  fi
}

stop_broker() {
  kill "$1" 2>/dev/null
  for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  local p keep=()
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# run_bench SCENARIO_ID BROKER REP PORT PID ARGS...: one load run; appends its RESULT line.
run_bench() {
  local id=$1 broker=$2 rep=$3 port=$4 pid=$5; shift 5
  local out
  out=$(taskset -c "$LOAD_CPU" "$BENCH" "$@" --port "$port" --broker-pid "$pid" --quiet 2>&1)
  local rc=$?
  local line
  line=$(grep '^RESULT ' <<<"$out" | tail -1)
  if [[ -z $line ]]; then
    log "$id on $broker failed (exit $rc): $(tail -2 <<<"$out" | tr '\n' ' ')"
    line="RESULT failed=1"
  elif (( rc != 0 )); then
    log "$id on $broker: exit $rc ($(grep -o 'lost=[0-9]*' <<<"$line") $(grep -o 'failed=[0-9]*' <<<"$line")) $(grep -m1 '^sluice-bench:' <<<"$out")"
  fi
  echo "$id $broker $rep $line rc=$rc" >>"$RESULTS"
  log "$id $broker #$rep: $(grep -oE ' (rate|broker_us_per_msg|p99_us|rss_per_conn_bytes|ok|lost)=[0-9.]+' <<<"$line" | tr -d '\n')"
}

# --- which brokers can run -----------------------------------------------------
ACTIVE=()
for b in $BROKERS; do
  case $b in
    mosquitto) ACTIVE+=(mosquitto) ;;
    sluice)
      if [[ ! -x $SLUICE ]]; then
        log "Sluice not built ($SLUICE): measuring mosquitto only"
      elif start_broker sluice; then
        stop_broker "$BPID"; ACTIVE+=(sluice)
      else
        log "Sluice does not start: measuring mosquitto only"
      fi ;;
    flashmq)
      if [[ -z $FLASHMQ || ! -x $FLASHMQ ]]; then
        log "no FlashMQ binary (FLASHMQ=${FLASHMQ:-unset}; bench/peers/flashmq.sh builds one): skipping it"
      elif start_broker flashmq; then
        stop_broker "$BPID"; ACTIVE+=(flashmq)
      else
        log "FlashMQ does not start: skipping it"
      fi ;;
    *) die "unknown broker $b" ;;
  esac
done
have() { local b; for b in "${ACTIVE[@]}"; do [[ $b == "$1" ]] && return 0; done; return 1; }
selected() { [[ $1 =~ ^($ONLY)$ ]]; }

# --- pub/sub scenarios ----------------------------------------------------------
# id | sluice-bench arguments. Fixed-rate rows measure cost per message and latency;
# closed-loop rows measure maximum throughput.
D="--duration $DURATION --warmup $WARMUP"
SCENARIOS=(
  "cost_fanin_q0|fanin --pubs 4 --qos 0 --rate 100000 $D"
  "cost_fanin_q1|fanin --pubs 4 --qos 1 --rate 30000 $D"
  "cost_fanout_q0|fanout --subs 100 --qos 0 --rate 1000 $D"
  "max_fanin_q0|fanin --pubs 4 --qos 0 $D"
  "max_fanin_q1|fanin --pubs 4 --qos 1 $D"
  "max_fanout_q0|fanout --subs 100 --qos 0 $D"
  "max_pairs_q1|pairs --pubs 10 --qos 1 $D"
  "lat_fanin_q0|fanin --pubs 4 --qos 0 --rate 5000 $D"
  "lat_fanin_q1|fanin --pubs 4 --qos 1 --rate 5000 $D"
)

# ISSUE20=1 adds the rates issue 20 asks for (CPU per delivered message at each offered load).
if [[ ${ISSUE20:-0} == 1 ]]; then
  SCENARIOS+=(
    "cost_fanin_q0_50k|fanin --pubs 4 --qos 0 --rate 50000 $D"
    "cost_fanin_q0_200k|fanin --pubs 4 --qos 0 --rate 200000 $D"
    "cost_fanin_q0_400k|fanin --pubs 4 --qos 0 --rate 400000 $D"
    "cost_fanin_q1_60k|fanin --pubs 4 --qos 1 --rate 60000 $D"
    "cost_fanout_q1|fanout --subs 100 --qos 1 --rate 1000 $D"
  )
fi

# QoS 1 to persistent sessions (subscribers with clean start off), brokers with their
# persistence on: fresh brokers, after the runs above.
DURABLE_SCENARIOS=(
  "dur_fanin_q1|fanin --pubs 4 --qos 1 --persistent-subs $D"
  "dur_pairs_q1|pairs --pubs 10 --qos 1 --persistent-subs $D"
)

# run_scenarios REP "id|args"...: each selected scenario once on every running broker
# (PORT/PID), alternating which broker goes first so neither always follows the other.
run_scenarios() {
  local rep=$1 s id args b order
  shift
  for s in "$@"; do
    id=${s%%|*}; args=${s#*|}
    selected "$id" || continue
    order=("${ACTIVE[@]}")
    (( rep % 2 == 0 )) && mapfile -t order < <(printf "%s\n" "${ACTIVE[@]}" | tac)
    for b in "${order[@]}"; do
      # shellcheck disable=SC2086
      run_bench "$id" "$b" "$rep" "${PORT[$b]}" "${PID[$b]}" $args
    done
  done
}

START=$SECONDS
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A PORT PID
for b in "${ACTIVE[@]}"; do
  start_broker "$b" || die "$b did not start"
  PORT[$b]=$BPORT; PID[$b]=$BPID
done
for rep in $(seq "$REPS"); do
  run_scenarios "$rep" "${SCENARIOS[@]}"
  # Connection setup rate (a fresh connection each cycle).
  selected connrate && for b in "${ACTIVE[@]}"; do
    run_bench connrate "$b" "$rep" "${PORT[$b]}" "${PID[$b]}" connrate --duration "$(( ${DURATION%.*} / 2 + 1 ))" --warmup 0.5
  done
done
for b in "${ACTIVE[@]}"; do stop_broker "${PID[$b]}"; done

# --- durable: brokers restarted with persistence on --------------------------------
dur_any=0
for s in "${DURABLE_SCENARIOS[@]}"; do selected "${s%%|*}" && dur_any=1; done
if (( dur_any )); then
  for b in "${ACTIVE[@]}"; do
    PERSIST=1 start_broker "$b" || die "$b did not start with persistence"
    PORT[$b]=$BPORT; PID[$b]=$BPID
  done
  for rep in $(seq "$REPS"); do
    run_scenarios "$rep" "${DURABLE_SCENARIOS[@]}"
  done
  for b in "${ACTIVE[@]}"; do stop_broker "${PID[$b]}"; done
fi

# --- idle connections: a fresh broker each time, so freed memory from the --------
# --- message runs doesn't hide the cost -----------------------------------------
selected conns && for rep in $(seq "$REPS"); do
  for b in "${ACTIVE[@]}"; do
    start_broker "$b" || continue
    sleep 0.5
    run_bench conns "$b" "$rep" "$BPORT" "$BPID" conns --conns "$CONNS" --hold "$HOLD"
    stop_broker "$BPID"
  done
done

# --- callgrind: instructions per delivered message ------------------------------
# Two runs of different lengths at a low rate; the difference cancels startup,
# connection and shutdown costs: Ir/msg = (Ir_long - Ir_short) / (delivered_long - delivered_short).
callgrind_ir() {  # broker msgs -> sets CG_IR and CG_DELIVERED (no subshell: PIDS must see the broker)
  local b=$1 n=$2 out=$TMP/callgrind.$1.$2
  CG_IR=0; CG_DELIVERED=0
  start_broker "$b" valgrind --tool=callgrind --callgrind-out-file="$out" || return 1
  local line
  line=$(taskset -c "$LOAD_CPU" "$BENCH" fanin --pubs 4 --qos 0 --rate "$CALLGRIND_RATE" --count "$n" --duration 120 \
           --port "$BPORT" --quiet | grep '^RESULT ')
  stop_broker "$BPID"
  CG_IR=$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}')
  CG_DELIVERED=$(grep -oE ' delivered=[0-9]+' <<<"$line" | cut -d= -f2)
  CG_IR=${CG_IR:-0}; CG_DELIVERED=${CG_DELIVERED:-0}
}
if [[ $CALLGRIND == 1 ]] && selected callgrind; then
  command -v valgrind >/dev/null || die "CALLGRIND=1 needs valgrind"
  for b in "${ACTIVE[@]}"; do
    callgrind_ir "$b" $(( CALLGRIND_MSGS / 5 )); ir1=$CG_IR; d1=$CG_DELIVERED
    callgrind_ir "$b" "$CALLGRIND_MSGS"; ir2=$CG_IR; d2=$CG_DELIVERED
    # Both runs must have worked, or the difference would include startup.
    if (( d1 > 0 && ir1 > 0 && d2 > d1 && ir2 > ir1 )); then
      echo "callgrind $b 1 RESULT ir_per_msg=$(( (ir2 - ir1) / (d2 - d1) )) rc=0" >>"$RESULTS"
    else
      log "callgrind on $b failed"
    fi
  done
fi
ELAPSED=$(( SECONDS - START ))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ---------------------------------------------------------------------
# median ID BROKER KEY: median over repetitions of KEY in RESULT lines ("n/a" if none).
# Runs with failed connections are left out, except idle-connection runs: their RSS
# per connection divides by the connections that did succeed.
median() {
  local skip=' failed=[1-9]'
  [[ $1 == conns ]] && skip='^$'
  { grep -E "^$1 $2 " "$RESULTS" | grep -v -- "$skip" | grep -oE " $3=[0-9.]+" || true; } | cut -d= -f2 | sort -g |
    awk '{a[NR]=$1} END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'
}
# Cell for broker b (n/a when it did not run).
cell() { if have "$2"; then median "$1" "$2" "$3"; else echo "n/a"; fi; }
fmt() {  # number decimals
  [[ $1 == n/a ]] && { echo "n/a"; return; }
  LC_ALL=C printf "%.${2}f" "$1" 2>/dev/null || echo "$1"
}
ratio() {  # sluice mosquitto
  [[ $1 == n/a || $2 == n/a ]] && { echo "—"; return; }
  # A zero on either side is a run that measured nothing (no message delivered), not a
  # ratio of 0: "—" rather than a figure that reads as infinitely better.
  awk -v s="$1" -v m="$2" 'BEGIN { if (m > 0 && s > 0) printf "%.2f", s / m; else print "—" }'
}
# Which side held a closed-loop run back: the one near 100 % of its core. Neither
# means the machine was busy (both starved) — rerun when it is quiet.
limit() {  # id broker
  local b t
  b=$(cell "$1" "$2" broker_cpu_pct); t=$(cell "$1" "$2" tool_cpu_pct)
  [[ $b == n/a || $t == n/a ]] && { echo "—"; return; }
  awk -v b="$b" -v t="$t" 'BEGIN { if (b >= 90) print "broker"; else if (t >= 90) print "tool"; else print "neither" }'
}
losses() {  # id broker: total lost over reps, flags QoS>=1 loss
  { grep -E "^$1 $2 " "$RESULTS" | grep -oE ' lost=[0-9]+' || true; } | cut -d= -f2 | awk '{t+=$1} END {print t+0}'
}

report() {
  local commit cpu
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
  echo "### Sluice vs mosquitto — $(date -u +%Y-%m-%d) (commit $commit)"
  echo
  local cmd="REPS=$REPS DURATION=$DURATION WARMUP=$WARMUP"
  [[ $QUICK == 1 ]] && cmd+=" QUICK=1"
  [[ $CALLGRIND == 1 ]] && cmd+=" CALLGRIND=1"
  [[ $ONLY != '.*' ]] && cmd+=" ONLY='$ONLY'"
  echo "\`$cmd bench/compare.sh\`" \
       "on $(nproc) × $cpu; broker on core $BROKER_CPU, load tool on core $LOAD_CPU;" \
       "mosquitto $("$MOSQUITTO" -h 2>/dev/null | head -1 | awk '{print $3}'); medians of $REPS; ${ELAPSED}s;" \
       "load average before $LOAD_BEFORE, after $LOAD_AFTER (this run adds ~2; much more means other work shared the cores)."
  have sluice || echo "**Sluice was not runnable for this run: only mosquitto was measured.**"
  echo
  echo "#### Broker CPU per delivered message (fixed offered load)"
  echo
  echo "| scenario | offered | mosquitto µs/msg | Sluice µs/msg | Sluice/mosquitto | delivered/s mosquitto / Sluice |"
  echo "|---|---|--:|--:|--:|--:|"
  local row id name offered m s
  for row in "cost_fanin_q0|fan-in 4→1, QoS 0|100,000 msg/s" "cost_fanin_q1|fan-in 4→1, QoS 1|30,000 msg/s" \
             "cost_fanout_q0|fan-out 1→100, QoS 0|1,000 pub/s = 100,000 deliveries/s"; do
    IFS='|' read -r id name offered <<<"$row"
    m=$(cell "$id" mosquitto broker_us_per_msg); s=$(cell "$id" sluice broker_us_per_msg)
    echo "| $name | $offered | $(fmt "$m" 2) | $(fmt "$s" 2) | $(ratio "$s" "$m") |" \
         "$(fmt "$(cell "$id" mosquitto rate)" 0) / $(fmt "$(cell "$id" sluice rate)" 0) |"
  done
  echo
  echo "#### Maximum throughput (closed loop)"
  echo
  echo "| scenario | mosquitto msg/s | Sluice msg/s | Sluice/mosquitto | broker CPU % m / S | load tool CPU % m / S | limit m / S | p99 µs m / S |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|"
  for row in "max_fanin_q0|fan-in 4→1, QoS 0" "max_fanin_q1|fan-in 4→1, QoS 1" \
             "max_fanout_q0|fan-out 1→100, QoS 0 (deliveries)" "max_pairs_q1|10 pairs, QoS 1"; do
    IFS='|' read -r id name <<<"$row"
    m=$(cell "$id" mosquitto rate); s=$(cell "$id" sluice rate)
    echo "| $name | $(fmt "$m" 0) | $(fmt "$s" 0) | $(ratio "$s" "$m") |" \
         "$(fmt "$(cell "$id" mosquitto broker_cpu_pct)" 0) / $(fmt "$(cell "$id" sluice broker_cpu_pct)" 0) |" \
         "$(fmt "$(cell "$id" mosquitto tool_cpu_pct)" 0) / $(fmt "$(cell "$id" sluice tool_cpu_pct)" 0) |" \
         "$(limit "$id" mosquitto) / $(limit "$id" sluice) |" \
         "$(fmt "$(cell "$id" mosquitto p99_us)" 0) / $(fmt "$(cell "$id" sluice p99_us)" 0) |"
  done
  echo
  echo "#### QoS 1 to persistent sessions, persistence on (closed loop)"
  echo
  local sluice_mode="PUBACK once the fdatasync covering its group commit returned; commits pipeline behind the fsync"
  [[ ${SLUICE_FSYNC:-batch} == always ]] && sluice_mode="PUBACK after the group commit was fsynced, one commit at a time"
  [[ ${SLUICE_FSYNC:-batch} == off ]] && sluice_mode="PUBACK without waiting for the writer"
  echo "mosquitto: \`persistence true\` (a snapshot every autosave_interval and at shutdown; no per-message" \
       "write, so an acknowledged message is lost on kill -9). Sluice: \`fsync ${SLUICE_FSYNC:-batch}\`" \
       "($sluice_mode). See docs/reliability.md."
  echo
  echo "| scenario | mosquitto msg/s | Sluice msg/s | Sluice/mosquitto | broker CPU % m / S | p99 µs m / S |"
  echo "|---|--:|--:|--:|--:|--:|"
  for row in "dur_fanin_q1|fan-in 4→1, QoS 1, persistent subscriber" "dur_pairs_q1|10 pairs, QoS 1, persistent subscribers"; do
    IFS='|' read -r id name <<<"$row"
    m=$(cell "$id" mosquitto rate); s=$(cell "$id" sluice rate)
    echo "| $name | $(fmt "$m" 0) | $(fmt "$s" 0) | $(ratio "$s" "$m") |" \
         "$(fmt "$(cell "$id" mosquitto broker_cpu_pct)" 0) / $(fmt "$(cell "$id" sluice broker_cpu_pct)" 0) |" \
         "$(fmt "$(cell "$id" mosquitto p99_us)" 0) / $(fmt "$(cell "$id" sluice p99_us)" 0) |"
  done
  echo
  echo "#### Latency at a fixed 5,000 msg/s (fan-in 4→1)"
  echo
  echo "| QoS | mosquitto p50 / p99 / p99.9 µs | Sluice p50 / p99 / p99.9 µs | Sluice/mosquitto (p99) |"
  echo "|---|--:|--:|--:|"
  local q b
  for q in 0 1; do
    id=lat_fanin_q$q
    local cells=()
    for b in mosquitto sluice; do
      cells+=("$(fmt "$(cell "$id" "$b" p50_us)" 0) / $(fmt "$(cell "$id" "$b" p99_us)" 0) / $(fmt "$(cell "$id" "$b" p999_us)" 0)")
    done
    echo "| $q | ${cells[0]} | ${cells[1]} | $(ratio "$(cell "$id" sluice p99_us)" "$(cell "$id" mosquitto p99_us)") |"
  done
  echo
  echo "#### Connections"
  echo
  echo "| figure | mosquitto | Sluice | Sluice/mosquitto |"
  echo "|---|--:|--:|--:|"
  m=$(cell conns mosquitto rss_per_conn_bytes); s=$(cell conns sluice rss_per_conn_bytes)
  echo "| RSS per idle connection, bytes ($CONNS connections$( [[ -n $CONNS_NOTE ]] && echo ", $CONNS_NOTE")) | $(fmt "$m" 0) | $(fmt "$s" 0) | $(ratio "$s" "$m") |"
  echo "| idle connections established | $(fmt "$(cell conns mosquitto ok)" 0) | $(fmt "$(cell conns sluice ok)" 0) | |"
  m=$(cell connrate mosquitto rate); s=$(cell connrate sluice rate)
  echo "| connect + CONNACK + disconnect per second (8 in flight) | $(fmt "$m" 0) | $(fmt "$s" 0) | $(ratio "$s" "$m") |"
  if [[ $CALLGRIND == 1 ]]; then
    echo
    echo "#### Instructions per delivered message (callgrind, fan-in 4→1 QoS 0 at $CALLGRIND_RATE msg/s)"
    echo
    echo "| | mosquitto | Sluice | Sluice/mosquitto |"
    echo "|---|--:|--:|--:|"
    m=$(cell callgrind mosquitto ir_per_msg); s=$(cell callgrind sluice ir_per_msg)
    echo "| Ir per delivered message | $(fmt "$m" 0) | $(fmt "$s" 0) | $(ratio "$s" "$m") |"
  fi
  local lost_note=""
  for id in cost_fanin_q1 max_fanin_q1 max_pairs_q1 lat_fanin_q1 dur_fanin_q1 dur_pairs_q1; do
    for b in "${ACTIVE[@]}"; do
      local l; l=$(losses "$id" "$b")
      (( l > 0 )) && lost_note+=" $id on $b lost $l QoS 1 messages;"
    done
  done
  if [[ -n $lost_note ]]; then echo; echo "**Lost messages:**$lost_note"; fi
}

# Paired ratio: KEY of broker A over broker B within each rep (they ran back to back),
# then the median over reps; drift of a shared machine between reps cancels in it.
pratio() {  # id A B key
  { grep -E "^$1 ($2|$3) " "$RESULTS" | grep -v -- ' failed=[1-9]' || true; } |
    awk -v a="$2" -v b="$3" -v k="$4" '{ v = ""; for (i = 4; i <= NF; i++) if (index($i, k "=") == 1) v = substr($i, length(k) + 2)
        if (v == "") next; if ($2 == a) x[$3] = v; else y[$3] = v }
      END { for (r in x) if ((r in y) && y[r] + 0 > 0 && x[r] + 0 > 0) print x[r] / y[r] }' | sort -g |
    awk '{a[NR]=$1} END { if (NR == 0) print "—"; else if (NR % 2) printf "%.2f", a[(NR+1)/2]; else printf "%.2f", (a[NR/2]+a[NR/2+1])/2 }'
}

# FlashMQ beside the other two (only when FLASHMQ was given and it ran): the same
# scenarios, the same load, paired ratios per rep.
report_flashmq() {
  have flashmq || return 0
  echo
  echo "#### FlashMQ beside Sluice and mosquitto ($("$FLASHMQ" --version 2>/dev/null | head -1 || echo FlashMQ), \`thread_count 1\`, \`tcp_nodelay true\`)"
  echo
  echo "Broker CPU µs per delivered message (fixed load; closed-loop rows: msg/s and the limit). Ratios are paired (per rep, then the median)."
  echo
  echo "| scenario | FlashMQ | Sluice | mosquitto | Sluice/FlashMQ | Sluice/mosquitto | limit F / S |"
  echo "|---|--:|--:|--:|--:|--:|--:|"
  local row id name key d
  for row in "cost_fanin_q0|fan-in 4→1 QoS 0, 100k msg/s, µs/msg|broker_us_per_msg|2" \
             "cost_fanin_q1|fan-in 4→1 QoS 1, 30k msg/s, µs/msg|broker_us_per_msg|2" \
             "cost_fanout_q0|fan-out 1→100 QoS 0, 100k deliveries/s, µs/msg|broker_us_per_msg|2" \
             "cost_fanin_q0_50k|fan-in 4→1 QoS 0, 50k msg/s, µs/msg|broker_us_per_msg|2" \
             "cost_fanin_q0_200k|fan-in 4→1 QoS 0, 200k msg/s, µs/msg|broker_us_per_msg|2" \
             "cost_fanin_q0_400k|fan-in 4→1 QoS 0, 400k msg/s, µs/msg|broker_us_per_msg|2" \
             "cost_fanin_q1_60k|fan-in 4→1 QoS 1, 60k msg/s, µs/msg|broker_us_per_msg|2" \
             "cost_fanout_q1|fan-out 1→100 QoS 1, 100k deliveries/s, µs/msg|broker_us_per_msg|2" \
             "max_fanin_q0|fan-in 4→1 QoS 0, closed loop, msg/s|rate|0" \
             "max_fanin_q1|fan-in 4→1 QoS 1, closed loop, msg/s|rate|0" \
             "max_fanout_q0|fan-out 1→100 QoS 0, closed loop, deliveries/s|rate|0" \
             "max_pairs_q1|10 pairs QoS 1, closed loop, msg/s|rate|0" \
             "lat_fanin_q0|fan-in QoS 0 at 5,000 msg/s, p99 µs|p99_us|0" \
             "lat_fanin_q1|fan-in QoS 1 at 5,000 msg/s, p99 µs|p99_us|0" \
             "conns|RSS per idle connection, bytes|rss_per_conn_bytes|0" \
             "callgrind|instructions per delivered message (CALLGRIND=1)|ir_per_msg|0"; do
    IFS='|' read -r id name key d <<<"$row"
    selected "$id" || continue
    [[ $id == callgrind && $CALLGRIND != 1 ]] && continue
    local lim="—"
    [[ $id == max_* ]] && lim="$(limit "$id" flashmq) / $(limit "$id" sluice)"
    echo "| $name | $(fmt "$(cell "$id" flashmq "$key")" "$d") | $(fmt "$(cell "$id" sluice "$key")" "$d") |" \
         "$(fmt "$(cell "$id" mosquitto "$key")" "$d") | $(pratio "$id" sluice flashmq "$key") | $(pratio "$id" sluice mosquitto "$key") | $lim |"
  done
}

{ report; report_flashmq; } | tee ${OUT:+"$OUT"}
