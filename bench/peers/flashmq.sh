#!/usr/bin/env bash
# Builds FlashMQ (https://github.com/halfgaar/FlashMQ) from a source checkout OUTSIDE
# this tree with its own CMake, for bench/compare.sh and bench/auth_compare.sh
# (FLASHMQ=path). Never vendored, never needed by CI.
#
#   bench/peers/flashmq.sh SRC_DIR [BUILD_DIR]    prints the path of the built binary
#
# SRC_DIR: a FlashMQ checkout, e.g. `git clone https://github.com/halfgaar/FlashMQ /tmp/flashmq-src`
# or `git --git-dir=<mirror> archive HEAD | tar -x -C /tmp/flashmq-src`.
# BUILD_DIR defaults to /tmp/flashmq-build. Needs cmake, a C++20 compiler and libssl-dev.
# Builds through /tmp/sluice-build.lock (shared with Sluice builds), niced, -j2, Release.
set -euo pipefail
SRC=${1:?usage: bench/peers/flashmq.sh SRC_DIR [BUILD_DIR]}
BUILD=${2:-/tmp/flashmq-build}
SRC=$(cd "$SRC" && pwd)
[[ -f $SRC/CMakeLists.txt && -f $SRC/threadloop.cpp ]] || { echo "flashmq.sh: $SRC is not a FlashMQ checkout" >&2; exit 1; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case $BUILD/ in "$ROOT"/*) echo "flashmq.sh: build outside the Sluice tree ($ROOT)" >&2; exit 1 ;; esac
mkdir -p "$BUILD"
# Release as its own build.sh does; no ccache launcher (its objects are not Sluice's).
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$BUILD/cmake.log" 2>&1 ||
  { tail -20 "$BUILD/cmake.log" >&2; exit 1; }
flock /tmp/sluice-build.lock nice cmake --build "$BUILD" -j2 --target flashmq >"$BUILD/build.log" 2>&1 ||
  { tail -20 "$BUILD/build.log" >&2; exit 1; }
[[ -x $BUILD/flashmq ]] || { echo "flashmq.sh: no binary at $BUILD/flashmq" >&2; exit 1; }
echo "$BUILD/flashmq"
