# Shared by the bench scripts (sourced): free loopback ports, waiting for a
# listener, and the Signature-mode tenant they benchmark against. Expects log()
# and die() to be defined by the script.

port_in_use() { ss -Htan "sport = :$1" 2>/dev/null | grep -q .; }
free_port() { local p; for _ in $(seq 200); do p=$(( 20000 + RANDOM % 12000 )); port_in_use "$p" || { echo "$p"; return; }; done; die "no free port"; }
# wait_port PORT PID [SECONDS]: the port accepts, or the process died / time ran out.
wait_port() { local deadline=$(( SECONDS + ${3:-10} )); while (( SECONDS < deadline )); do
  kill -0 "$2" 2>/dev/null || return 1; (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# make_bench_tenant SLUICE DATA_DIR: an account with the service, an instance with topic
# "bench" and group GID_bench, and a root access key; sets INST, AK, SK.
make_bench_tenant() {
  local A=("$1" admin --data-dir "$2") key
  "${A[@]}" account create --login bench@example.com --alias bench --password password-123 >/dev/null || die "account"
  "${A[@]}" service activate --account bench >/dev/null
  INST=$("${A[@]}" instance create --account bench --name bench)
  "${A[@]}" topic create --account bench --instance "$INST" --topic bench >/dev/null
  "${A[@]}" mq-group create --account bench --instance "$INST" --group GID_bench >/dev/null
  key=$("${A[@]}" key create --account bench)
  AK=$(sed -n 's/^AccessKeyId: *//p' <<<"$key"); SK=$(sed -n 's/^AccessKeySecret: *//p' <<<"$key")
  [[ -n $AK && -n $SK ]] || die "no access key: $key"
}
