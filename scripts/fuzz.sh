#!/usr/bin/env bash
# Runs the property tests of tests/properties.rs (the fuzz targets: input decoder and
# line editor, command parser, schedule times, nicknames, log encoding) with many cases
# for a bounded time. Usage: scripts/fuzz.sh [SECONDS] [CASES]   (default 300 s, 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
cases=${2:-200000}
# Build first, so the time limit is spent fuzzing, not compiling.
cargo test --release --test properties --no-run
status=0
PROPTEST_CASES=$cases timeout --foreground "$seconds" \
  cargo test --release --test properties -- --test-threads=2 || status=$?
if [ "$status" -eq 124 ]; then
  echo "fuzz: time limit of ${seconds}s reached without a failure"
  exit 0
fi
exit "$status"
