#!/usr/bin/env bash
# A 10-user room over three nodes of a cluster (one nats-server with JetStream, three
# node processes of SERVER_BINARY on this machine): `bench fanout`'s latency and the
# nodes' CPU per delivery. Usage (after `cargo build --release`; nats-server on PATH):
#   scripts/cluster-bench.sh [SERVER_BINARY] [MESSAGES]
# Run it alternately against two builds to compare them. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/ssh-chatroom}")
messages=${2:-300}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

nats-server -a 127.0.0.1 -p -1 -js -sd "$work/js" --ports_file_dir "$work" >/dev/null 2>&1 &
nats_pid=$!
for _ in $(seq 100); do ls "$work"/*.ports >/dev/null 2>&1 && break; sleep 0.1; done
nats=$(grep -o 'nats://[^"]*' "$work"/*.ports | head -1)

addrs=
pids=
for i in 1 2 3; do
  mkdir -p "$work/n$i"
  "$bin" --cluster "$nats" --node-name "n$i" --listen "127.0.0.1:0" --capacity 100 \
    --message-rate 0 --max-conns-per-ip 0 --max-handshakes 0 --no-user-logs \
    --log-dir "$work/n$i" --data-dir "$work/n$i" --host-key "$work/key" \
    --timezone UTC >"$work/n$i/out" 2>/dev/null &
  pids="$pids${pids:+,}$!"
  for _ in $(seq 300); do grep -q 'listening on' "$work/n$i/out" && break; sleep 0.1; done
  port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$work/n$i/out" | grep -o '[0-9]*$')
  addrs="$addrs${addrs:+,}127.0.0.1:$port"
done
# NATS's own CPU (user + system ticks of 10 ms) over the run, beside the nodes'.
nats_ticks() { awk '{ print $14 + $15 }' "/proc/$nats_pid/stat"; }
before=$(nats_ticks)
target/release/bench fanout --addr "$addrs" --users 10 --senders 10 \
  --messages "$messages" --rate 5 --threads 1 --server-pid "$pids" |
  grep -E 'latency|CPU|missing|lost'
ticks=$(( $(nats_ticks) - before ))
awk -v t="$ticks" -v n="$messages" \
  'BEGIN { printf "  nats-server CPU: %.2f s = %.2f us per delivery\n", t / 100, t * 10000 / (n * 10) }'
