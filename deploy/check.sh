#!/usr/bin/env bash
# Static checks of the deployment files; installs nothing. Needs systemd-analyze
# (systemd), shellcheck, logrotate and git; hadolint is used if present.
# Run from anywhere: deploy/check.sh. Exits non-zero if any check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

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

# 1. The unit, byte for byte, in a scratch root where its ExecStart/ExecReload
#    binaries exist (verify refuses a unit whose commands are missing) and the
#    system's own units (targets) are present. verify exits 0 on unknown keys or bad
#    values, only warning: any output counts as a failure.
root=$tmp/root
mkdir -p "$root/etc/systemd/system" "$root/usr/local/bin" "$root/usr/bin" "$root/usr/lib/systemd"
ln -s usr/bin "$root/bin"
cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp /bin/true "$root/usr/local/bin/ssh-chatroom"
cp /bin/true "$root/usr/bin/kill"
cp deploy/ssh-chatroom.service "$root/etc/systemd/system/"
check "systemd-analyze verify deploy/ssh-chatroom.service" \
  systemd-analyze verify --man=no --root="$root" ssh-chatroom.service

# 2. Its sandboxing: exposure at most 2.0 (the threshold is in tenths).
if systemd-analyze security --offline=yes --threshold=20 deploy/ssh-chatroom.service \
  >"$tmp/sec" 2>&1; then
  pass "systemd-analyze security: $(grep -o 'exposure level.*' "$tmp/sec")"
else
  cp "$tmp/sec" "$tmp/out"
  fail "systemd-analyze security: exposure over 2.0"
fi

# 3. Shell scripts.
check "shellcheck deploy/*.sh .ci/run" shellcheck deploy/*.sh .ci/run

# 4. logrotate rules (debug mode: parses and plans, touches nothing).
if logrotate -d -s "$tmp/logrotate.state" deploy/logrotate >"$tmp/out" 2>&1 \
  && ! grep -q '^error:' "$tmp/out"; then
  pass "logrotate -d deploy/logrotate"
else
  fail "logrotate -d deploy/logrotate"
fi

# 5. gcp.sh --dry-run prints the three gcloud commands and ships the current files.
if deploy/gcp.sh --dry-run --project example-project --source-range 203.0.113.0/24 \
  >"$tmp/out" 2>&1; then
  meta=$(sed -n 's/^# dry run: the metadata files are kept in \(.*\) for inspection$/\1/p' "$tmp/out")
  if grep -q '^gcloud compute firewall-rules create ssh-chatroom-tcp-9999 .*--rules tcp:9999 .*--source-ranges 203.0.113.0/24' "$tmp/out" \
    && grep -q '^gcloud compute instances create ssh-chatroom .*--machine-type e2-micro .*--image-family debian-12 --image-project debian-cloud' "$tmp/out" \
    && [ -n "$meta" ] && cmp -s "$meta/startup-script" deploy/gcp-startup.sh \
    && cmp -s "$meta/ssh-chatroom-unit" deploy/ssh-chatroom.service \
    && base64 -d "$meta/ssh-chatroom-source" | tar -tz | grep -x Cargo.lock >/dev/null; then
    pass "deploy/gcp.sh --dry-run"
  else
    fail "deploy/gcp.sh --dry-run"
  fi
  [ -n "$meta" ] && rm -rf "$meta"
else
  fail "deploy/gcp.sh --dry-run"
fi

# 6. Dockerfile lint, when hadolint is installed (it is not a Debian package).
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
