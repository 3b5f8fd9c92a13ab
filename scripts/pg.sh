#!/usr/bin/env bash
# A throwaway PostgreSQL (Debian's postgresql package) for tests and local
# clusters: its own data directory, a free loopback port, a `sluice` role with a
# random password and a `sluice` database. initdb refuses to run as root, so as
# root the server runs as the `postgres` user.
#
#   scripts/pg.sh start DIR [PORT]   starts it; prints a libpq conninfo on stdout
#   scripts/pg.sh stop DIR           stops it (immediately) and removes DIR
#   scripts/pg.sh restart DIR        stops and starts it again on the same port (data kept)
#   scripts/pg.sh kill DIR           stops it immediately, keeping DIR (a crash)
#   scripts/pg.sh psql DIR [ARGS]    psql as the sluice role (e.g. -c 'SELECT 1')
# PG_WATCH_PID=PID with start: a watchdog stops the server and removes DIR
# once process PID is gone (a test binary that crashed leaves nothing behind).
set -euo pipefail
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x ${BIN:-}/initdb ]] || { echo "pg.sh: no PostgreSQL server (apt-get install postgresql)" >&2; exit 1; }
cmd=${1:-}; dir=${2:-}
[[ -n $cmd && -n $dir ]] || { echo "usage: $0 start|stop|restart|kill DIR [PORT]" >&2; exit 2; }

as_owner() {  # run as the user that owns the cluster
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
free_port() {
  local p
  for _ in $(seq 200); do
    p=$(( 20000 + RANDOM % 12000 ))
    ss -Htan "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
  done
  echo "pg.sh: no free port" >&2; exit 1
}
pg_start() {  # dir port
  as_owner "$BIN/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
    -o "-p $2 -k $1 -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200" start >/dev/null
}

case $cmd in
  start)
    port=${3:-$(free_port)}
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir" && chmod 0700 "$dir"
    pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    printf '%s\n' "$pw" >"$dir/pwfile"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir/pwfile"
    as_owner "$BIN/initdb" -D "$dir/data" -U postgres -A scram-sha-256 --pwfile="$dir/pwfile" -E UTF8 \
      --locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    pg_start "$dir" "$port"
    PGPASSWORD=$pw "$BIN/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE sluice LOGIN PASSWORD '$pw'" -c "CREATE DATABASE sluice OWNER sluice" >/dev/null
    if [[ -n ${PG_WATCH_PID:-} ]]; then
      self=$(readlink -f "$0")
      ( trap '' HUP; while kill -0 "$PG_WATCH_PID" 2>/dev/null && [[ -d $dir ]]; do sleep 1; done
        [[ -d $dir ]] && "$self" stop "$dir" ) </dev/null >/dev/null 2>&1 &
      disown || true
    fi
    echo "host=127.0.0.1 port=$port dbname=sluice user=sluice password=$pw connect_timeout=5"
    ;;
  psql)
    shift 2
    PGPASSWORD=$(cat "$dir/pwfile") "$BIN/psql" -q -h 127.0.0.1 -p "$(cat "$dir/port")" -U sluice -d sluice \
      -v ON_ERROR_STOP=1 "$@"
    ;;
  restart)
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    pg_start "$dir" "$(cat "$dir/port")"
    ;;
  kill)
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    ;;
  stop)
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop|restart|kill DIR [PORT]" >&2; exit 2 ;;
esac
