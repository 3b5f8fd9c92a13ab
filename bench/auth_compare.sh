#!/usr/bin/env bash
# The price of authentication and authorization (issue 4), Sluice against Debian's
# mosquitto with its password file and ACL file, side by side on this machine.
#
#   bench/auth_compare.sh [OUT.md]    ~4 min; markdown table to stdout (and OUT.md)
#
# Four brokers, alternating (A B C D A B C D ...) so drift in machine load hits all alike,
# each on core $BROKER_CPU with one thread, the load tool on core $LOAD_CPU:
#   mosquitto-acl   password_file (mosquitto_passwd, sha512-pbkdf2) + acl_file, anonymous off
#   sluice-anon     --allow-anonymous (the same build, no checks): the 5 % baseline
#   sluice-sig      authentication required; ApsaraMQ Signature mode with a root access key
#                   (HMAC-SHA1 of each client id, constant-time compare, mq:MqttInstanceAccess
#                   on CONNECT, mq:PUB / mq:SUB policy decisions per topic, the strict
#                   <GroupId>@@@<DeviceId> and parent-topic rules)
#   flashmq-acl     only when FLASHMQ=path/to/flashmq is given (bench/peers/flashmq.sh builds
#                   one; CI does not need it): FlashMQ reading the same mosquitto password
#                   and ACL files, thread_count 1, tcp_nodelay true
#   floor           build/sluice-null-broker: Sluice's system calls per message and no broker
#                   logic at all (bench/floor/null_broker.cpp), the floor of an epoll broker
#                   on loopback TCP on this machine; floor / mosquitto is the best ratio any
#                   such broker could show
# Figures: broker CPU µs per delivered message, fan-in 4→1 QoS 0 at each of $RATES msg/s
# (the same offered load for all); with ISSUE20=1 also QoS 1 fan-in at 30k and 60k msg/s and
# fan-out 1→100 at 100k deliveries/s, QoS 0 and 1 (issue 20's rows); CONNECT+CONNACK+
# DISCONNECT cycles/s, 8 in flight, each CONNECT with its own credentials. Medians of $REPS.
# BROKERS="sluice-sig flashmq-acl" runs only those (default: all of them).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/build/sluice-bench}
SLUICE=${SLUICE:-$ROOT/build/sluice}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
FLOOR=${FLOOR:-$ROOT/build/sluice-null-broker}
FLASHMQ=${FLASHMQ:-}
REPS=${REPS:-3}; DURATION=${DURATION:-5}; WARMUP=${WARMUP:-2}; RATES=${RATES:-30000 100000}
BROKER_CPU=${BROKER_CPU:-0}; LOAD_CPU=${LOAD_CPU:-1}
OUT=${1:-}
log() { echo "auth_compare: $*" >&2; }
die() { log "$*"; exit 1; }
[[ -x $BENCH && -x $SLUICE && -x $FLOOR ]] || die "build first: make build"
[[ -x $MOSQUITTO ]] || die "no mosquitto at $MOSQUITTO"
[[ -z $FLASHMQ || -x $FLASHMQ ]] || die "FLASHMQ=$FLASHMQ is not an executable (bench/peers/flashmq.sh builds one)"
command -v mosquitto_passwd >/dev/null || die "mosquitto_passwd missing (apt-get install mosquitto)"

TMP=$(mktemp -d /tmp/sluice-auth.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.5
            for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

# --- Sluice's data: an account, the service, an instance with topic "bench" and group GID_bench
DATA=$TMP/sluice-data
make_bench_tenant "$SLUICE" "$DATA"

# --- mosquitto's password file and ACL
mosquitto_passwd -b -c "$TMP/passwd" bench benchpw 2>/dev/null || die "mosquitto_passwd"
printf 'user bench\ntopic readwrite bench/#\n' >"$TMP/acl"

start() {  # name -> BPID BPORT
  BPORT=$(free_port)
  case $1 in
    mosquitto-acl)
      cat >"$TMP/m.conf" <<EOF
user $(id -un)
listener $BPORT 127.0.0.1
allow_anonymous false
password_file $TMP/passwd
acl_file $TMP/acl
persistence false
set_tcp_nodelay true
max_queued_messages 0
log_dest none
EOF
      taskset -c "$BROKER_CPU" "$MOSQUITTO" -c "$TMP/m.conf" >/dev/null 2>&1 & ;;
    flashmq-acl)
      cat >"$TMP/f.conf" <<EOF
