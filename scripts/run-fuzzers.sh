#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, on its committed corpus.
# New inputs go to a scratch dir so the committed corpus changes only on purpose.
set -euo pipefail
build=${1:-build-san}
secs=${2:-60}
cd "$(dirname "$0")/.."
status=0
for bin in "$build"/*_fuzz; do
  [[ -x $bin ]] || continue
  name=$(basename "$bin")
  corpus=fuzz/corpus/${name%_fuzz}
  scratch=$(mktemp -d)
  mkdir -p "$corpus"
  echo "fuzz: $name for ${secs}s (corpus $corpus)"
  if ! "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix=fuzz/ -print_final_stats=1 "$scratch" "$corpus" 2>"$scratch.log"; then
    tail -50 "$scratch.log"; status=1
  else
    grep -E "stat::number_of_executed_units|Done " "$scratch.log" | tail -2
  fi
  rm -rf "$scratch" "$scratch.log"
done
exit $status
