#!/usr/bin/env bash
# One client typing as fast as it can (a real `ssh -tt` fed `abcdefgh` + Ctrl-U without
# end) against a server: the server's CPU share while flooded, and a 10-user room's
# latency measured by `bench fanout` meanwhile. Usage (after `cargo build --release`):
#   scripts/flood-bench.sh [SERVER_BINARY] [PORT]     # flooded, then the same unflooded
# See BENCHMARKS.md for the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/ssh-chatroom}
port=${2:-7300}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
ssh-keygen -q -t ed25519 -N '' -f "$work/flooder"

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() {
  local flood=$1 pid flooder=
  "$bin" --listen "127.0.0.1:$port" --capacity 20000 --message-rate 0 \
    --max-conns-per-ip 0 --max-handshakes 0 --no-user-logs --log-dir "$work" \
    --data-dir "$work" --host-key "$work/key" --timezone UTC >/dev/null 2>&1 &
  pid=$!
  sleep 1
  if [ "$flood" = 1 ]; then
    python3 -c '
import sys
keys = b"abcdefgh\x15" * 1000
try:
    while True:
        sys.stdout.buffer.write(keys)
except BrokenPipeError:
    pass' | ssh -tt -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
      -o LogLevel=ERROR -i "$work/flooder" flooder@127.0.0.1 >/dev/null &
    flooder=$!
    sleep 2
  fi
  local c0 t0 c1 t1
  c0=$(cpu "$pid"); t0=$(date +%s%N)
  target/release/bench fanout --addr "127.0.0.1:$port" --users 10 --senders 10 \
    --messages 100 --rate 5 --threads 1 | grep -E 'latency'
  c1=$(cpu "$pid"); t1=$(date +%s%N)
  echo "  server CPU: $(( (c1 - c0) * 10 )) ms in $(( (t1 - t0) / 1000000 )) ms" \
    "= $(( (c1 - c0) * 10 * 1000 / ((t1 - t0) / 1000000) / 10 )).$(( (c1 - c0) * 10 * 1000 / ((t1 - t0) / 1000000) % 10 )) % of a core"
  [ -n "$flooder" ] && kill "$flooder" 2>/dev/null
  kill "$pid"; wait "$pid" 2>/dev/null || true
  port=$((port + 1))
}

echo "flooded:"; run 1
echo "not flooded:"; run 0