thread_count 1
allow_anonymous false
mosquitto_password_file $TMP/passwd
mosquitto_acl_file $TMP/acl
log_file $TMP/flashmq.log
log_level warning
rlimit_nofile $(ulimit -Hn)
max_qos_msg_pending_per_client 65535
listen {
  protocol mqtt
  port $BPORT
  inet4_bind_address 127.0.0.1
  tcp_nodelay true
}
EOF
      taskset -c "$BROKER_CPU" "$FLASHMQ" --config-file "$TMP/f.conf" >/dev/null 2>&1 & ;;
    sluice-anon)
      taskset -c "$BROKER_CPU" "$SLUICE" serve --allow-anonymous --threads 1 --host 127.0.0.1 --mqtt-port "$BPORT" \
        --http-port=-1 --log-level warn --data-dir "$TMP/anon-data" >/dev/null 2>&1 & ;;
    sluice-sig)
      taskset -c "$BROKER_CPU" "$SLUICE" serve --threads 1 --host 127.0.0.1 --mqtt-port "$BPORT" \
        --http-port=-1 --log-level warn --data-dir "$DATA" >/dev/null 2>&1 & ;;
    floor)
      taskset -c "$BROKER_CPU" "$FLOOR" "$BPORT" >/dev/null 2>&1 & ;;
  esac
  BPID=$!; PIDS+=("$BPID")
  wait_port "$BPORT" "$BPID" || die "$1 did not start"
}
stop() { kill "$1" 2>/dev/null; for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done; kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

creds() {  # broker -> load-tool credential arguments
  case $1 in
    mosquitto-acl) echo "-u bench -P benchpw --topic-prefix bench/m" ;;
    flashmq-acl) echo "-u bench -P benchpw --topic-prefix bench/q" ;;
    sluice-anon) echo "--topic-prefix bench/a" ;;
    sluice-sig) echo "-u Signature|$AK|$INST --sign-secret $SK --client-id-prefix GID_bench@@@ --topic-prefix bench/s" ;;
    floor) echo "--topic-prefix bench/f" ;;
  esac
}

# Scenarios: key|what the row says|load-tool arguments.
SCEN=()
for rate in $RATES; do SCEN+=("cost$rate|fan-in 4→1 QoS 0 at $rate msg/s|fanin --pubs 4 --qos 0 --rate $rate"); done
if [[ ${ISSUE20:-0} == 1 ]]; then
  SCEN+=("q1_30k|fan-in 4→1 QoS 1 at 30,000 msg/s|fanin --pubs 4 --qos 1 --rate 30000"
         "q1_60k|fan-in 4→1 QoS 1 at 60,000 msg/s|fanin --pubs 4 --qos 1 --rate 60000"
         "fanout_q0|fan-out 1→100 QoS 0 at 100,000 deliveries/s|fanout --subs 100 --qos 0 --rate 1000"
         "fanout_q1|fan-out 1→100 QoS 1 at 100,000 deliveries/s|fanout --subs 100 --qos 1 --rate 1000")
fi
RES=$TMP/results
: >"$RES"
if [[ -n ${BROKERS:-} ]]; then read -ra BROKERS <<<"$BROKERS"
else BROKERS=(mosquitto-acl sluice-anon sluice-sig floor); [[ -n $FLASHMQ ]] && BROKERS+=(flashmq-acl); fi
for rep in $(seq "$REPS"); do
  for b in "${BROKERS[@]}"; do
    start "$b"
    for sc in "${SCEN[@]}"; do
      IFS='|' read -r key _ args <<<"$sc"
      # shellcheck disable=SC2046,SC2086
      line=$(taskset -c "$LOAD_CPU" "$BENCH" $args -d "$DURATION" --warmup "$WARMUP" \
             --port "$BPORT" --broker-pid "$BPID" --quiet $(creds "$b") 2>&1 | grep '^RESULT' | tail -1)
      us=$(grep -oE 'broker_us_per_msg=[0-9.]+' <<<"$line" | cut -d= -f2)
      lost=$(grep -oE 'lost=[0-9]+' <<<"$line" | cut -d= -f2)
      echo "$key $b $rep ${us:-nan} ${lost:-?}" >>"$RES"
      log "$key $b #$rep: ${us:-failed} us/msg lost=${lost:-?}"
    done
    # shellcheck disable=SC2046
    line=$(taskset -c "$LOAD_CPU" "$BENCH" connrate -d 4 --port "$BPORT" --broker-pid "$BPID" --quiet $(creds "$b") 2>&1 | grep '^RESULT' | tail -1)
    rate=$(grep -oE ' rate=[0-9.]+' <<<"$line" | cut -d= -f2)
    echo "connrate $b $rep ${rate:-nan}" >>"$RES"
    log "connrate $b #$rep: ${rate:-failed}/s ($line)"
    stop "$BPID"
  done
