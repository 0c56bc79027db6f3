# shellcheck shell=bash
# Sourced by the bench scripts: `lone_server BINARY DIR KEY` starts a lone ssh-chatroom
# of BINARY on a free port of 127.0.0.1 with the limits off (as BENCHMARKS.md runs it),
# its logs and data in DIR and its host key at KEY, and waits until it listens; sets
# `pid` and `addr` (`wait_listening` alone does the waiting for any server that prints
# `listening on ADDR` to DIR/out).

lone_server() {
  "$1" --listen 127.0.0.1:0 --capacity 20000 --message-rate 0 --max-conns-per-ip 0 \
    --max-handshakes 0 --max-rooms 2000 --no-user-logs --log-dir "$2" --data-dir "$2" \
    --host-key "$3" --timezone UTC >"$2/out" 2>/dev/null &
  # shellcheck disable=SC2034 # for the caller
  pid=$!
  wait_listening "$2"
}

wait_listening() {
  for _ in $(seq 300); do grep -q 'listening on' "$1/out" && break; sleep 0.1; done
  # shellcheck disable=SC2034 # for the caller
  addr=$(grep -o 'listening on [0-9.]*:[0-9]*' "$1/out" | grep -o '[0-9.]*:[0-9]*$')
}
