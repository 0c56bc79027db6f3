#!/usr/bin/env bash
# The cost of moderation to a chat line and a connection with BANS bans on the list
# (issue 19): a fresh lone server of SERVER_BINARY whose data/bans.json holds BANS server
# bans (random keys and addresses, none on the bench's users), then `bench fanout` for a
# 10-user room (5 lines/s) or a 1,000-user room (50 lines/s), and `bench connect` (200
# setups, 20 in flight). A build without bans ignores the file. Usage (after
# `cargo build --release`):
#   scripts/bans-bench.sh [SERVER_BINARY] [BANS] [USERS]
# Run it alternately against two builds to compare them. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/ssh-chatroom}")
bans=${2:-10000}
users=${3:-10}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

python3 - "$work/bans.json" "$bans" <<'PY'
import base64, json, os, sys
path, n = sys.argv[1], int(sys.argv[2])
bans = []
for i in range(n):
    key = "SHA256:" + base64.b64encode(os.urandom(32)).decode().rstrip("=")
    ip = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
    bans.append({"name": f"troll{i}", "key": key, "ip": ip, "until": None,
                 "reason": "spam", "by": "root"})
json.dump(bans, open(path, "w"))
PY
# shellcheck source=scripts/lone-server.sh
. scripts/lone-server.sh
lone_server "$bin" "$work" "$work/key"
case $users in
  10) room=(--users 10 --senders 10 --messages 300 --rate 5 --threads 1) ;;
  *) room=(--users "$users" --senders 50 --messages 1500 --rate 50 --drain-timeout 30) ;;
esac
target/release/bench fanout --addr "$addr" "${room[@]}" --server-pid "$pid" |
  grep -E 'latency|CPU|missing|steal'
target/release/bench connect --addr "$addr" --sessions 200 --concurrency 20 \
  --server-pid "$pid" | grep -E 'setup|sessions/s|steal'
