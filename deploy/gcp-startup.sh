#!/usr/bin/env bash
# Startup script for the ssh-chatroom VM made by deploy/gcp.sh (Debian 12, runs as root
# at every boot; output in `gcloud compute instances get-serial-port-output NAME` and
# `journalctl -u google-startup-scripts`). It installs once, on the first boot
# (when /usr/local/bin/ssh-chatroom is missing); later boots only log and exit, the
# service is started by systemd itself.
#
# Everything it needs comes from the instance metadata, set by gcp.sh:
#   ssh-chatroom-binary-url  URL of a Linux x86_64 release binary, or empty
#   ssh-chatroom-source      base64 of a .tar.xz of the repository (used without a URL:
#                            the binary is built here with cargo)
#   ssh-chatroom-unit        deploy/ssh-chatroom.service
#   ssh-chatroom-logrotate   deploy/logrotate
#   ssh-chatroom-config      deploy/ssh-chatroom.toml (optional)
set -euo pipefail

BIN=/usr/local/bin/ssh-chatroom
# Startup scripts may run without HOME; rustup and cargo need it.
export HOME=/root

# Prints instance metadata attribute $1; fails if it is not set.
md() {
  curl -fsS -H 'Metadata-Flavor: Google' \
    "http://metadata.google.internal/computeMetadata/v1/instance/attributes/$1"
}

if [ -x "$BIN" ]; then
  echo "ssh-chatroom: already installed ($BIN), nothing to do"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

url=$(md ssh-chatroom-binary-url 2>/dev/null || true)
if [ -n "$url" ]; then
  echo "ssh-chatroom: downloading $url"
  curl -fsSL --retry 5 -o "$work/ssh-chatroom" "$url"
  install -m 0755 "$work/ssh-chatroom" "$BIN"
else
  echo "ssh-chatroom: building from source with cargo"
  apt-get update -q
  apt-get install -y -q build-essential curl ca-certificates xz-utils
  # e2-micro has 1 GB of memory: rustc needs swap to link the release build.
  if ! swapon --show=NAME --noheadings | grep -q .; then
    fallocate -l 2G /swapfile
    chmod 600 /swapfile
    mkswap /swapfile
    swapon /swapfile
    echo '/swapfile none swap sw 0 0' >>/etc/fstab
  fi
  curl -fsSL --proto '=https' --tlsv1.2 https://sh.rustup.rs \
    | sh -s -- -y --profile minimal --default-toolchain stable
  mkdir -p "$work/src"
  md ssh-chatroom-source | base64 -d | tar -xJ -C "$work/src"
  (cd "$work/src" && CARGO_BUILD_JOBS=1 "$HOME/.cargo/bin/cargo" build --release --locked --bin ssh-chatroom)
  install -m 0755 "$work/src/target/release/ssh-chatroom" "$BIN"
fi

install -d -m 0755 /etc/ssh-chatroom
md ssh-chatroom-unit >/etc/systemd/system/ssh-chatroom.service
md ssh-chatroom-logrotate >/etc/logrotate.d/ssh-chatroom
if [ ! -e /etc/ssh-chatroom/ssh-chatroom.toml ] \
  && md ssh-chatroom-config >"$work/ssh-chatroom.toml" 2>/dev/null; then
  install -m 0644 "$work/ssh-chatroom.toml" /etc/ssh-chatroom/ssh-chatroom.toml
fi
# authorized_keys-format list of admin keys; empty = the first participant is admin.
[ -e /etc/ssh-chatroom/admins ] || install -m 0644 /dev/null /etc/ssh-chatroom/admins

systemctl daemon-reload
systemctl enable --now ssh-chatroom.service
sleep 2
journalctl -u ssh-chatroom.service --no-pager -n 20 || true
echo "ssh-chatroom: installed and started"
