#!/usr/bin/env bash
# A throwaway NATS cluster with JetStream (Debian's nats-server) for tests and
# local clusters: N servers (default 3) routed to each other on free loopback
# ports, each with its own JetStream store under DIR.
#
#   scripts/nats.sh start DIR [N]    starts them; prints the client URLs, comma-separated
#   scripts/nats.sh stop DIR         stops them (immediately) and removes DIR
#   scripts/nats.sh kill DIR I       kill -9 server I (1-based), keeping its store (a crash)
#   scripts/nats.sh start-one DIR I  starts server I again with its old ports and store
set -euo pipefail
BIN=${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}
[[ -x $BIN ]] || { echo "nats.sh: no nats-server (apt-get install nats-server)" >&2; exit 1; }
cmd=${1:-}; dir=${2:-}
[[ -n $cmd && -n $dir ]] || { echo "usage: $0 start|stop|kill|start-one DIR [N|I]" >&2; exit 2; }

# shellcheck source=scripts/ports.sh
source "$(dirname "$0")/ports.sh"

start_one() {  # I: server index, config already written
  local i=$1
  "$BIN" -c "$dir/n$i.conf" >"$dir/n$i.log" 2>&1 &
  echo $! >"$dir/n$i.pid"
}

# Until every server has a route to every other and JetStream has a meta leader:
# before that a publish can miss interest on another server, or a stream not be made.
wait_formed() {  # N
  python3 - "$dir" "$1" <<'PY' || { echo "nats.sh: the cluster did not form" >&2; tail -5 "$dir"/n*.log >&2; return 1; }
import json, sys, time, urllib.request
d, n = sys.argv[1], int(sys.argv[2])
ports = open(f"{d}/http_ports").read().split()[:n]
def get(p, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{p}{path}", timeout=2) as r:
        return json.load(r)
deadline = time.time() + 30
while time.time() < deadline:
    try:
        routed = all(len({r.get("remote_id") for r in get(p, "/routez").get("routes") or []}) >= n - 1 for p in ports)
        leader = n == 1 or all((get(p, "/jsz").get("meta_cluster") or {}).get("leader") for p in ports)
        if routed and leader:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
}

wait_up() {  # I
  local i=$1 port
  port=$(sed -n "${i}p" "$dir/client_ports")
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nats.sh: server $i did not start:" >&2; tail -20 "$dir/n$i.log" >&2; return 1
}

case $cmd in
  start)
    n=${3:-3}
    mkdir -p "$dir"; : >"$dir/ports"; : >"$dir/client_ports"; : >"$dir/route_ports"; : >"$dir/http_ports"
    for i in $(seq "$n"); do
      c=$(free_port); echo "$c" >>"$dir/ports"; echo "$c" >>"$dir/client_ports"
      r=$(free_port); echo "$r" >>"$dir/ports"; echo "$r" >>"$dir/route_ports"
      m=$(free_port); echo "$m" >>"$dir/ports"; echo "$m" >>"$dir/http_ports"
    done
    routes=""
    for r in $(cat "$dir/route_ports"); do routes+="nats-route://127.0.0.1:$r,"; done
    for i in $(seq "$n"); do
      c=$(sed -n "${i}p" "$dir/client_ports"); r=$(sed -n "${i}p" "$dir/route_ports")
      m=$(sed -n "${i}p" "$dir/http_ports")
      mkdir -p "$dir/js$i"
      {
        echo "server_name: n$i"
        echo "listen: 127.0.0.1:$c"
        echo "http: 127.0.0.1:$m"
        echo "max_control_line: 8KB"
        echo "max_payload: 8MB"
        echo "jetstream { store_dir: \"$dir/js$i\", max_memory_store: 256MB, max_file_store: 4GB }"
        if (( n > 1 )); then
          echo "cluster { name: sluice, listen: 127.0.0.1:$r, routes: [${routes%,}] }"
        fi
      } >"$dir/n$i.conf"
      start_one "$i"
    done
    for i in $(seq "$n"); do wait_up "$i"; done
    wait_formed "$n"
    urls=""
    for c in $(cat "$dir/client_ports"); do urls+="nats://127.0.0.1:$c,"; done
    echo "${urls%,}"
    ;;
  kill)
    i=${3:?server index}
    kill -9 "$(cat "$dir/n$i.pid")" 2>/dev/null || true
    ;;
  start-one)
    i=${3:?server index}
    start_one "$i"; wait_up "$i"
    ;;
  stop)
    for f in "$dir"/n*.pid; do [[ -f $f ]] && kill -9 "$(cat "$f")" 2>/dev/null || true; done
    sleep 0.2
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop|kill|start-one DIR [N|I]" >&2; exit 2 ;;
esac
