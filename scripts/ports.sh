# Sourced by the scripts that start throwaway servers (nats.sh, cluster.sh).
# free_port: a loopback TCP port nobody listens on and not yet handed out in
# "$dir/ports" (the caller appends what it takes), so several picked in a row
# differ before any of them is bound.
free_port() {
  local p
  for _ in $(seq 200); do
    p=$(( 20000 + RANDOM % 12000 ))
    ss -Htan "sport = :$p" 2>/dev/null | grep -q . || grep -qx "$p" "$dir/ports" 2>/dev/null || { echo "$p"; return; }
  done
  echo "$(basename "$0"): no free port" >&2; exit 1
}
