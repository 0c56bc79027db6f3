#!/usr/bin/env bash
# ssh-chatroom against the floor of its stack (issue 21): the same `bench` runs against a
# fresh lone server of SERVER_BINARY and against `bench floor` (a bare russh relay), one
# after the other, so both see the same machine. Runs: the 10-user room at 5 lines/s,
# the 1,000-user room at 50 lines/s, 1,000 rooms of 10 at one line per room per second
# (the floor relays within each room entered by name), 1,000 setups with 20 in flight (curve25519, what
# OpenSSH 9 negotiates) and RSS per idle session at SESSIONS. Each server is fresh for
# each run (RSS per session is only meaningful on a fresh process). Prints one JSON line
# per run, prefixed by `floor` or `ours`. Usage (after `cargo build --release`):
#   scripts/floor-bench.sh [SERVER_BINARY] [SESSIONS] [RUNS...]
# RUNS: any of room10 room1000 rooms1000 setup idle (default: all but rooms1000). See
# BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/ssh-chatroom}")
sessions=${2:-10000}
shift 2 2>/dev/null || shift $#
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(room10 room1000 setup idle)
bench=target/release/bench
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

# shellcheck source=scripts/lone-server.sh
. scripts/lone-server.sh

# Starts SIDE (floor or ours) on a free port; sets $addr and $pid.
start() {
  rm -rf "$work/s" && mkdir -p "$work/s"
  if [ "$1" = floor ]; then
    "$bench" floor --listen 127.0.0.1:0 >"$work/s/out" 2>/dev/null &
    pid=$!
    wait_listening "$work/s"
  else
    lone_server "$bin" "$work/s" "$work/key"
  fi
}

stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

for run in "${runs[@]}"; do
  for side in floor ours; do
    start "$side"
    case $run in
      room10) args=(fanout --users 10 --senders 10 --messages 300 --rate 5 --threads 1) ;;
      room1000) args=(fanout --users 1000 --senders 50 --messages 1500 --rate 50
        --drain-timeout 30) ;;
      rooms1000) args=(fanout --users 10000 --rooms 1000 --senders 1000 --messages 60000
        --rate 1000 --connect-concurrency 50 --drain-timeout 30) ;;
      setup) args=(connect --sessions 1000 --concurrency 20 --kex curve25519) ;;
      idle) args=(connect --sessions "$sessions" --concurrency 100 --settle 5
        --welcome-timeout 120) ;;
      *) echo "unknown run $run" >&2; exit 2 ;;
    esac
    echo -n "$side $run "
    "$bench" "${args[@]}" --addr "$addr" --server-pid "$pid" | tail -1
    stop
  done
done
