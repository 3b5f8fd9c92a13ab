#!/usr/bin/env bash
# Issue 19: the broker's instructions per routed message with one outflow rule that
# matches every message, against the same load with no rule (goal: <= 1.3x).
# Signature mode, fan-in 4 -> 1, QoS 0 and QoS 1; the rule's target is a webhook on a
# local receiver (bench/rules_receiver.py: 204 to every POST, keep-alive). Callgrind
# counts every thread of the server: the loops, the rule's worker (JSON, base64, HTTP),
# and the broker store's writer (QoS 1 entries are recorded until delivered).
#
#   bench/callgrind_rules.sh [SLUICE_BINARY]     (default: build/sluice)
#
# As bench/callgrind_auth.sh: two runs of different lengths per case, the difference
# cancels start-up and shutdown: Ir/msg = (Ir_long - Ir_short) / (delivered_long - delivered_short).
set -uo pipefail
# The receivers run on loopback, which rules reach only when the operator allows it.
export SLUICE_RULES_ALLOWED_TARGET_NETWORKS=${SLUICE_RULES_ALLOWED_TARGET_NETWORKS:-127.0.0.0/8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/build/sluice-bench}
MSGS=${MSGS:-10000}; RATE=${RATE:-1000}
BIN=${1:-$ROOT/build/sluice}
log() { echo "callgrind_rules: $*" >&2; }
die() { log "$*"; exit 1; }
[[ -x $BENCH ]] || die "build first: make build"
command -v valgrind >/dev/null || die "needs valgrind"
TMP=$(mktemp -d /tmp/sluice-cgr.XXXXXX)
BPID= RPID=
cleanup() { [[ -n $BPID ]] && kill "$BPID" 2>/dev/null; [[ -n $RPID ]] && kill "$RPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

RPORT=$(free_port)
/usr/bin/python3 "$ROOT/bench/rules_receiver.py" "$RPORT" &
RPID=$!
DATA=$TMP/data
make_bench_tenant "$BIN" "$DATA"
cp -a "$DATA" "$TMP/norule"
"$BIN" admin --data-dir "$DATA" rules --account bench --instance "$INST" create --name all --type outflow \
  --source 'bench/#' --target-type webhook --target-config "{\"Url\":\"http://127.0.0.1:$RPORT/hook\"}" >/dev/null ||
  die "rule not created"
cp -a "$DATA" "$TMP/rule"

run() {  # template qos msgs -> prints "IR DELIVERED"
  local tpl=$1 qos=$2 n=$3 out=$TMP/cg.out port dir=$TMP/run
  port=$(free_port)
  rm -rf "$out" "$dir"
  cp -a "$TMP/$tpl" "$dir"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" serve --threads 1 --host 127.0.0.1 \
    --mqtt-port "$port" --http-port=-1 --log-level warn --data-dir "$dir" >/dev/null 2>&1 &
  BPID=$!
  wait_port "$port" "$BPID" 60 || die "$BIN did not start"
  local line
  line=$("$BENCH" fanin --pubs 4 --qos "$qos" --rate "$RATE" --count "$n" --duration 120 --port "$port" --quiet \
         -u "Signature|$AK|$INST" --sign-secret "$SK" --client-id-prefix GID_bench@@@ --topic-prefix bench/s |
         grep '^RESULT ')
  sleep 2  # the rule's worker delivers its backlog before the server stops
  kill "$BPID"; wait "$BPID" 2>/dev/null; BPID=
  # The rule's worker (RuleRunner::run) and the broker store's writer and syncer, inclusive:
  # the rest is the broker's own threads (event loops, main).
  local ann worker store
  ann=$(callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null)
  worker=$(grep -E 'RuleRunner::run\(\)' <<<"$ann" | head -1 | awk '{gsub(",","",$1); print $1+0}')
  local srun ssync
  srun=$(grep -E 'BrokerStore::run\(\)' <<<"$ann" | head -1 | awk '{gsub(",","",$1); print $1+0}')
  ssync=$(grep -E 'BrokerStore::sync_loop\(\)' <<<"$ann" | head -1 | awk '{gsub(",","",$1); print $1+0}')
  store=$(( ${srun:-0} + ${ssync:-0} ))
  echo "$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}') $(grep -oE ' delivered=[0-9]+' <<<"$line" | cut -d= -f2) ${worker:-0} ${store:-0}"
}

echo "| QoS | Ir/msg no rule (all threads) | one outflow rule: all threads | ratio | broker threads only (loops, main) | ratio | rule worker (webhook) | store writer |"
echo "|--:|--:|--:|--:|--:|--:|--:|--:|"
for qos in 0 1; do
  declare -A ir=() br=() wk=() st=()
  for tpl in norule rule; do
    read -r i1 d1 w1 s1 < <(run "$tpl" "$qos" $(( MSGS / 5 )))
    read -r i2 d2 w2 s2 < <(run "$tpl" "$qos" "$MSGS")
    if [[ -n $i1 && -n $i2 && -n $d1 && -n $d2 ]] && (( d2 > d1 && i2 > i1 )); then
      local_d=$(( d2 - d1 ))
      ir[$tpl]=$(( (i2 - i1) / local_d ))
      wk[$tpl]=$(( (w2 - w1) / local_d ))
      st[$tpl]=$(( (s2 - s1) / local_d ))
      br[$tpl]=$(( ir[$tpl] - wk[$tpl] - st[$tpl] ))
    else
      ir[$tpl]=nan; br[$tpl]=nan; wk[$tpl]=nan; st[$tpl]=nan; log "$tpl qos $qos failed ($i1 $d1 / $i2 $d2)"
    fi
    log "qos $qos $tpl: ${ir[$tpl]} Ir/msg (broker ${br[$tpl]}, worker ${wk[$tpl]}, store ${st[$tpl]})"
  done
  ratio() { awk -v a="$1" -v s="$2" 'BEGIN { if (a+0 == 0) print "n/a"; else printf "%.3f", s/a }'; }
  echo "| $qos | ${ir[norule]} | ${ir[rule]} | $(ratio "${ir[norule]}" "${ir[rule]}") | ${br[norule]} → ${br[rule]} | $(ratio "${br[norule]}" "${br[rule]}") | ${wk[rule]} | ${st[norule]} → ${st[rule]} |"
done