done

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else print a[int((NR+1)/2)]}'; }
med() { awk -v k="$1" -v b="$2" '$1==k && $2==b {print $4}' "$RES" | median; }
all() { awk -v k="$1" -v b="$2" '$1==k && $2==b {printf "%s%s", s, $4; s=" / "}' "$RES"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 == 0 || b+0 == 0) print "n/a"; else printf "%.2f", a/b }'; }
# Paired: the ratio within each rep (the brokers ran back to back, within ~30 s), then the
# median of those. Drift in the machine's load between reps (a shared host) cancels here,
# where a median of each broker's own figures can pick reps from different load levels.
pratio() {  # key brokerA brokerB
  awk -v k="$1" -v a="$2" -v b="$3" '$1==k && $2==a {x[$3]=$4} $1==k && $2==b {y[$3]=$4}
    END { for (r in x) if ((r in y) && y[r]+0 > 0) print x[r]/y[r] }' "$RES" | median | awk '{ if ($1 == "nan") print "n/a"; else printf "%.2f", $1 }'
}
rm_=$(med connrate mosquitto-acl); ra=$(med connrate sluice-anon); rs=$(med connrate sluice-sig)
{
  echo "\`bench/auth_compare.sh\` — $(date -u +%F), commit $(git -C "$ROOT" rev-parse --short HEAD), medians of $REPS, load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| figure | mosquitto (password + ACL file) | Sluice anonymous | Sluice Signature mode | null broker (floor) | Sluice sig / anon | Sluice sig / mosquitto | floor / mosquitto |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|"
  for sc in "${SCEN[@]}"; do
    IFS='|' read -r k what _ <<<"$sc"
    cm=$(med "$k" mosquitto-acl); ca=$(med "$k" sluice-anon); cs=$(med "$k" sluice-sig); cf=$(med "$k" floor)
    echo "| broker CPU µs per delivered message, $what ($(all "$k" mosquitto-acl) · $(all "$k" sluice-anon) · $(all "$k" sluice-sig) · $(all "$k" floor)) | $cm | $ca | $cs | $cf | $(ratio "$cs" "$ca") | $(ratio "$cs" "$cm") | $(ratio "$cf" "$cm") |"
  done
  rf=$(med connrate floor)
  echo "| CONNECT + CONNACK + DISCONNECT per second, 8 in flight, own credentials each ($(all connrate mosquitto-acl) · $(all connrate sluice-anon) · $(all connrate sluice-sig) · $(all connrate floor)) | $rm_ | $ra | $rs | $rf | $(ratio "$rs" "$ra") | $(ratio "$rs" "$rm_") | $(ratio "$rf" "$rm_") |"
  echo
  echo "Paired ratios (per rep, then the median of the $REPS):"
  echo
  for sc in "${SCEN[@]}"; do
    IFS='|' read -r k what _ <<<"$sc"
    echo "- $what: Sluice sig / anon $(pratio "$k" sluice-sig sluice-anon), Sluice sig / mosquitto $(pratio "$k" sluice-sig mosquitto-acl), floor / mosquitto $(pratio "$k" floor mosquitto-acl)$(
      [[ -n $FLASHMQ ]] && echo ", FlashMQ (password + ACL file) $(med "$k" flashmq-acl) µs ($(all "$k" flashmq-acl)), Sluice sig / FlashMQ $(pratio "$k" sluice-sig flashmq-acl)")"
  done
  echo "- connects: Sluice sig / mosquitto $(pratio connrate sluice-sig mosquitto-acl)$(
    [[ -n $FLASHMQ ]] && echo ", FlashMQ $(med connrate flashmq-acl)/s, Sluice sig / FlashMQ $(pratio connrate sluice-sig flashmq-acl)")"
} | tee ${OUT:+"$OUT"}
