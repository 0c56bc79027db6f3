#!/usr/bin/env bash
# Runs the property tests of tests/properties.rs (the fuzz targets) with many cases for
# a bounded time. Usage: scripts/fuzz.sh [SECONDS] [CASES]   (default 300 s, 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
cases=${2:-200000}
PROPTEST_CASES=$cases timeout --foreground "$seconds" \
  cargo test --release --test properties -- --test-threads=2 \
  || { code=$?; [ "$code" -eq 124 ] && echo "fuzz: time limit reached without a failure"; exit $(( code == 124 ? 0 : code )); }
