#!/usr/bin/env bash
# Installs what Sluice needs to build and test on Debian 12, only what is missing.
# Runs as root (as `make run` / `make test` do on a fresh machine); otherwise it
# only reports what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  # toolchain
  build-essential cmake ninja-build ccache clang pkg-config libclang-rt-14-dev
  # libraries
  libboost1.81-dev libboost-json1.81-dev libssl-dev libsqlite3-dev libargon2-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev
  # the cluster (issue #17): NATS with JetStream carries messages between nodes
  libnats-dev nats-server
  # the control store on PostgreSQL (several nodes, one store): the client library
  libpq-dev
  # the QR code of a virtual MFA device (issue 21): the API draws it
  libqrencode-dev
  # io_uring: an event loop writes many sockets in one system call (issue 20)
  liburing-dev
  # real peers and clients for tests and benchmarks
  mosquitto mosquitto-clients python3 python3-paho-mqtt openssl nodejs
  # HTTP load for the management API benchmarks (bench/api/run.sh)
  wrk
  # a throwaway PostgreSQL server for the tests of the PostgreSQL backend (scripts/pg.sh)
  postgresql
  # a real browser for the console tests (driven by playwright-core)
  chromium
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: missing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: not root; install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm is bundled with nodesource's nodejs; Debian's nodejs needs the npm package.
if ! command -v npm >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then apt-get install -y -qq npm; fi
fi

# Node packages for client-compatibility tests (and later the console).
for dir in tests/node console; do
  if [[ -f $dir/package-lock.json && ! -d $dir/node_modules ]]; then
    echo "install-deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
